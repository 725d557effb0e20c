"""The monitor's reading of kiosks' Device resources, made by the heartbeat's own ``device_resource`` (the
format the kiosks write): online/offline, stopped, in use, every alert, and the worker with its callback."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from portal_client.client import FhirClient
from portal_client.heartbeat import ComponentHealth, SyncFigures, device_resource
from portal_client.monitor import FleetMonitor, Thresholds, read_kiosk

NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
OK = [ComponentHealth("printer", "ok"), ComponentHealth("smartcard", "ok"), ComponentHealth("session", "ok", "idle")]


NO_ROWS = SyncFigures()


def device(kiosk: str = "lobby-1", components: list[ComponentHealth] = OK, figures: SyncFigures = NO_ROWS,
           at: datetime = NOW, stored: datetime | None = None, **kw: Any) -> dict[str, Any]:  # fmt: skip
    resource = device_resource(kiosk, "0.1.0", components, figures, at, **kw)
    resource["meta"] = {"lastUpdated": (stored or at).isoformat().replace("+00:00", "Z")}
    return resource


def codes(view: Any) -> list[str]:
    return [a.code for a in view.alerts]


def test_a_healthy_idle_kiosk() -> None:
    view = read_kiosk(device(), NOW + timedelta(seconds=30))
    assert view is not None and view.online and not view.stopped and view.in_use is False
    assert view.kiosk_id == "lobby-1" and view.kind == "kiosk" and view.version == "0.1.0" and view.overall == "ok"
    assert view.devices == {"printer": ("ok", ""), "smartcard": ("ok", "")} and view.alerts == ()
    assert view.seconds_since_heartbeat == 30 and view.clock_skew_s == 0


def test_offline_after_two_minutes_and_stopped_after_a_clean_shutdown() -> None:
    assert read_kiosk(device(), NOW + timedelta(seconds=120)).online  # type: ignore[union-attr]
    late = read_kiosk(device(), NOW + timedelta(seconds=121))
    assert late is not None and not late.online and codes(late) == ["offline"] and late.alerts[0].detail == "121s"
    stopped = read_kiosk(device(active=False), NOW)
    assert stopped is not None and stopped.stopped and not stopped.online and codes(stopped) == ["stopped"]


def test_device_outbox_and_clock_alerts() -> None:
    components = [
        ComponentHealth("printer", "fault", "out_of_paper"),
        ComponentHealth("smartcard", "fault", "no_reader"),
        ComponentHealth("barcode", "degraded", "slow"),
        ComponentHealth("session", "ok", "in_use"),
    ]
    figures = SyncFigures(depth=12, dead=2, last_error="backend_unavailable")
    view = read_kiosk(device(components=components, figures=figures, stored=NOW - timedelta(minutes=5)), NOW)
    assert view is not None and view.in_use is True and view.overall == "fault"
    assert codes(view) == ["printer_out_of_paper", "reader_missing", "dead_rows", "barcode_degraded",
                           "outbox_backlog", "clock_skew", "sync_error"]  # fmt: skip
    assert {a.code: a.severity for a in view.alerts}["outbox_backlog"] == "warning"
    assert view.clock_skew_s == 300 and view.outbox_depth == 12 and view.dead_rows == 2
    offline_printer = read_kiosk(device(components=[ComponentHealth("printer", "fault", "offline")]), NOW)
    assert codes(offline_printer) == ["printer_offline"]
    low = read_kiosk(device(components=[ComponentHealth("printer", "degraded", "paper_low")]), NOW)
    assert [(a.code, a.severity) for a in low.alerts] == [("printer_paper_low", "warning")]  # type: ignore[union-attr]
    limits = Thresholds(outbox_backlog=20, clock_skew_s=600)
    assert (
        codes(read_kiosk(device(figures=SyncFigures(depth=12), stored=NOW - timedelta(minutes=5)), NOW, limits)) == []
    )


def test_tablets_and_devices_that_are_not_kiosks() -> None:
    tablet = read_kiosk(device("tablet-3", mode="tablet"), NOW)
    assert tablet is not None and tablet.kind == "tablet"
    assert read_kiosk({"resourceType": "Device", "identifier": [{"system": "urn:other", "value": "x"}]}, NOW) is None
    bare = read_kiosk({"resourceType": "Device", "identifier": [{"system": "urn:open-checkin-kiosk:device",
                                                                 "value": "old"}]}, NOW)  # fmt: skip
    assert bare is not None and not bare.online and codes(bare) == ["offline"] and bare.in_use is None


class Clock:
    def __init__(self, now: datetime) -> None:
        self.t = now

    def now(self) -> datetime:
        return self.t


def test_the_worker_refreshes_on_each_tick_and_keeps_the_last_kiosks_when_the_back_end_fails() -> None:
    resources = [device("lobby-2"), device("lobby-1", at=NOW - timedelta(minutes=3))]
    down = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if down.is_set():
            return httpx.Response(503)
        assert (
            request.url.path.endswith("/Device/_search") and b"urn%3Aopen-checkin-kiosk%3Adevice%7C" in request.content
        )
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset",
                                         "entry": [{"resource": r} for r in resources]})  # fmt: skip

    client = FhirClient("http://fhir.test/R4", transport=httpx.MockTransport(handler))
    # The interval is an hour: only refresh_now() (the test's "the interval passed") makes it read again.
    monitor = FleetMonitor(client, clock=Clock(NOW), refresh_s=3600)
    seen: queue.Queue[Any] = queue.Queue()
    monitor.subscribe(seen.put)
    monitor.start()
    try:
        first = seen.get(timeout=30)
        assert [k.kiosk_id for k in first.kiosks] == ["lobby-1", "lobby-2"] and first.online == 1 and first.alerts == 1
        assert seen.empty()
        down.set()
        monitor.refresh_now()
        second = seen.get(timeout=30)
        assert second.error == "backend_unavailable" and second.kiosks == first.kiosks
    finally:
        monitor.stop()
    assert not monitor.running and monitor.snapshot is second
