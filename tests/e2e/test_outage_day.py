"""An outage day through the real runtime: offline prefetch on, sync and heartbeat threads running, and the
network to the FHIR sandbox cut for the middle third of a run of check-ins. Patients keep checking in
(from the encrypted day snapshot), and every check-in reaches the back-end exactly once after it returns."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from checkin_driver import check_in
from tcp_proxy import TcpProxy

from kiosk.flow.results import Done
from kiosk.runtime.build import Runtime, build_runtime
from kiosk.settings import DEFAULT_CONFIG, load_settings
from portal_client.sandbox.crowd import crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox

N = 15
CHECKIN_SYSTEM = "urn:open-checkin-kiosk:checkin"


class SteppingClock:
    """The practice's clock; the test moves it (20 s per patient), never the wall clock."""

    def __init__(self, now: datetime) -> None:
        self.t = now

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def poll(condition: Any, what: str, deadline: float = 60.0) -> None:
    """Wait for a real thread to do something, with a generous deadline (no assertion on time)."""
    give_up = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < give_up, f"gave up waiting for {what}"
        time.sleep(0.02)


def outage_settings(proxy: TcpProxy, tmp_path: Path, **extra: dict[str, Any]) -> Any:
    sections: dict[str, dict[str, Any]] = {
        "backend": {"base_url": f"http://127.0.0.1:{proxy.port}/fhir/R4", "timeout_s": 5},
        "kiosk": {"data_dir": str(tmp_path / "data")},
        "outbox": {"key_file": str(tmp_path / "keys" / "outbox.key")},
        "offline": {"prefetch": True},
        "sync": {"enabled": True, "max_backoff_s": 5},
        "devices": {"printer": {"enabled": False}},
    }
    for name, values in extra.items():
        sections.setdefault(name, {}).update(values)
    return load_settings(DEFAULT_CONFIG).with_overrides(**sections)


@pytest.fixture
def outage_runtime(sandbox_seed: SeedInfo, kiosk_proxy: TcpProxy, tmp_path: Path) -> Iterator[tuple[Runtime, Any]]:
    clock = SteppingClock(sandbox_seed.now)
    runtime = build_runtime(outage_settings(kiosk_proxy, tmp_path), clock=clock)
    yield runtime, clock
    runtime.stop()


def test_the_middle_third_of_the_day_without_a_back_end(
    outage_runtime: tuple[Runtime, SteppingClock], kiosk_proxy: TcpProxy, sandbox_seed: SeedInfo
) -> None:
    runtime, clock = outage_runtime
    patients = crowd(N, sandbox_seed.now)
    seed_crowd(sandbox_seed.base_url, patients)
    runtime.start()  # prefetch, sync and heartbeat threads
    cache = runtime.backend.day_cache.cache
    poll(lambda: cache.snapshot(sandbox_seed.now.date()) is not None, "the day's snapshot")
    assert len(cache.snapshot(sandbox_seed.now.date()).appointments) >= N

    backlog = 0
    for i, p in enumerate(patients):
        if i == N // 3:
            kiosk_proxy.cut()
        if i == 2 * N // 3:
            backlog = runtime.outbox.counts().depth
            assert not runtime.sync.state.online
            kiosk_proxy.restore()
        result = check_in(runtime.flow, p)
        assert isinstance(result, Done), f"patient {i} ({p.shape}): {result}"
        clock.advance(20)
    assert backlog >= N // 3  # everything checked in during the outage waited in the outbox
    assert runtime.directory.served_offline > 0

    runtime.sync.wake()
    poll(lambda: runtime.outbox.counts().depth == 0, "the outbox to drain")
    assert runtime.outbox.counts().dead == 0

    base = sandbox_seed.base_url
    with httpx.Client(base_url=base, timeout=30.0) as http:
        statuses = [http.get(f"/Appointment/{p.appointment_id}").json()["status"] for p in patients]
        encounters = http.get("/Encounter", params={"identifier": f"{CHECKIN_SYSTEM}|", "_count": "500"}).json()
    assert statuses == ["arrived"] * N
    subjects = Counter(e["resource"]["subject"]["reference"] for e in encounters.get("entry", []))
    assert subjects == Counter(f"Patient/{p.patient_id}" for p in patients)  # each exactly once
    # A patient changed their phone during the outage: applied on the server's current Patient, not a copy.
    changed = next(p for i, p in enumerate(patients) if N // 3 <= i < 2 * N // 3 and p.shape == "forms")
    with httpx.Client(base_url=base, timeout=30.0) as http:
        patient = http.get(f"/Patient/{changed.patient_id}").json()
    assert [t["value"] for t in patient["telecom"] if t["system"] == "phone"] == [f"(555) 600-{changed.index:04d}"]
    assert patient["identifier"][0]["value"].startswith("RFM-")  # what the minimal snapshot lacked is still there


def test_a_second_visit_to_the_kiosk_during_the_outage_is_already_checked_in(
    outage_runtime: tuple[Runtime, SteppingClock], kiosk_proxy: TcpProxy, sandbox_seed: SeedInfo
) -> None:
    runtime, clock = outage_runtime
    (p,) = crowd(1, sandbox_seed.now)
    seed_crowd(sandbox_seed.base_url, [p])
    runtime.backend.day_cache.tick()
    kiosk_proxy.cut()
    assert isinstance(check_in(runtime.flow, p), Done)
    clock.advance(20)
    result = check_in(runtime.flow, p)  # "did it work?": the kiosk knows, although the server does not yet
    assert getattr(result, "reason", "") == "already_checked_in"
    kiosk_proxy.restore()
    assert runtime.sync.drain_once().sent == 2
    with httpx.Client(base_url=sandbox_seed.base_url, timeout=30.0) as http:
        def found(rtype: str) -> list[dict[str, Any]]:
            bundle = http.get(f"/{rtype}", params={"subject": f"Patient/{p.patient_id}"}).json()
            return [e["resource"] for e in bundle.get("entry", [])]

        assert len(found("Encounter")) == 1  # one visit, one arrived Encounter
        (task,) = found("Task")  # and the desk knows the patient asked again
        assert task["businessStatus"]["coding"][0]["code"] == "already_checked_in"
