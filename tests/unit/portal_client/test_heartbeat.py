"""The heartbeat: the kiosk's Device resource (content, conditional update, failures, the thread)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from fhir.resources.R4B.device import Device
from sync_fakes import FakeClock

from portal_client.client import FhirClient
from portal_client.heartbeat import EXT_BASE, ComponentHealth, Heartbeat, SyncFigures, device_resource

BASE = "http://fhir.test/fhir/R4"
AT = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
HEALTH = [ComponentHealth("printer", "degraded", "paper_low"), ComponentHealth("payment", "ok"),
          ComponentHealth("camera", "disabled")]  # fmt: skip


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for prop in resource["property"]:
        code = prop["type"]["coding"][0]["code"]
        out[code] = prop.get("valueQuantity", prop.get("valueCode"))[0]
    return out


def _ext(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        e["url"].removeprefix(EXT_BASE): next(v for k, v in e.items() if k != "url") for e in resource["extension"]
    }


def test_device_resource_carries_status_health_outbox_sync_and_version() -> None:
    figures = SyncFigures(depth=3, dead=1, last_success=datetime(2025, 3, 12, 15, 29, tzinfo=UTC),
                          last_error="backend_unavailable")  # fmt: skip
    device = device_resource("lobby-1", "0.1.0", HEALTH, figures, AT)
    assert device["identifier"] == [{"system": "urn:open-checkin-kiosk:device", "value": "lobby-1"}]
    assert device["status"] == "active" and device["version"] == [{"value": "0.1.0"}]
    assert device["statusReason"][0]["coding"][0]["code"] == "online"
    props = _props(device)
    assert props["health-printer"] == {"coding": [{"system": "urn:open-checkin-kiosk:device-health",
                                                   "code": "degraded"}], "text": "paper_low"}  # fmt: skip
    assert props["health-camera"]["coding"][0]["code"] == "disabled"
    assert props["outbox-depth"]["value"] == 3 and props["dead-rows"]["value"] == 1
    ext = _ext(device)
    assert ext == {
        "heartbeat-at": "2025-03-12T15:30:00+00:00",
        "kiosk-status": "degraded",
        "last-successful-sync": "2025-03-12T15:29:00+00:00",
        "last-sync-error": "backend_unavailable",
    }
    Device.model_validate(device)  # a valid R4 Device (fhir.resources)


def test_fault_and_a_clean_stop() -> None:
    printer = ComponentHealth("printer", "fault", "out_of_paper")
    fault = device_resource("lobby-1", "0.1.0", [printer], SyncFigures(), AT)
    assert _ext(fault)["kiosk-status"] == "fault" and fault["statusReason"][0]["coding"][0]["code"] == "hw-discon"
    assert "last-successful-sync" not in _ext(fault)  # never synced yet
    off = device_resource("tab-2", "0.1.0", [], SyncFigures(), AT, active=False, mode="tablet")
    assert off["status"] == "inactive" and off["statusReason"][0]["coding"][0]["code"] == "off"
    assert off["type"]["text"] == "Patient check-in tablet"


class Server:
    def __init__(self, fail: int = 0) -> None:
        self.requests: list[httpx.Request] = []
        self.fail = fail

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            self.fail -= 1
            return httpx.Response(503, json={"resourceType": "OperationOutcome", "issue": []})
        return httpx.Response(200, json=json.loads(request.content))


def _heartbeat(server: Server, clock: FakeClock, **kw: Any) -> tuple[Heartbeat, list[tuple[bool, str | None]]]:
    contacts: list[tuple[bool, str | None]] = []
    client = FhirClient(BASE, transport=httpx.MockTransport(server.handle))
    hb = Heartbeat(client, kiosk_id="lobby 1/a", version="0.1.0", health=lambda: HEALTH,
                   figures=lambda: SyncFigures(depth=2), clock=clock,
                   on_contact=lambda ok, key: contacts.append((ok, key)), **kw)  # fmt: skip
    return hb, contacts


def test_beat_is_one_conditional_update_on_the_kiosk_identifier() -> None:
    server, clock = Server(), FakeClock()
    hb, contacts = _heartbeat(server, clock)
    assert hb.beat()
    (request,) = server.requests
    assert request.method == "PUT"
    assert request.url.path == "/fhir/R4/Device"
    assert request.url.params["identifier"] == "urn:open-checkin-kiosk:device|lobby 1/a"
    assert json.loads(request.content)["identifier"][0]["value"] == "lobby 1/a"
    assert hb.last_beat == clock.now() and hb.last_error is None and contacts == [(True, None)]


def test_a_failed_beat_is_reported_not_raised() -> None:
    server, clock = Server(fail=1), FakeClock()
    hb, contacts = _heartbeat(server, clock)
    assert not hb.beat()
    assert hb.last_error == "backend_unavailable" and hb.last_beat is None
    assert contacts == [(False, "backend_unavailable")]
    clock.advance(60)
    assert hb.beat() and contacts[-1] == (True, None)


def test_a_broken_health_source_still_beats() -> None:
    server, clock = Server(), FakeClock()
    client = FhirClient(BASE, transport=httpx.MockTransport(server.handle))

    def broken() -> list[ComponentHealth]:
        raise RuntimeError("driver crashed")

    hb = Heartbeat(client, kiosk_id="k", version="1", health=broken, figures=lambda: SyncFigures(), clock=clock)
    assert hb.beat()
    assert json.loads(server.requests[0].content)["property"][0]["type"]["coding"][0]["code"] == "outbox-depth"


def test_the_thread_beats_every_interval_without_waiting() -> None:
    server, clock = Server(), FakeClock()
    slept: list[float] = []
    hb: Heartbeat

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        if len(slept) == 3:
            hb._stop.set()

    hb, _ = _heartbeat(server, clock, interval=60.0, sleep=sleep)
    hb.start()
    hb._thread.join(10)  # type: ignore[union-attr]
    assert slept == [60.0] * 3 and len(server.requests) == 3
    stamps = [_ext(json.loads(r.content))["heartbeat-at"] for r in server.requests]
    assert len(set(stamps)) == 3  # one minute apart on the kiosk's clock
    hb.stop(farewell=True)
    assert json.loads(server.requests[-1].content)["status"] == "inactive"
