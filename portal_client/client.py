"""A thin typed wrapper over one ``httpx.Client`` speaking FHIR R4 JSON (DESIGN §5).

Timeouts everywhere; status codes and OperationOutcomes map to ``portal_client.errors``. The transport is
injectable (``httpx.MockTransport`` in unit tests); integration tests use the real sandbox server.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from .errors import (
    AuthError,
    BackendError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    NotFound,
    PreconditionFailed,
)

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO; a URL can hold a search for a name or a birth date. Searches go in
# POST bodies (below), and the transport loggers stay quiet unless something is wrong (DESIGN §9).
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# httpx logs every request URL at INFO, query string included ("Patient?family=…&birthdate=…"): personal
# data in the journal (DESIGN §9). Our own log lines name the method and resource type only.
logging.getLogger("httpx").setLevel(logging.WARNING)

FHIR_JSON = "application/fhir+json"
Resource = dict[str, Any]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _outcome(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome" else None


class FhirClient:
    """FHIR R4 over HTTP. One instance per process (creating an httpx.Client costs ~36 ms)."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        cert: str | tuple[str, str] | None = None,  # deprecated by httpx: use auth.tls_context() as verify
        user_agent: str = "open-checkin-kiosk",
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            verify=verify,
            cert=cert,
            headers={"Accept": FHIR_JSON, "User-Agent": user_agent},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level -------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        what = f"{method} {path.split('?', 1)[0].split('/', 1)[0] or '/'}"
        send_headers = dict(headers or {})
        if json is not None:
            send_headers.setdefault("Content-Type", FHIR_JSON)
        started = time.monotonic()
        try:
            response = self._http.request(method, path, params=params, json=json, data=data, headers=send_headers)
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"{what}: no answer in time ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"{what}: cannot reach the back-end ({type(exc).__name__})") from None
        elapsed_ms = (time.monotonic() - started) * 1000
        log.debug("%s -> %s in %.0f ms", what, response.status_code, elapsed_ms)
        self._raise_for_status(what, response)
        return response

    @staticmethod
    def _raise_for_status(what: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        kwargs: dict[str, Any] = {
            "status": status,
            "outcome": _outcome(response),
            "retry_after": _retry_after(response),
        }
        message = f"{what}: HTTP {status}"
        if status in (401, 403):
            raise AuthError(message, **kwargs)
        if status == 412:
            raise PreconditionFailed(message, **kwargs)
        if status in (404, 410):
            raise NotFound(message, **kwargs)
        if status in (408, 429) or status >= 500:
            raise BackendUnavailable(message, **kwargs)
        if 400 <= status < 500:
            raise BackendRejected(message, **kwargs)
        raise BackendError(message, **kwargs)  # pragma: no cover

    # -- FHIR interactions -----------------------------------------------------------------------------
    def read(self, resource_type: str, resource_id: str) -> Resource:
        data: Resource = self.request("GET", f"{resource_type}/{resource_id}").json()
        return data

    def search(self, resource_type: str, params: Mapping[str, Any]) -> Resource:
        """One page of a search: the searchset Bundle.

        Sent as ``POST [type]/_search`` with a form body (FHIR R4 §3.1.0.1.4), so search values such as a
        family name or a birth date never appear in URLs, proxy logs or server access logs.
        """
        data: Resource = self.request("POST", f"{resource_type}/_search", data=params).json()
        return data

    def search_all(self, resource_type: str, params: Mapping[str, Any], limit: int = 500) -> Iterator[Resource]:
        """Every matching resource (``entry.search.mode == "match"``), following ``next`` links."""
        bundle = self.search(resource_type, params)
        seen = 0
        while True:
            for entry in bundle.get("entry", []):
                if entry.get("search", {}).get("mode", "match") != "match":
                    continue
                resource = entry.get("resource")
                if resource:
                    seen += 1
                    yield resource
                    if seen >= limit:
                        return
            next_url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)
            if not next_url:
                return
            bundle = self.request("GET", next_url).json()

    def create(self, resource: Resource, *, if_none_exist: str | None = None) -> Resource:
        headers = {"If-None-Exist": if_none_exist} if if_none_exist else None
        data: Resource = self.request("POST", resource["resourceType"], json=resource, headers=headers).json()
        return data

    def update(self, resource: Resource, *, if_match: str | None = None) -> Resource:
        headers = {"If-Match": if_match} if if_match else None
        path = f"{resource['resourceType']}/{resource['id']}"
        data: Resource = self.request("PUT", path, json=resource, headers=headers).json()
        return data

    def transaction(self, bundle: Resource) -> Resource:
        """POST a transaction (or batch) Bundle to the base; returns the response Bundle."""
        data: Resource = self.request("POST", "", json=bundle).json()
        return data


def version_etag(resource: Mapping[str, Any]) -> str | None:
    """The quoted weak ETag for If-Match (Medplum ignores an unquoted one)."""
    version = resource.get("meta", {}).get("versionId")
    return f'W/"{version}"' if version else None


__all__ = ["FhirClient", "version_etag", "BackendRejected", "Resource"]
