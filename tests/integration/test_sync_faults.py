"""Delivery through real failures of a real server: the sandbox down when the kiosk starts, the connection
dropped between the parts of a split Bundle (before and after the server applied a part), 500s, a 503 with
Retry-After, a response slower than the client's timeout, and a 4xx rejection that becomes a dead row.
Faults come from the sandbox itself (faults.mjs, ``SandboxAdmin``); the sync worker's clock is a fake, so
backoff is checked without waiting. After every scenario the server holds the check-in exactly once."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "portal_client"))
from sync_fakes import FakeClock
from test_sync_sandbox import CHECKIN, SYSTEM, make_record, search

from portal_client.client import FhirClient
from portal_client.directory import FhirDirectory
from portal_client.outbox import Outbox, RowState, open_outbox
from portal_client.sandbox import Sandbox
from portal_client.sandbox import seed as demo
from portal_client.sandbox.admin import SandboxAdmin
from portal_client.sandbox.seed import SeedInfo
from portal_client.sink import OutboxSink
from portal_client.sync import SyncWorker

pytestmark = pytest.mark.sandbox


@pytest.fixture
def admin(fhir_sandbox: Sandbox, sandbox_seed: SeedInfo) -> Iterator[SandboxAdmin]:
    admin = SandboxAdmin(fhir_sandbox.root_url)
    yield admin
    admin.clear_faults()


@pytest.fixture
def reader(sandbox_url: str) -> Iterator[FhirClient]:
    with FhirClient(sandbox_url, timeout=10.0) as fhir:
        yield fhir


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(tmp_path: Path, clock: FakeClock) -> Outbox:
    return open_outbox(tmp_path / "var", tmp_path / "etc" / "outbox.key", clock=clock)


def stored_checkin(reader: FhirClient, seed: SeedInfo, outbox: Outbox) -> None:
    """José's check-in (forms, consent, new insurance card, payment: 11 entries, two transactions)."""
    directory = FhirDirectory(reader, tz=demo.DEFAULT_TZ, clock=lambda: seed.now)
    OutboxSink(outbox).submit(make_record(directory, seed))
    (row,) = outbox.rows()
    assert len(row.payload["bundle"]["entry"]) > 8


def landed_once(reader: FhirClient, seed: SeedInfo) -> None:
    assert len(search(reader, "Encounter", identifier=f"{SYSTEM}|{CHECKIN}")) == 1
    assert len(search(reader, "Provenance", _tag=f"{SYSTEM}|{CHECKIN}")) == 1
    types = ("QuestionnaireResponse", "Consent", "Coverage", "DocumentReference", "PaymentReconciliation")
    made = [r for rtype in types for r in search(reader, rtype, identifier=f"{SYSTEM}|")]
    values = [
        i["value"]
        for r in made
        for i in (r["identifier"] if isinstance(r["identifier"], list) else [r["identifier"]])
        if i.get("system") == SYSTEM
    ]
    assert len(values) == len(set(values)) == 7  # 2 forms, 1 consent, coverage + 2 card images, 1 payment
    assert reader.read("Appointment", seed.appointment_ids["new_forms"])["status"] == "arrived"


def worker_for(outbox: Outbox, client: FhirClient, clock: FakeClock) -> SyncWorker:
    return SyncWorker(outbox, client, clock=clock, sleep=clock.sleep, random=lambda: 0.5, max_entries=8)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_down_at_start_then_up(
    reader: FhirClient, sandbox_seed: SeedInfo, outbox: Outbox, clock: FakeClock
) -> None:
    """The kiosk starts while its back-end is not running; a server comes up later on that address
    (a fresh one: every version id differs from what the kiosk read, so each update is re-read first)."""
    stored_checkin(reader, sandbox_seed, outbox)
    port = _free_port()
    with FhirClient(f"http://127.0.0.1:{port}/fhir/R4", timeout=5.0) as client:
        worker = worker_for(outbox, client, clock)
        report = worker.drain_once(force=False)
        assert (report.sent, report.retried, report.depth) == (0, 1, 1)
        assert not worker.state.online and worker.state.last_error == "backend_unavailable"
        first_delay = (worker.state.next_attempt - clock.now()).total_seconds()
        clock.advance(first_delay)
        assert worker.drain_once(force=False).retried == 1
        assert (worker.state.next_attempt - clock.now()).total_seconds() == pytest.approx(2 * first_delay)
        with Sandbox(port=port) as late:
            info = demo.seed(late.base_url, now=sandbox_seed.now)
            clock.advance(60)
            assert worker.drain_once(force=False).sent == 1
            with FhirClient(late.base_url) as late_reader:
                landed_once(late_reader, info)
    assert worker.state.online and worker.state.depth == 0


