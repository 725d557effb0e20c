"""OutboxSink (the flow's CheckinSink) and what ends up on disk: nothing personal in clear text."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from checkin_factory import CHECKIN_ID, MEMBER_ID, desk_record, full_record
from sync_fakes import FakeClock, FakeFhir

from kiosk.flow.ports import CheckinSink, StorageError
from kiosk.flow.types import Answer, AnswerKind, QuestionnaireResult, ResponseItem
from portal_client import sink as sink_module
from portal_client.client import FhirClient
from portal_client.fhir.bundle import build_bundle, patient_changes
from portal_client.outbox import DB_NAME, Outbox, RowState, open_outbox
from portal_client.sink import KIND_CHECKIN, KIND_UNMAPPED, OutboxSink
from portal_client.sync import SyncWorker

PERSONAL = [
    "Chalmers",
    "Peter",
    "1974-12-25",
    "19741225",
    "12/25/1974",
    MEMBER_ID,
    "Erewhon",
    "12 New Road",
    "5555 0000",
    "peter@example.org",
    "Acme Health Plan",
    "Penicillin",
    "Follow-up on knee",
]


def make(tmp_path: Path) -> Outbox:
    return open_outbox(tmp_path / "var", tmp_path / "etc" / "outbox.key", clock=FakeClock())


def test_is_the_flows_checkin_sink(tmp_path: Path) -> None:
    assert isinstance(OutboxSink(make(tmp_path)), CheckinSink)


def test_submit_stores_the_bundle_and_the_change_set(tmp_path: Path) -> None:
    calls: list[int] = []
    outbox = make(tmp_path)
    record = full_record()
    OutboxSink(outbox, on_stored=lambda: calls.append(1)).submit(record)
    (row,) = outbox.rows()
    assert (row.kind, row.checkin_id, row.state) == (KIND_CHECKIN, CHECKIN_ID, RowState.PENDING)
    assert row.payload["bundle"] == build_bundle(record)
    assert row.payload["patient_changes"] == patient_changes(record) != {}
    assert calls == [1]


def test_a_mapping_bug_keeps_the_record_as_a_dead_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = make(tmp_path)
    answer = Answer(AnswerKind.INTEGER, "Chalmers")
    bad = QuestionnaireResult("q", "http://x/q", "Q", (ResponseItem("age", "", (answer,)),), full_record().completed_at)
    OutboxSink(outbox).submit(full_record(responses=(bad,)))
    (row,) = outbox.rows()
    assert row.kind == KIND_UNMAPPED and row.state is RowState.DEAD
    assert row.payload["record"]["patient"]["family"] == "Chalmers"  # kept (encrypted) for staff
    assert row.payload["record"]["consents"][0]["signature"]["png"]  # bytes as base64
    assert row.outcome is not None and "MappingError" in row.outcome["issue"][0]["diagnostics"]
    assert "Chalmers" not in caplog.text


def test_an_invalid_bundle_is_kept_dead_with_the_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(record: object) -> dict[str, object]:
        bundle = build_bundle(full_record())
        bundle["entry"][2]["resource"]["status"] = "sitting-in-the-lobby"
        return bundle

    monkeypatch.setattr(sink_module, "build_bundle", broken)
    outbox = make(tmp_path)
    OutboxSink(outbox).submit(full_record())
    (row,) = outbox.rows()
    assert row.state is RowState.DEAD and row.kind == KIND_CHECKIN
    assert row.outcome is not None
    assert row.outcome["issue"][0]["expression"] == ["Bundle.entry[2].resource.status"]


def test_disk_failure_is_a_storage_error(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    outbox._conn.execute("PRAGMA max_page_count = 8")
    sink = OutboxSink(outbox)
    with pytest.raises(StorageError):
        for _ in range(20):
            sink.submit(full_record())


def _scan(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [p for p in PERSONAL if p.encode() in data or p.encode("utf-16-le") in data]
            if hits:
                found[path.name] = hits
    return found


def test_no_personal_data_in_clear_on_disk_or_in_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = make(tmp_path)
    sink = OutboxSink(outbox)
    for i in range(3):
        sink.submit(full_record(checkin_id=f"{CHECKIN_ID[:-1]}{i}"))
    sink.submit(desk_record())
    # one row delivered in part then refused (its OperationOutcome echoes personal data), one in flight
    fake = FakeFhir(
        ["ok", FakeFhir.outcome_response(400, "Member ZXQ90817263 for Chalmers 1974-12-25 unknown")]
    )
    worker = SyncWorker(outbox, FhirClient("http://fhir.test/fhir/R4", transport=fake.transport()), clock=FakeClock(),
                        sleep=lambda s: None, random=lambda: 0.5)  # fmt: skip
    worker.drain_once(force=False)
    assert outbox.counts().dead == 1
    sink.submit(full_record(checkin_id="f" * 32))
    assert outbox.claim() is not None and outbox.counts().in_flight == 1
    assert (tmp_path / "var" / (DB_NAME + "-wal")).exists()  # WAL content not checkpointed yet
    assert _scan(tmp_path / "var") == {}
    total = sum(p.stat().st_size for p in (tmp_path / "var").iterdir())
    assert total > 100_000  # the scan looked at real content (images, signatures: sealed)
    outbox.close()
    assert _scan(tmp_path / "var") == {}
    assert oct((tmp_path / "etc" / "outbox.key").stat().st_mode & 0o777) == "0o600"
    for needle in PERSONAL:
        assert needle not in caplog.text
    assert CHECKIN_ID[:-1] in caplog.text  # ids are logged


def test_deleted_rows_leave_no_sealed_leftovers(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    sink = OutboxSink(outbox)
    sink.submit(full_record())
    (row,) = outbox.rows()
    sealed_sample = outbox._conn.execute("SELECT payload FROM outbox").fetchone()[0][40:80]
    outbox.ack(row.id)
    outbox._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    outbox.close()
    data = b"".join(p.read_bytes() for p in (tmp_path / "var").iterdir() if p.is_file())
    assert sealed_sample not in data  # secure_delete overwrote the row
    assert os.path.getsize(tmp_path / "var" / DB_NAME) > 0
