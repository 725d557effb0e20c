"""SyncWorker + Deliverer against a scripted FHIR server (httpx.MockTransport); clock and sleep are fakes."""

from __future__ import annotations

import copy
import re
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from checkin_factory import full_record, make_appointment, make_patient
from sync_fakes import FakeClock, FakeFhir

from portal_client.client import FhirClient
from portal_client.outbox import Outbox, RowState, open_outbox
from portal_client.sink import OutboxSink
from portal_client.sync import SyncState, SyncWorker

BASE = "http://fhir.test/fhir/R4"


class Rig:
    def __init__(self, tmp_path: Path, script: list[object] | None = None, **worker_kwargs: Any) -> None:
        self.clock = FakeClock()
        self.fake = FakeFhir(script)
        self.fake.resources["Appointment/example"] = make_appointment().source | {"meta": {"versionId": "3"}}
        self.fake.resources["Patient/example"] = make_patient().source | {"meta": {"versionId": "7"}}
        self.outbox: Outbox = open_outbox(tmp_path / "var", tmp_path / "etc" / "outbox.key", clock=self.clock)
        self.client = FhirClient(BASE, transport=self.fake.transport())
        worker_kwargs.setdefault("max_entries", None)
        self.worker = SyncWorker(
            self.outbox,
            self.client,
            clock=self.clock,
            sleep=self.clock.sleep,
            random=lambda: 0.5,
            **worker_kwargs,
        )
        self.sink = OutboxSink(self.outbox)

    def submit(self, **changes: Any) -> None:
        self.sink.submit(full_record(**changes))

    def delay(self) -> float:
        due = self.outbox.next_due()
        assert due is not None
        return (due - self.clock.now()).total_seconds()


def test_500_then_success(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [500])
    rig.submit()
    report = rig.worker.drain_once(force=False)
    assert (report.sent, report.retried, report.depth) == (0, 1, 1)
    state = rig.worker.state
    assert not state.online and state.last_error == "backend_unavailable" and state.depth == 1
    assert rig.delay() == pytest.approx(1.5)  # base 2 s, equal jitter with random() = 0.5
    assert rig.worker.drain_once(force=False).sent == 0  # still backing off: no request at all
    assert len(rig.fake.transactions) == 1
    rig.clock.advance(1.5)
    report = rig.worker.drain_once(force=False)
    assert (report.sent, report.depth) == (1, 0)
    state = rig.worker.state
    assert state.online and state.last_error is None and state.last_success == rig.clock.now()
    assert rig.outbox.counts().depth == 0 and list(rig.outbox.rows()) == []
    assert rig.fake.resources["Appointment/example"]["status"] == "arrived"


def test_429_respects_retry_after(tmp_path: Path) -> None:
    busy = httpx.Response(
        429, headers={"Retry-After": "120"}, json={"resourceType": "OperationOutcome", "issue": []}
    )
    rig = Rig(tmp_path, [busy])
    rig.submit()
    rig.worker.drain_once(force=False)
    assert rig.delay() == pytest.approx(120)
    rig.clock.advance(119)
    assert rig.worker.drain_once(force=False).sent == 0 and len(rig.fake.transactions) == 1
    rig.clock.advance(1)
    assert rig.worker.drain_once(force=False).sent == 1


def test_400_makes_a_dead_row_with_the_outcome(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [400])
    rig.submit()
    report = rig.worker.drain_once(force=False)
    assert (report.dead, report.depth) == (1, 0)
    (dead,) = rig.outbox.rows(RowState.DEAD)
    assert dead.outcome == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid"}],
    }
    assert dead.payload["bundle"]["type"] == "transaction"  # the check-in itself is kept for staff
    state = rig.worker.state
    assert state.dead == 1 and state.online
    rig.clock.advance(3600)
    assert (
        rig.worker.drain_once(force=False).sent == 0 and len(rig.fake.transactions) == 1
    )  # never retried by itself


def test_401_reauthenticates_then_succeeds(tmp_path: Path) -> None:
    calls: list[int] = []
    rig = Rig(tmp_path, [401], reauth=lambda: calls.append(1))
    rig.submit()
    report = rig.worker.drain_once(force=False)
    assert report.sent == 1 and calls == [1] and len(rig.fake.transactions) == 2


def test_401_persisting_is_bounded_and_not_dead(tmp_path: Path) -> None:
    calls: list[int] = []
    rig = Rig(tmp_path, [401, 403, 401, 401], reauth=lambda: calls.append(1), max_auth_retries=2)
    rig.submit()
    report = rig.worker.drain_once(force=False)
    assert report.retried == 1 and report.dead == 0
    assert calls == [1, 1] and len(rig.fake.transactions) == 3
    assert rig.worker.state.last_error == "backend_auth"
    assert rig.outbox.counts().pending == 1