@pytest.mark.parametrize("mode", ["drop", "hangup"])
def test_connection_lost_between_the_parts(
    reader: FhirClient, sandbox_seed: SeedInfo, outbox: Outbox, clock: FakeClock, admin: SandboxAdmin, mode: str
) -> None:
    """Part 1 lands; part 2's connection drops before the server reads it ("drop"), or after the server
    applied it but before the answer left ("hangup": the ack is lost). Either way: once, after a retry."""
    stored_checkin(reader, sandbox_seed, outbox)
    admin.fault(mode, skip=1)  # the second transaction
    with FhirClient(sandbox_seed.base_url, timeout=10.0) as client:
        worker = worker_for(outbox, client, clock)
        report = worker.drain_once(force=False)
        assert (report.sent, report.retried) == (0, 1)
        assert admin.faults()["hits"] == 1
        (row,) = outbox.rows()
        assert row.state is RowState.PENDING
        assert 0 < len(row.payload["bundle"]["entry"]) <= 8  # part 1 is done and recorded as such
        assert row.payload["resolved"]  # its urn:uuids now point at what the server made
        clock.advance(60)
        assert worker.drain_once(force=False).sent == 1
    landed_once(reader, sandbox_seed)


def test_500s_back_off_then_deliver(
    reader: FhirClient, sandbox_seed: SeedInfo, outbox: Outbox, clock: FakeClock, admin: SandboxAdmin
) -> None:
    stored_checkin(reader, sandbox_seed, outbox)
    admin.fault("status", status=500, count=3)
    delays = []
    with FhirClient(sandbox_seed.base_url, timeout=10.0) as client:
        worker = worker_for(outbox, client, clock)
        for _ in range(3):
            assert worker.drain_once(force=False).retried == 1
            assert worker.state.last_error == "backend_unavailable"
            delays.append((worker.state.next_attempt - clock.now()).total_seconds())
            assert worker.drain_once(force=False).retried == 0  # backing off: not even tried
            clock.advance(delays[-1])
        assert delays == [1.5, 3.0, 6.0]  # 2 s base, doubling, "equal jitter" at 0.5
        assert worker.drain_once(force=False).sent == 1
    landed_once(reader, sandbox_seed)


def test_503_with_retry_after_is_obeyed(
    reader: FhirClient, sandbox_seed: SeedInfo, outbox: Outbox, clock: FakeClock, admin: SandboxAdmin
) -> None:
    stored_checkin(reader, sandbox_seed, outbox)
    admin.fault("status", status=503, retry_after=42)
    with FhirClient(sandbox_seed.base_url, timeout=10.0) as client:
        worker = worker_for(outbox, client, clock)
        assert worker.drain_once(force=False).retried == 1
        (row,) = outbox.rows()
        assert (row.next_attempt_at - clock.now()).total_seconds() == 42
        clock.advance(41)
        assert worker.drain_once(force=False).sent == 0
        clock.advance(1)
        assert worker.drain_once(force=False).sent == 1
    landed_once(reader, sandbox_seed)


def test_a_response_slower_than_the_timeout_is_retried_harmlessly(
    reader: FhirClient, sandbox_seed: SeedInfo, outbox: Outbox, clock: FakeClock, admin: SandboxAdmin
) -> None:
    """The server applies part 1 but answers after the client gave up: the retry changes nothing twice."""
    stored_checkin(reader, sandbox_seed, outbox)
    admin.fault("delay", delay_ms=5000)
    with FhirClient(sandbox_seed.base_url, timeout=0.3) as client:
        worker = worker_for(outbox, client, clock)
        report = worker.drain_once(force=False)
        assert report.retried == 1 and worker.state.last_error == "backend_timeout"
        (row,) = outbox.rows()
        assert len(row.payload["bundle"]["entry"]) > 8  # nothing recorded as done: all of it goes again
        clock.advance(60)
        assert worker.drain_once(force=False).sent == 1
    landed_once(reader, sandbox_seed)


def test_a_rejected_bundle_becomes_a_dead_row_with_its_outcome(
    reader: FhirClient, sandbox_seed: SeedInfo, outbox: Outbox, clock: FakeClock
) -> None:
    """A 4xx with an OperationOutcome: not retried, kept (encrypted) with the outcome for staff."""
    encounter: dict[str, Any] = {"resourceType": "Encounter", "status": "arrived", "period": {"start": "2025-13-40"},
                                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                                 "identifier": [{"system": SYSTEM, "value": "bad-1"}]}  # fmt: skip
    request = {"method": "POST", "url": "Encounter", "ifNoneExist": f"identifier={SYSTEM}|bad-1"}
    entry = {"fullUrl": "urn:uuid:0f6c7f0e-1111-4c39-9a57-1b6c4f0e2a77", "resource": encounter, "request": request}
    row_id = outbox.put("checkin", "bad-1", {"format": 1, "patient_changes": {}, "resolved": {},
                                             "bundle": {"resourceType": "Bundle", "type": "transaction",
                                                        "entry": [entry]}})  # fmt: skip
    with FhirClient(sandbox_seed.base_url, timeout=10.0) as client:
        worker = worker_for(outbox, client, clock)
        report = worker.drain_once(force=False)
        assert (report.sent, report.dead, report.retried) == (0, 1, 0)
        assert worker.state.dead == 1 and worker.state.online
        clock.advance(3600)
        assert worker.drain_once(force=False).dead == 0  # never tried again by itself
    (dead,) = outbox.rows(RowState.DEAD)
    assert dead.id == row_id and dead.outcome is not None
    assert dead.outcome["resourceType"] == "OperationOutcome"
    assert "Encounter.period" in str(dead.outcome)  # the server's own words, for staff
    assert search(reader, "Encounter", identifier=f"{SYSTEM}|bad-1") == []
