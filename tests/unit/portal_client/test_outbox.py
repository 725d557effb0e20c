"""The encrypted SQLite outbox: state machine, restart recovery, retention, sealing, threads, disk errors."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sync_fakes import FakeClock

from kiosk.flow.ports import StorageError
from portal_client.crypto import CryptoError, KeyFileError, SealedBox
from portal_client.outbox import DB_NAME, Outbox, OutboxError, RowState, open_outbox


def make(tmp_path: Path, clock: FakeClock | None = None, **kwargs: object) -> Outbox:
    return open_outbox(
        tmp_path / "var", tmp_path / "etc" / "outbox.key", clock=clock or FakeClock(), **kwargs
    )


def test_row_life_pending_in_flight_sent(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    row_id = outbox.put("checkin", "c1", {"bundle": {"n": 1}})
    assert outbox.counts().pending == 1 and outbox.counts().depth == 1
    row = outbox.claim()
    assert row is not None
    assert (row.id, row.state, row.attempts, row.payload) == (
        row_id,
        RowState.IN_FLIGHT,
        1,
        {"bundle": {"n": 1}},
    )
    assert outbox.counts().in_flight == 1 and outbox.counts().depth == 1
    assert outbox.claim() is None  # nothing else pending
    outbox.ack(row_id)
    assert outbox.counts().depth == 0
    assert list(outbox.rows()) == []  # acknowledged rows are deleted


def test_claim_order_and_due_times(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = make(tmp_path, clock)
    first = outbox.put("checkin", "c1", {"i": 1})
    clock.advance(1)
    second = outbox.put("checkin", "c2", {"i": 2})
    row = outbox.claim()
    assert row is not None and row.id == first
    outbox.release(first, delay=30)
    row = outbox.claim()
    assert row is not None and row.id == second
    outbox.release(second, delay=60)
    assert outbox.claim() is None
    assert outbox.next_due() == clock.now() + timedelta(seconds=30)
    assert outbox.claim(due_only=False) is not None  # "sync now" ignores due times
    clock.advance(30)
    row = outbox.claim()
    assert row is None  # the first row is in flight again (forced claim), the second not yet due
    clock.advance(30)
    row = outbox.claim()
    assert row is not None and row.id == second and row.attempts == 2


def test_in_flight_rows_go_back_to_pending_on_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = make(tmp_path, clock)
    a = outbox.put("checkin", "c1", {"i": 1})
    outbox.put("checkin", "c2", {"i": 2})
    claimed = outbox.claim()
    assert claimed is not None and claimed.id == a
    outbox.close()  # the process dies with row a in flight

    reopened = make(tmp_path, clock)
    counts = reopened.counts()
    assert (counts.pending, counts.in_flight, counts.dead) == (2, 0, 0)
    row = reopened.claim()
    assert row is not None and row.id == a and row.attempts == 2 and row.payload == {"i": 1}


def test_a_second_process_takes_back_only_stale_in_flight_rows(tmp_path: Path) -> None:
    """`kiosk sync` next to a running kiosk: the row the kiosk is sending now is left to it."""
    clock = FakeClock()
    kiosk = make(tmp_path, clock)
    kiosk.put("checkin", "c1", {"i": 1})
    assert kiosk.claim() is not None
    staff = make(tmp_path, clock, recover_after=timedelta(minutes=15))
    assert staff.counts().in_flight == 1 and staff.claim() is None
    staff.close()
    clock.advance(16 * 60)  # the kiosk died long ago with it in flight
    staff = make(tmp_path, clock, recover_after=timedelta(minutes=15))
    assert staff.counts().pending == 1


def test_dead_rows_keep_the_outcome_and_can_be_retried(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    row_id = outbox.put("checkin", "c1", {"i": 1})
    outbox.claim()
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}
    outbox.mark_dead(row_id, outcome)
    assert outbox.counts().dead == 1 and outbox.counts().depth == 0
    dead = list(outbox.rows(RowState.DEAD))
    assert len(dead) == 1 and dead[0].outcome == outcome and dead[0].payload == {"i": 1}
    assert outbox.claim(due_only=False) is None  # dead rows are never claimed
    assert outbox.retry_dead(row_id)
    row = outbox.claim()
    assert row is not None and row.id == row_id


def test_put_straight_to_dead(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    outbox.put("checkin", "c1", {"i": 1}, dead_outcome={"resourceType": "OperationOutcome", "issue": []})
    assert outbox.counts().dead == 1 and outbox.claim() is None


def test_dead_row_retention(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = make(tmp_path, clock, dead_retention=timedelta(days=7), max_dead=3)
    ids = [outbox.put("checkin", f"c{i}", {"i": i}, dead_outcome={"i": i}) for i in range(5)]
    assert outbox.purge_dead() == 2  # only the newest three are kept
    assert [r.id for r in outbox.rows(RowState.DEAD)] == ids[2:]
    clock.advance(timedelta(days=8).total_seconds())
    live = outbox.put("checkin", "live", {"x": 1})
    assert outbox.purge_dead() == 3
    assert [r.id for r in outbox.rows()] == [live]  # pending rows are never purged


def test_replace_payload_survives_restart(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    row_id = outbox.put("checkin", "c1", {"part": 1})
    outbox.claim()
    outbox.replace_payload(row_id, {"part": 2})
    outbox.close()
    row = make(tmp_path).claim()
    assert row is not None and row.payload == {"part": 2}


def test_database_is_wal_0600_and_has_only_the_allowed_clear_columns(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    outbox.put("checkin", "c1", {"i": 1})
    assert outbox.journal_mode == "wal"
    db = tmp_path / "var" / DB_NAME
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with sqlite3.connect(db) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
    assert columns == {
        "id", "kind", "checkin_id", "state", "attempts", "created_at", "updated_at", "next_attempt_at",
        "payload", "outcome",
    }  # fmt: skip


def test_tampered_or_moved_payload_does_not_open(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    a = outbox.put("checkin", "c1", {"i": 1})
    b = outbox.put("checkin", "c2", {"i": 2})
    db = tmp_path / "var" / DB_NAME
    with sqlite3.connect(db) as conn:  # copy row a's sealed payload into row b
        blob = conn.execute("SELECT payload FROM outbox WHERE id = ?", (a,)).fetchone()[0]
        conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (blob, b))
    rows = outbox.rows()
    assert next(rows).payload == {"i": 1}
    with pytest.raises(CryptoError):
        next(rows)
    with sqlite3.connect(db) as conn:  # flip one bit of row a
        broken = bytearray(blob)
        broken[-1] ^= 1
        conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (bytes(broken), a))
    assert outbox.claim() is None  # neither row opens: both are dead now, not retried forever
    assert outbox.counts().dead == 2
    dead = outbox._conn.execute("SELECT id, outcome FROM outbox WHERE state = 'dead'").fetchall()
    assert sorted(r[0] for r in dead) == sorted([a, b]) and all(r[1] for r in dead)


def test_key_inside_the_data_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        open_outbox(tmp_path / "var", tmp_path / "var" / "outbox.key")


def test_full_disk_is_a_storage_error(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    outbox._conn.execute("PRAGMA max_page_count = 12")  # the disk is "full" after a few pages
    with pytest.raises(OutboxError) as info:
        for i in range(50):
            outbox.put("checkin", f"c{i}", {"blob": os.urandom(4000).hex()})
    assert isinstance(info.value, StorageError)
    assert info.value.key == "storage_error"


def test_unreadable_database_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / DB_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError):
        make(tmp_path)


def test_threads_put_and_drain_concurrently(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "var" / DB_NAME, SealedBox.from_key_file(tmp_path / "k"))
    writers, per_writer = 4, 25
    delivered: list[str] = []
    errors: list[BaseException] = []
    done_writing = threading.Event()

    def writer(w: int) -> None:
        try:
            for i in range(per_writer):
                outbox.put("checkin", f"w{w}-{i}", {"w": w, "i": i})
        except BaseException as exc:
            errors.append(exc)

    def drainer() -> None:
        try:
            while True:
                row = outbox.claim()
                if row is None:
                    if done_writing.is_set() and outbox.counts().depth == 0:
                        return
                    continue
                delivered.append(row.checkin_id)
                outbox.ack(row.id)
        except BaseException as exc:
            errors.append(exc)

    drainers = [threading.Thread(target=drainer) for _ in range(2)]
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in drainers + threads:
        t.start()
    for t in threads:
        t.join(60)
    done_writing.set()
    for t in drainers:
        t.join(60)
    assert not errors
    assert sorted(delivered) == sorted(f"w{w}-{i}" for w in range(writers) for i in range(per_writer))
    assert outbox.counts().depth == 0