def test_timeout_is_retried(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
    rig.submit()
    rig.worker.drain_once(force=False)
    assert rig.worker.state.last_error == "backend_timeout" and not rig.worker.state.online
    rig.clock.advance(rig.delay())
    rig.worker.drain_once(force=False)
    assert rig.worker.state.last_error == "backend_unavailable"
    rig.clock.advance(rig.delay())
    assert rig.worker.drain_once(force=False).sent == 1


def test_backoff_doubles_and_is_capped(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [503] * 6, max_delay=10.0)
    rig.submit()
    delays = []
    for _ in range(6):
        rig.worker.drain_once(force=False)
        delays.append(rig.delay())
        rig.clock.advance(delays[-1])
    assert delays == pytest.approx([1.5, 3.0, 6.0, 7.5, 7.5, 7.5])
    assert rig.worker.drain_once(force=False).sent == 1
    assert [rig.worker.backoff(1) for _ in range(2)] == [1.5, 1.5]  # reset does not matter for the formula


def test_jitter_spreads_retries() -> None:
    values = iter([0.0, 0.999])
    worker = SyncWorker.__new__(SyncWorker)
    worker._base_delay, worker._max_delay, worker._random = 4.0, 300.0, lambda: next(values)
    assert worker.backoff(2) == pytest.approx(4.0)
    assert worker.backoff(2) == pytest.approx(7.996)


def test_wake_ignores_backoff(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [503])
    rig.submit()
    rig.worker.drain_once(force=False)
    assert rig.worker.drain_once(force=False).sent == 0
    assert rig.worker.drain_once(force=True).sent == 1  # "sync now"


def test_kiosk_sync_tries_rows_that_are_backing_off(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [503])
    rig.submit()
    rig.worker.drain_once(force=False)
    assert rig.delay() > 0
    fresh = SyncWorker(rig.outbox, rig.client, clock=rig.clock)  # what `kiosk sync` builds
    assert fresh.drain_once().sent == 1


def test_conflict_rereads_and_reapplies_without_overwriting(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.submit()
    # meanwhile, staff edited the appointment and the patient (new versions on the server)
    rig.fake.resources["Appointment/example"] |= {"comment": "Bring X-rays", "meta": {"versionId": "4"}}
    patient = copy.deepcopy(rig.fake.resources["Patient/example"])
    patient["gender"] = "other"
    patient["meta"] = {"versionId": "9"}
    rig.fake.resources["Patient/example"] = patient
    assert rig.worker.drain_once(force=False).sent == 1
    first, second = rig.fake.transactions
    assert (
        next(e for e in first["entry"] if e["request"]["url"] == "Appointment/example")["request"]["ifMatch"]
        == 'W/"3"'
    )
    puts = {e["request"]["url"]: e for e in second["entry"] if e["request"]["method"] == "PUT"}
    assert puts["Appointment/example"]["request"]["ifMatch"] == 'W/"4"'
    assert puts["Patient/example"]["request"]["ifMatch"] == 'W/"9"'
    assert sorted(rig.fake.reads) == ["Appointment/example", "Patient/example"]
    appointment = rig.fake.resources["Appointment/example"]
    assert appointment["status"] == "arrived" and appointment["comment"] == "Bring X-rays"
    stored = rig.fake.resources["Patient/example"]
    assert stored["gender"] == "other"  # the staff edit survives
    assert {"system": "email", "value": "peter@example.org"} in stored["telecom"]  # and so does ours


def test_replay_after_success_drops_the_updates(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.submit()
    payload = next(rig.outbox.rows()).payload
    assert rig.worker.drain_once(force=False).sent == 1
    rig.outbox.put("checkin", "replayed", payload)  # e.g. the ack was lost in a crash
    assert rig.worker.drain_once(force=False).sent == 1
    replay = rig.fake.transactions[-1]
    assert not [e for e in replay["entry"] if e["request"]["method"] == "PUT"]
    prov = next(e for e in replay["entry"] if e["resource"]["resourceType"] == "Provenance")["resource"]
    refs = [t["reference"] for t in prov["target"]]
    assert "Appointment/example" not in refs and "Patient/example" not in refs
    assert all(e["request"].get("ifNoneExist") for e in replay["entry"])  # all conditional: nothing new


@pytest.mark.parametrize("status", ["cancelled", "noshow", "checked-in", "fulfilled"])
def test_appointment_moved_on_by_staff_is_never_overwritten(tmp_path: Path, status: str) -> None:
    rig = Rig(tmp_path)
    rig.submit()
    rig.fake.resources["Appointment/example"] |= {"status": status, "meta": {"versionId": "5"}}
    assert rig.worker.drain_once(force=False).sent == 1
    assert rig.fake.resources["Appointment/example"]["status"] == status


def test_unknown_version_is_read_before_any_put(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    appointment = replace(make_appointment(), version=None, source={})
    patient = replace(make_patient(), version=None, source={})
    rig.submit(appointment=appointment, patient=patient)
    assert rig.worker.drain_once(force=False).sent == 1
    assert len(rig.fake.transactions) == 1
    puts = {
        e["request"]["url"]: e for e in rig.fake.transactions[0]["entry"] if e["request"]["method"] == "PUT"
    }
    assert puts["Appointment/example"]["request"]["ifMatch"] == 'W/"3"'
    assert (
        puts["Patient/example"]["resource"]["name"] == make_patient().source["name"]
    )  # not a blind overwrite


def test_large_bundles_go_in_parts_with_references_resolved(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_entries=8)
    rig.submit()
    assert rig.worker.drain_once(force=False).sent == 1
    first, second = rig.fake.transactions
    assert len(first["entry"]) == 8 and len(second["entry"]) == 4
    text = str(second)
    assert "'Encounter/encounter-1'" in text  # the first create of the first part
    in_part = {e["fullUrl"] for e in second["entry"]}
    urns = set(re.findall(r"urn:uuid:[0-9a-f-]{36}", str([e["resource"] for e in second["entry"]])))
    assert urns and urns <= in_part  # references to the first part were rewritten to real ids
    prov = second["entry"][-1]["resource"]
    assert len(prov["target"]) == 11


def test_progress_between_parts_is_saved(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ["ok", 503], max_entries=8)
    rig.submit()
    rig.worker.drain_once(force=False)
    (row,) = rig.outbox.rows()
    assert len(row.payload["bundle"]["entry"]) == 4
    assert len(row.payload["resolved"]) == 6  # the created entries of the first part
    rig.clock.advance(rig.delay())
    assert rig.worker.drain_once(force=False).sent == 1
    assert [len(t["entry"]) for t in rig.fake.transactions] == [8, 4, 4]


def test_entry_errors_in_a_200_response_are_rejections(tmp_path: Path) -> None:
    batchy = httpx.Response(200, json={"resourceType": "Bundle", "type": "batch-response",
                                       "entry": [{"response": {"status": "400 Bad Request"}}]})  # fmt: skip
    rig = Rig(tmp_path, [batchy])
    rig.submit()
    assert rig.worker.drain_once(force=False).dead == 1


def test_a_row_without_a_bundle_stays_dead(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    row_id = rig.outbox.put("checkin-unmapped", "c1", {"format": 1, "record": {"patient": {}}})
    assert rig.worker.drain_once(force=False).dead == 1 and rig.fake.transactions == []
    (dead,) = rig.outbox.rows(RowState.DEAD)
    assert dead.id == row_id and dead.payload["record"] == {"patient": {}}


def test_minimal_responses_fall_back_to_conditional_references(tmp_path: Path) -> None:
    minimal = httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response"})
    rig = Rig(tmp_path, [minimal], max_entries=8)
    rig.submit()
    assert rig.worker.drain_once(force=False).sent == 1
    second = rig.fake.transactions[1]
    assert "Encounter?identifier=urn:open-checkin-kiosk:checkin|" in str(second)


def test_subscribers_get_every_state(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [500])
    seen: list[SyncState] = []
    unsubscribe = rig.worker.subscribe(seen.append)
    rig.submit()
    rig.worker.drain_once(force=False)
    assert seen[-1].depth == 1 and seen[-1].last_error == "backend_unavailable"
    assert seen[-1].next_attempt == rig.clock.now() + timedelta(seconds=1.5)
    rig.clock.advance(2)
    rig.worker.drain_once(force=False)
    assert seen[-1].online and seen[-1].depth == 0 and seen[-1].last_error is None
    count = len(seen)
    unsubscribe()
    rig.worker.report_contact(False)
    assert len(seen) == count and rig.worker.state.online is False


def test_the_thread_delivers_what_the_sink_stores(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeFhir()
    fake.resources["Appointment/example"] = make_appointment().source | {"meta": {"versionId": "3"}}
    fake.resources["Patient/example"] = make_patient().source | {"meta": {"versionId": "7"}}
    outbox = open_outbox(tmp_path / "var", tmp_path / "etc" / "k", clock=clock)
    worker = SyncWorker(outbox, FhirClient(BASE, transport=fake.transport()), clock=clock, idle_poll=3600)
    delivered = threading.Event()
    worker.subscribe(lambda s: delivered.set() if s.last_success is not None and s.depth == 0 else None)
    sink = OutboxSink(outbox, on_stored=worker.notify)
    worker.start()
    try:
        sink.submit(full_record())
        assert delivered.wait(30), "the worker did not deliver"
    finally:
        worker.stop()
    assert not worker.running
    assert outbox.counts().depth == 0 and len(fake.transactions) == 2  # 12 entries: two parts of ≤ 8


def test_stop_interrupts_a_long_idle_wait(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "var", tmp_path / "etc" / "k", clock=FakeClock())
    worker = SyncWorker(outbox, FhirClient(BASE, transport=FakeFhir().transport()), idle_poll=3600)
    worker.start()
    started = time.monotonic()
    worker.stop(timeout=30)
    assert not worker.running and time.monotonic() - started < 30
