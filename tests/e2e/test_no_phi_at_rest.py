"""Nothing personal in clear text on the kiosk's disk: after check-ins made during an outage (rows waiting in
the outbox, today's schedule prefetched), every byte of every file in the data folder — the outbox database
and its WAL and shared-memory files, the offline-day snapshot, queue numbers, printer caches — is searched for
the patients' names, birth dates (several spellings), member ids, phone numbers, e-mail and street addresses.
Then again after delivery (deleted rows are overwritten: ``secure_delete``). And the same in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from checkin_driver import check_in
from tcp_proxy import TcpProxy
from test_outage_day import SteppingClock, outage_settings

from kiosk.flow.results import Done, Show, Step
from kiosk.runtime.build import Runtime, build_runtime
from portal_client.sandbox.crowd import CrowdPatient, crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox

NEW_MEMBER_ID = "ZQX55821907"


def secrets_of(p: CrowdPatient) -> list[str]:
    dob: date = p.birth_date
    n = p.index
    return [
        p.given, p.family, f"{p.given} {p.family}", f"{p.family}, {p.given}",
        dob.isoformat(), dob.strftime("%m/%d/%Y"), dob.strftime("%Y%m%d"), dob.strftime("%m%d%Y"),
        p.member_id, f"crowd{n}@example.org", f"{100 + n} Crowd Street", f"(555) 600-{n % 10000:04d}",
    ]  # fmt: skip


def leaks(folder: Path, needles: list[str]) -> list[str]:
    found = []
    files = [f for f in folder.rglob("*") if f.is_file()]
    assert files, f"nothing to scan in {folder}"
    for file in files:
        data = file.read_bytes()
        lowered = data.lower()
        for needle in dict.fromkeys(needles):
            for form in {needle.encode("utf-8"), needle.encode("utf-16-le")}:
                if form in data or form.lower() in lowered:
                    found.append(f"{file.relative_to(folder)}: {needle!r}")
                    break
    return found


class ManualCard:
    """Patient 0 types a new insurance card at the kiosk (a member id the back-end does not know yet)."""

    def __init__(self, flow: Any) -> None:
        self.flow = flow

    def start(self) -> Any:
        return self.flow.start()

    def submit(self, data: dict[str, Any]) -> Any:
        current = self.flow.current
        if isinstance(current, Show) and current.step == Step.INSURANCE:
            data = {"action": "manual", "payer_name": "Acme Health Plan", "member_id": NEW_MEMBER_ID,
                    "group_number": "G-77", "subscriber_name": ""}  # fmt: skip
        return self.flow.submit(data)


@pytest.fixture
def runtime(sandbox_seed: SeedInfo, kiosk_proxy: TcpProxy, tmp_path: Path) -> Iterator[Runtime]:
    settings = outage_settings(kiosk_proxy, tmp_path, devices={"printer": {"enabled": True}}, sync={"enabled": False})
    runtime = build_runtime(settings, clock=SteppingClock(sandbox_seed.now))
    yield runtime
    runtime.stop()


def test_no_patient_data_in_clear_anywhere_in_the_data_folder_or_the_log(
    runtime: Runtime, kiosk_proxy: TcpProxy, sandbox_seed: SeedInfo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    patients = crowd(6, sandbox_seed.now)
    seed_crowd(sandbox_seed.base_url, patients)
    assert runtime.backend.day_cache.tick()  # today's schedule, patients, coverage: on disk, sealed
    kiosk_proxy.cut()
    for i, p in enumerate(patients):
        flow = ManualCard(runtime.flow) if i == 0 else runtime.flow
        assert isinstance(check_in(flow, p), Done)
        runtime.flow.reset()
    data = tmp_path / "data"
    assert runtime.outbox.counts().pending == 6
    assert (data / "outbox.sqlite3-wal").stat().st_size > 0  # the rows are in the WAL, not checkpointed
    assert (data / "offline-day.sealed").exists()
    needles = [s for p in patients for s in secrets_of(p)] + [NEW_MEMBER_ID, "Acme Health Plan"]
    assert leaks(data, needles) == []
    assert leaks(tmp_path / "keys", needles) == []

    kiosk_proxy.restore()
    assert runtime.sync.drain_once().sent == 6
    runtime.outbox._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert leaks(data, needles) == []

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "check-in" in logged or "checkin" in logged  # the log is not empty...
    assert [n for n in needles if n in logged] == []  # ...and holds nobody's data
    # Our own sanity check that the scanner finds what it should (a clear file planted next to the data).
    (data / "planted.txt").write_text(f"note about {patients[1].family}")
    assert leaks(data, needles) == [f"planted.txt: {patients[1].family!r}"]
