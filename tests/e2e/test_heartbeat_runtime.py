"""The heartbeat as the runtime wires it: the kiosk's Device on the real sandbox, what it says during an
outage, the sync worker woken when the back-end answers again, and "inactive" after a clean stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from checkin_driver import check_in
from tcp_proxy import TcpProxy
from test_outage_day import SteppingClock, outage_settings, poll

from kiosk.flow.results import Done
from kiosk.runtime.build import Runtime, build_runtime
from portal_client.heartbeat import EXT_BASE
from portal_client.sandbox.crowd import crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox


def device(base_url: str, kiosk_id: str = "lobby-1") -> dict[str, Any] | None:
    bundle = httpx.get(f"{base_url}/Device", params={"identifier": f"urn:open-checkin-kiosk:device|{kiosk_id}"}).json()
    entries = bundle.get("entry", [])
    assert len(entries) <= 1  # one Device per kiosk, updated in place
    return entries[0]["resource"] if entries else None


def facts(resource: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {e["url"].removeprefix(EXT_BASE): next(v for k, v in e.items() if k != "url")
                           for e in resource.get("extension", [])}  # fmt: skip
    for prop in resource["property"]:
        value = prop.get("valueQuantity", prop.get("valueCode"))[0]
        out[prop["type"]["coding"][0]["code"]] = value.get("value", value.get("coding", [{}])[0].get("code"))
    out["status"] = resource["status"]
    return out


@pytest.fixture
def runtime(sandbox_seed: SeedInfo, kiosk_proxy: TcpProxy, tmp_path: Path) -> Iterator[Runtime]:
    settings = outage_settings(kiosk_proxy, tmp_path, sync={"enabled": False}, offline={"prefetch": False})
    runtime = build_runtime(settings, clock=SteppingClock(sandbox_seed.now))
    yield runtime
    runtime.stop()


def test_the_device_tells_the_monitor_about_an_outage_and_the_back_end_return_wakes_the_sync(
    runtime: Runtime, kiosk_proxy: TcpProxy, sandbox_seed: SeedInfo
) -> None:
    base = sandbox_seed.base_url
    assert runtime.heartbeat.beat()
    before = facts(device(base))  # type: ignore[arg-type]
    assert before["status"] == "active" and before["outbox-depth"] == 0 and before["kiosk-status"] == "ok"
    assert before["health-payment"] == "ok" and before["health-printer"] == "disabled"

    (p,) = crowd(1, sandbox_seed.now)
    seed_crowd(base, [p])
    assert isinstance(check_in(runtime.flow, p), Done)  # stored; the sync thread is not running yet
    kiosk_proxy.cut()
    assert runtime.sync.drain_once(force=False).retried == 1
    assert not runtime.heartbeat.beat() and not runtime.sync.state.online

    kiosk_proxy.restore()
    assert runtime.heartbeat.beat()
    assert runtime.sync.state.online and runtime.sync._force  # the worker will skip its backoff
    during = facts(device(base))  # type: ignore[arg-type]
    assert during["outbox-depth"] == 1 and during["last-sync-error"] == "backend_unavailable"
    runtime.sync.start()
    poll(lambda: runtime.outbox.counts().depth == 0, "the woken sync worker")
    assert runtime.heartbeat.beat()
    after = facts(device(base))  # type: ignore[arg-type]
    assert after["outbox-depth"] == 0 and "last-successful-sync" in after and "last-sync-error" not in after


def test_runtime_start_beats_and_a_clean_stop_says_inactive(
    sandbox_seed: SeedInfo, kiosk_proxy: TcpProxy, tmp_path: Path
) -> None:
    settings = outage_settings(kiosk_proxy, tmp_path, sync={"enabled": False}, offline={"prefetch": False},
                               kiosk={"id": "lobby-9"})  # fmt: skip
    runtime = build_runtime(settings, clock=SteppingClock(sandbox_seed.now))
    runtime.start()
    try:
        poll(lambda: device(sandbox_seed.base_url, "lobby-9") is not None, "the first heartbeat")
        assert runtime.heartbeat.running
    finally:
        runtime.stop()
    assert device(sandbox_seed.base_url, "lobby-9")["status"] == "inactive"  # type: ignore[index]
