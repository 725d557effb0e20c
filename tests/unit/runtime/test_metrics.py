"""/metrics and /healthz on the real runtime (no back-end needed): scraped over HTTP on 127.0.0.1 and parsed
with prometheus-client's own parser; a token when one is configured; never open to the network without."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kiosk.flow.types import CheckinRecord, Money, Patient, PaymentResult, PaymentStatus
from kiosk.runtime.build import Runtime, build_runtime
from kiosk.runtime.metrics import MetricsServer
from kiosk.settings import DEFAULT_CONFIG, load_settings

NOW = datetime(2025, 3, 4, 10, 0, tzinfo=ZoneInfo("America/New_York"))


class Clock:
    def now(self) -> datetime:
        return NOW


def settings(tmp_path: Path, **metrics: Any) -> Any:
    return load_settings(DEFAULT_CONFIG).with_overrides(
        backend={"base_url": "http://127.0.0.1:9/fhir/R4", "timeout_s": 1},
        kiosk={"data_dir": str(tmp_path / "data")},
        outbox={"key_file": str(tmp_path / "keys" / "outbox.key")},
        sync={"enabled": False},
        heartbeat={"enabled": False},
        metrics={"enabled": True, "port": 0, **metrics},
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = build_runtime(settings(tmp_path), clock=Clock())
    rt.start()
    yield rt
    rt.stop()


def scrape(url: str, **kw: Any) -> dict[str, list[Any]]:
    response = httpx.get(url + "/metrics", **kw)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


def test_metrics_parse_and_follow_the_kiosk(runtime: Runtime) -> None:
    server = runtime.metrics
    assert server is not None and server.url.startswith("http://127.0.0.1:")
    patient = Patient("p1", "1", "Eleanor", "Whitfield", date(1948, 3, 9))
    paid = PaymentResult(PaymentStatus.APPROVED, Money(2500), "c1")
    runtime.counters.add(CheckinRecord("c1", "lobby-1", NOW, NOW, "en", patient, None, payment=paid))
    metrics = scrape(server.url)
    assert metrics["kiosk_info"][0].labels == {"kiosk": "lobby-1", "version": "0.1.0", "mode": "kiosk"}
    assert metrics["kiosk_checkins_today"][0].value == 1
    assert metrics["kiosk_payments_today_cents"][0].value == 2500
    assert metrics["kiosk_payments_today_cents"][0].labels == {"currency": "USD"}
    printer = {s.labels["status"]: s.value for s in metrics["kiosk_device_status"] if s.labels["kind"] == "printer"}
    assert printer == {"ok": 1.0, "degraded": 0.0, "fault": 0.0, "disabled": 0.0}
    assert {s.labels["state"]: s.value for s in metrics["kiosk_outbox_rows"]} == {"waiting": 0.0, "dead": 0.0}
    assert metrics["kiosk_session_in_use"][0].value == 0 and metrics["kiosk_disk_free_bytes"][0].value > 0
    health = httpx.get(server.url + "/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"

    runtime.devices.printer.set_paper(out=True)
    metrics = scrape(server.url)
    printer = {s.labels["status"]: s.value for s in metrics["kiosk_device_status"] if s.labels["kind"] == "printer"}
    assert printer["fault"] == 1.0 and printer["ok"] == 0.0
    health = httpx.get(server.url + "/healthz")
    assert health.status_code == 503 and health.json()["devices"]["printer"] == "fault"
    assert httpx.get(server.url + "/other").status_code == 404
    assert "Whitfield" not in httpx.get(server.url + "/metrics").text


def test_a_token_is_asked_for_when_configured(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t0ken-for-it\n")
    rt = build_runtime(settings(tmp_path, token_file=str(tmp_path / "token")), clock=Clock())
    rt.start()
    try:
        url = rt.metrics.url
        assert httpx.get(url + "/metrics").status_code == 401
        assert httpx.get(url + "/healthz", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert "kiosk_info" in scrape(url, headers={"Authorization": "Bearer t0ken-for-it"})
    finally:
        rt.stop()


def test_never_open_to_the_network_with_an_empty_token(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    rt = build_runtime(settings(tmp_path, host="0.0.0.0", token_file=str(tmp_path / "token")), clock=Clock())
    try:
        with pytest.raises(ValueError, match="token is empty"):
            MetricsServer.from_runtime(rt)
    finally:
        rt.stop()
