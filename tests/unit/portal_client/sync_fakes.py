"""Fakes for the sync tests: a clock that only moves when told (or when the worker "sleeps")."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime(2025, 3, 14, 14, 0, 0, tzinfo=UTC)
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


class FakeFhir:
    """A scripted FHIR server behind ``httpx.MockTransport``.

    ``script`` holds what to answer for the next transaction POSTs, in order: an int (an error status with
    an OperationOutcome), an ``httpx.Response``, an exception instance (raised as a transport error), or
    ``"ok"`` (a transaction-response with a made-up id per created entry). When the script runs out, every
    transaction succeeds. Reads are served from ``resources``; PUT entries with a stale ifMatch get 412.
    """

    def __init__(self, script: list[object] | None = None) -> None:
        self.script = list(script or [])
        self.resources: dict[str, dict[str, Any]] = {}
        self.transactions: list[dict[str, Any]] = []
        self.reads: list[str] = []
        self.auth_headers: list[str | None] = []
        self._ids = 0

    @staticmethod
    def outcome_response(status: int, diagnostics: str) -> httpx.Response:
        body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid",
                                                                "diagnostics": diagnostics}]}  # fmt: skip
        return httpx.Response(status, json=body)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.auth_headers.append(request.headers.get("Authorization"))
        path = request.url.path.split("/fhir/R4/", 1)[-1]
        if request.method == "GET":
            self.reads.append(path)
            found = self.resources.get(path)
            if found is None:
                return httpx.Response(404, json=_outcome("not-found"))
            return httpx.Response(200, json=found)
        bundle = json.loads(request.content)
        self.transactions.append(bundle)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        if isinstance(step, int):
            return httpx.Response(step, json=_outcome("exception" if step >= 500 else "invalid"))
        return self._apply(bundle)

    def _apply(self, bundle: dict[str, Any]) -> httpx.Response:
        for entry in bundle["entry"]:
            request = entry["request"]
            if request["method"] == "PUT":
                current = self.resources.get(request["url"])
                if current is not None and request.get("ifMatch") != f'W/"{current["meta"]["versionId"]}"':
                    return httpx.Response(412, json=_outcome("conflict"))
        out = []
        for entry in bundle["entry"]:
            request = entry["request"]
            resource = dict(entry["resource"])
            if request["method"] == "PUT":
                old = self.resources.get(request["url"], {"meta": {"versionId": "0"}})
                resource["meta"] = {"versionId": str(int(old["meta"]["versionId"]) + 1)}
                self.resources[request["url"]] = resource
                out.append({"response": {"status": "200 OK", "etag": f'W/"{resource["meta"]["versionId"]}"'}})
            else:
                self._ids += 1
                rid = f"{resource['resourceType'].lower()}-{self._ids}"
                out.append(
                    {
                        "response": {
                            "status": "201 Created",
                            "location": f"{resource['resourceType']}/{rid}/_history/1",
                        }
                    }
                )
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "transaction-response", "entry": out}
        )


def _outcome(code: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code}]}
