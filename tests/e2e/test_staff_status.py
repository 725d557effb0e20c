"""The status screen's model on the real runtime and the FHIR sandbox: staff actions need an unlocked staff
member and are audited (locally and as AuditEvents on the server), a printer fault shows and a reprint works
once paper is back, dead outbox rows can be retried and discarded, a stuck session is cancelled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from checkin_driver import answer, check_in
from test_outage_day import SteppingClock

from kiosk.flow.results import Done, Step
from kiosk.runtime.build import Runtime, build_runtime
from kiosk.settings import DEFAULT_CONFIG, load_settings
from kiosk.staff.audit import FILE_NAME
from portal_client.delivery import make_payload
from portal_client.sandbox.crowd import crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox
DEMO_PIN = "246810"  # config/demo-staff-pins.txt


def settings_for(base_url: str, tmp_path: Path, **extra: dict[str, Any]) -> Any:
    sections: dict[str, dict[str, Any]] = {
        "backend": {"base_url": base_url, "timeout_s": 5},
        "kiosk": {"data_dir": str(tmp_path / "data")},
        "outbox": {"key_file": str(tmp_path / "keys" / "outbox.key")},
        "sync": {"enabled": False},
        "heartbeat": {"enabled": False},
    }
    for name, values in extra.items():
        sections.setdefault(name, {}).update(values)
    return load_settings(DEFAULT_CONFIG).with_overrides(**sections)


@pytest.fixture
def runtime(sandbox_seed: SeedInfo, tmp_path: Path) -> Iterator[Runtime]:
    rt = build_runtime(settings_for(sandbox_seed.base_url, tmp_path), clock=SteppingClock(sandbox_seed.now))
    yield rt
    rt.stop()


def test_actions_need_staff_then_fault_reprint_counts_and_audit(runtime: Runtime, sandbox_seed: SeedInfo) -> None:
    status, printer = runtime.status, runtime.devices.printer
    assert status.test_print().key == "staff_locked" and status.sync_now().key == "staff_locked"
    assert not printer.tickets and not (runtime.settings.data_dir / FILE_NAME).exists()  # nothing done or written

    patients = crowd(3, sandbox_seed.now)
    seed_crowd(sandbox_seed.base_url, patients)
    results = [check_in(runtime.flow, p) for p in patients]
    assert all(isinstance(r, Done) for r in results)
    snap = status.snapshot()
    assert snap.today.checkins == 3 and snap.today.payments == 3 and snap.today.payments_cents == 2500 + 4000 + 12000
    assert snap.outbox.depth == 3 and snap.can_reprint and not snap.in_use and snap.staff is None
    assert {d.kind: d.status for d in snap.devices}["printer"] == "ok" and snap.disk.free_bytes > 0

    printer.set_paper(out=True)  # the fault the status screen must show
    faulty = status.snapshot()
    row = next(d for d in faulty.devices if d.kind == "printer")
    assert (row.status, row.detail) == ("fault", "out_of_paper") and "printer_fault" in faulty.alerts

    assert runtime.staff.unlock_pin(DEMO_PIN).ok
    assert status.reprint_last().detail == "out_of_paper"
    printer.set_paper(out=False)
    reprint = status.reprint_last()
    assert reprint.ok and printer.tickets[-1] == printer.tickets[-2]  # the same ticket again
    assert printer.tickets[-1].queue_number == results[-1].summary["queue_number"]
    assert status.test_print().ok and printer.tickets[-1].queue_number == "TEST"

    probe = status.probe_backend()
    assert probe.reachable and probe.latency_ms is not None and probe.latency_ms > 0
    assert status.sync_now().ok
    after = status.snapshot()
    # delivered: 3 check-ins and the audit rows so far; the "sync_now" AuditEvent itself waits for the next pass
    assert after.outbox.depth == 1 and after.outbox.last_success is not None and after.backend == probe

    lines = [json.loads(x) for x in (runtime.settings.data_dir / FILE_NAME).read_text().splitlines()]
    assert [x["action"] for x in lines] == ["unlock", "reprint_ticket", "reprint_ticket", "test_print", "sync_now"]
    assert {x["who"] for x in lines} == {"demo"} and lines[1]["outcome"] == "failure"
    # the sync delivered the check-ins and the AuditEvents queued so far
    events = httpx.get(f"{sandbox_seed.base_url}/AuditEvent", params={"_count": "50"}).json().get("entry", [])
    delivered = {e["resource"]["subtype"][0]["code"] for e in events}
    assert {"unlock", "reprint_ticket", "test_print"} <= delivered
    everything = json.dumps(lines) + json.dumps(events) + repr(after)
    for p in patients:
        assert p.family not in everything and p.given not in everything


def test_dead_rows_retry_discard_and_cancel_a_stuck_session(runtime: Runtime, sandbox_seed: SeedInfo) -> None:
    status, outbox = runtime.status, runtime.outbox
    bad = {"resourceType": "Bundle", "type": "transaction",
           "entry": [{"resource": {"resourceType": "Patient", "birthDate": "not a date"},
                      "request": {"method": "POST", "url": "Patient"}}]}  # fmt: skip
    outbox.put("checkin", "deadbeef" * 4, make_payload(bad))
    runtime.sync.drain_once()
    snap = status.snapshot()
    assert snap.outbox.dead == 1 and "outbox_dead" in snap.alerts
    (dead,) = snap.outbox.dead_rows
    assert dead.kind == "checkin" and "error" in dead.issues and "not a date" not in dead.issues
    assert status.retry_dead(dead.id).key == "staff_locked" and outbox.counts().dead == 1

    assert runtime.staff.unlock_pin(DEMO_PIN).ok
    assert status.retry_dead(dead.id).ok and outbox.counts().dead == 0
    runtime.sync.drain_once()
    assert outbox.counts().dead == 1  # refused again
    assert not status.discard_dead(dead.id + 999).ok
    assert status.discard_dead(dead.id).ok and outbox.counts().dead == 0

    (p,) = crowd(1, sandbox_seed.now)
    seed_crowd(sandbox_seed.base_url, [p])
    result = runtime.flow.start()
    while not (hasattr(result, "step") and result.step == Step.DEMOGRAPHICS):
        result = runtime.flow.submit(answer(result, p))  # type: ignore[arg-type]
    assert status.snapshot().in_use
    cancelled: list[Any] = []
    assert status.cancel_session(cancelled.append).ok
    assert runtime.worker.join_idle()
    assert cancelled[0].step == Step.WELCOME and runtime.flow.session.patient is None

    old = runtime.devices.printer
    restarted: list[bool] = []
    status.on_devices_restarted(lambda: restarted.append(True))
    assert status.restart_devices().ok and restarted == [True]
    assert runtime.devices.printer is not old and old is not None
    assert isinstance(check_in(runtime.flow, p), Done) and runtime.devices.printer.tickets  # the new printer
    assert status.leave_kiosk_mode().ok
    actions = [json.loads(x)["action"] for x in (runtime.settings.data_dir / FILE_NAME).read_text().splitlines()]
    assert actions == ["unlock", "retry_dead_row", "discard_dead_row", "discard_dead_row", "cancel_session",
                       "restart_devices", "leave_kiosk_mode"]  # fmt: skip
