"""The encrypted outbox: a SQLite (WAL) journal of back-end writes waiting to be delivered.

Row life: ``pending → in_flight → sent | dead``. ``claim`` moves the oldest due pending row to in_flight;
the sync worker then ``ack``s it (sent: the row is deleted at once), ``release``s it back to pending with
a later due time, or marks it ``dead`` (the back-end refused it: kept with the OperationOutcome for staff,
until the retention limit). Rows left in_flight by a crash go back to pending when the outbox opens
(persist-queue's model): delivery is at-least-once, and conditional creates make a replay harmless.

Privacy (DESIGN §9): the payload (the Bundle JSON) and the OperationOutcome are zlib-compressed and sealed
with ``crypto.SealedBox``; the only clear columns are ids, state, attempt count, timestamps, and the
non-personal ``kind`` and check-in id (a random uuid). ``secure_delete`` overwrites deleted rows.

Thread-safe: one connection behind a lock (the sync worker and the UI's submit run on different threads);
``BEGIN IMMEDIATE`` transactions keep a second process (``kiosk sync``) consistent too.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.flow.ports import Clock, StorageError

from .crypto import CryptoError, SealedBox, ensure_outside

log = logging.getLogger(__name__)

Json = dict[str, Any]
DB_NAME = "outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,
    checkin_id      TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'in_flight', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL,
    next_attempt_at REAL    NOT NULL,
    payload         BLOB    NOT NULL,
    outcome         BLOB
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at, id);
"""


class RowState(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"  # never stored: an acknowledged row is deleted
    DEAD = "dead"


class OutboxError(StorageError):
    """The outbox could not read or write its database (disk full, read-only, corrupted...)."""

    key = "storage_error"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    checkin_id: str
    state: RowState
    attempts: int
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    payload: Json = field(repr=False)
    outcome: Json | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OutboxCounts:
    pending: int = 0
    in_flight: int = 0
    dead: int = 0

    @property
    def depth(self) -> int:
        """Rows still to deliver (what the status screen calls the outbox depth)."""
        return self.pending + self.in_flight


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class Outbox:
    def __init__(
        self,
        path: str | os.PathLike[str],
        box: SealedBox,
        *,
        clock: Clock | None = None,
        dead_retention: timedelta = timedelta(days=30),
        max_dead: int = 1000,
        recover_after: timedelta | None = None,
    ) -> None:
        """``recover_after``: rows in flight are taken back to pending at opening — all of them (a kiosk
        starting: no one else can be sending), or only those in flight for longer than this (``kiosk sync``
        while the kiosk may be running: a row its worker is sending right now is left alone)."""
        self.path = Path(path)
        self._box = box
        self._clock: Clock = clock or _UtcClock()
        self._dead_retention = dead_retention
        self._max_dead = max_dead
        self._lock = threading.RLock()
        try:
            self._conn = self._connect()
            with self._tx() as conn:
                now = self._now()
                cutoff = now - recover_after.total_seconds() if recover_after is not None else now + 1
                recovered = conn.execute(
                    "UPDATE outbox SET state = 'pending', updated_at = ? WHERE state = 'in_flight' AND updated_at < ?",
                    (now, cutoff),
                ).rowcount
            if recovered:
                log.info("outbox: %d in-flight row(s) back to pending after restart", recovered)
            self.purge_dead()
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open the outbox database ({type(exc).__name__})") from None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # a check-in the patient saw saved survives a power cut
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.executescript(_SCHEMA)
        return conn

    @property
    def journal_mode(self) -> str:
        with self._lock:
            return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _now(self) -> float:
        return _ts(self._clock.now())

    class _Tx:
        def __init__(self, outbox: Outbox) -> None:
            self.outbox = outbox

        def __enter__(self) -> sqlite3.Connection:
            self.outbox._lock.acquire()
            try:
                self.outbox._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self.outbox._lock.release()
                raise OutboxError(f"outbox database is unavailable ({type(exc).__name__})") from None
            except BaseException:
                self.outbox._lock.release()
                raise
            return self.outbox._conn

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            try:
                self.outbox._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
            except sqlite3.Error as err:
                if exc_type is None:
                    raise OutboxError(f"outbox commit failed ({type(err).__name__})") from None
            finally:
                self.outbox._lock.release()
            if isinstance(exc, sqlite3.Error):
                raise OutboxError(f"outbox database error ({type(exc).__name__}: {exc})") from None

    def _tx(self) -> Outbox._Tx:
        return Outbox._Tx(self)

    # -- sealing ---------------------------------------------------------------------------------------
    @staticmethod
    def _aad(kind: str, checkin_id: str, what: str) -> bytes:
        return f"{what}\x00{kind}\x00{checkin_id}".encode()

    def _seal(self, data: Mapping[str, Any], aad: bytes) -> bytes:
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self._box.seal(zlib.compress(raw, 6), aad=aad)

    def _open(self, blob: bytes, aad: bytes) -> Json:
        try:
            data: Json = json.loads(zlib.decompress(self._box.open(blob, aad=aad)))
        except zlib.error:
            raise CryptoError("outbox payload does not decompress") from None
        return data

    def _row(self, rec: sqlite3.Row | tuple[Any, ...], *, with_outcome: bool = False) -> OutboxRow:
        row_id, kind, checkin_id, state, attempts, created, updated, due, payload, outcome = rec
        return OutboxRow(
            id=row_id,
            kind=kind,
            checkin_id=checkin_id,
            state=RowState(state),
            attempts=attempts,
            created_at=_dt(created),
            updated_at=_dt(updated),
            next_attempt_at=_dt(due),
            payload=self._open(payload, self._aad(kind, checkin_id, "payload")),
            outcome=self._open(outcome, self._aad(kind, checkin_id, "outcome"))
            if with_outcome and outcome
            else None,
        )

    # -- writing ---------------------------------------------------------------------------------------
    def put(
        self,
        kind: str,
        checkin_id: str,
        payload: Mapping[str, Any],
        *,
        dead_outcome: Mapping[str, Any] | None = None,
    ) -> int:
        """Persist one payload (pending; or dead at once with ``dead_outcome``). Returns the row id."""
        payload_blob = self._seal(payload, self._aad(kind, checkin_id, "payload"))
        outcome_blob = (
            self._seal(dead_outcome, self._aad(kind, checkin_id, "outcome")) if dead_outcome else None
        )
        state = RowState.DEAD if dead_outcome else RowState.PENDING
        with self._tx() as conn:
            now = self._now()
            cur = conn.execute(
                "INSERT INTO outbox (kind, checkin_id, state, attempts, created_at, updated_at, next_attempt_at,"
                " payload, outcome) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
                (kind, checkin_id, str(state), now, now, now, payload_blob, outcome_blob),
            )
            row_id = int(cur.lastrowid or 0)
        log.info("outbox: row %d (%s %s) stored as %s", row_id, kind, checkin_id, state)
        return row_id

    def claim(self, *, due_only: bool = True) -> OutboxRow | None:
        """The oldest due pending row, now in_flight with one more attempt; None when nothing is due.

        A row whose payload no longer opens (corrupted, tampered with, another key) is marked dead
        (never retried forever, never dropped silently) and the next one is claimed.
        """
        while True:
            rec = self._claim_record(due_only)
            if rec is None:
                return None
            try:
                return self._row(rec)
            except CryptoError as exc:
                log.error("outbox: row %d cannot be opened (%s); marked dead", rec[0], type(exc).__name__)
                self.mark_dead(
                    rec[0],
                    {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "fatal", "code": "security", "diagnostics": "payload cannot be opened"}]},
                )  # fmt: skip

    def _claim_record(self, due_only: bool) -> tuple[Any, ...] | None:
        with self._tx() as conn:
            now = self._now()
            rec = conn.execute(
                "SELECT id FROM outbox WHERE state = 'pending'"
                + (" AND next_attempt_at <= ?" if due_only else "")
                + " ORDER BY next_attempt_at, id LIMIT 1",
                (now,) if due_only else (),
            ).fetchone()
            if rec is None:
                return None
            conn.execute(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (now, rec[0]),
            )
            full: tuple[Any, ...] = conn.execute("SELECT * FROM outbox WHERE id = ?", (rec[0],)).fetchone()
        return full

    def _update(self, sql: str, params: tuple[Any, ...]) -> bool:
        with self._tx() as conn:
            return conn.execute(sql, params).rowcount > 0

    def ack(self, row_id: int) -> None:
        """Delivered: delete the row (nothing personal stays behind)."""
        self._update("DELETE FROM outbox WHERE id = ?", (row_id,))

    def release(self, row_id: int, *, delay: float = 0.0) -> None:
        """Back to pending, due ``delay`` seconds from now."""
        now = self._now()
        self._update(
            "UPDATE outbox SET state = 'pending', updated_at = ?, next_attempt_at = ? WHERE id = ?",
            (now, now + max(0.0, delay), row_id),
        )

    def replace_payload(self, row_id: int, payload: Mapping[str, Any]) -> None:
        """Store what is left to send (after part of a row was delivered, or entries were refreshed)."""
        with self._tx() as conn:
            rec = conn.execute("SELECT kind, checkin_id FROM outbox WHERE id = ?", (row_id,)).fetchone()
            if rec is None:
                return
            blob = self._seal(payload, self._aad(rec[0], rec[1], "payload"))
            conn.execute(
                "UPDATE outbox SET payload = ?, updated_at = ? WHERE id = ?", (blob, self._now(), row_id)
            )

    def mark_dead(self, row_id: int, outcome: Mapping[str, Any] | None) -> None:
        with self._tx() as conn:
            rec = conn.execute("SELECT kind, checkin_id FROM outbox WHERE id = ?", (row_id,)).fetchone()
            if rec is None:
                return
            blob = self._seal(
                outcome or {"resourceType": "OperationOutcome", "issue": []},
                self._aad(rec[0], rec[1], "outcome"),
            )
            conn.execute(
                "UPDATE outbox SET state = 'dead', outcome = ?, updated_at = ? WHERE id = ?",
                (blob, self._now(), row_id),
            )
        log.warning("outbox: row %d is dead (refused by the back-end)", row_id)
        self.purge_dead()

    def retry_dead(self, row_id: int) -> bool:
        """Staff action: send a dead row again (after fixing the cause)."""
        now = self._now()
        return self._update(
            "UPDATE outbox SET state = 'pending', outcome = NULL, updated_at = ?, next_attempt_at = ?"
            " WHERE id = ? AND state = 'dead'",
            (now, now, row_id),
        )

    def purge_dead(self) -> int:
        """Drop dead rows older than the retention period, and the oldest beyond ``max_dead``."""
        with self._tx() as conn:
            cutoff = self._now() - self._dead_retention.total_seconds()
            removed = conn.execute(
                "DELETE FROM outbox WHERE state = 'dead' AND updated_at < ?", (cutoff,)
            ).rowcount
            removed += conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'dead'"
                " ORDER BY updated_at DESC, id DESC LIMIT -1 OFFSET ?)",
                (self._max_dead,),
            ).rowcount
        if removed:
            log.info("outbox: purged %d dead row(s) past retention", removed)
        return removed

    # -- reading ---------------------------------------------------------------------------------------
    def counts(self) -> OutboxCounts:
        with self._lock:
            rows = dict(self._conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
        return OutboxCounts(rows.get("pending", 0), rows.get("in_flight", 0), rows.get("dead", 0))

    def next_due(self) -> datetime | None:
        with self._lock:
            rec = self._conn.execute(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'"
            ).fetchone()
        return _dt(rec[0]) if rec and rec[0] is not None else None

    def row_ids(self, *states: RowState) -> list[int]:
        """Ids of the rows in these states (all rows when none is given), oldest first. Nothing decrypted."""
        where = f" WHERE state IN ({','.join('?' * len(states))})" if states else ""
        with self._lock:
            recs = self._conn.execute(
                "SELECT id FROM outbox" + where + " ORDER BY id", tuple(str(s) for s in states)
            ).fetchall()
        return [int(r[0]) for r in recs]

    def get(self, row_id: int) -> OutboxRow | None:
        """One row, decrypted (None when it is gone). Raises ``CryptoError`` when it cannot be opened."""
        with self._lock:
            rec = self._conn.execute("SELECT * FROM outbox WHERE id = ?", (row_id,)).fetchone()
        return self._row(rec, with_outcome=True) if rec is not None else None

    def rows(self, state: RowState | None = None) -> Iterator[OutboxRow]:
        """Every row (decrypted), oldest first; dead rows with their OperationOutcome."""
        with self._lock:
            recs = self._conn.execute(
                "SELECT * FROM outbox" + (" WHERE state = ?" if state else "") + " ORDER BY id",
                (str(state),) if state else (),
            ).fetchall()
        for rec in recs:
            yield self._row(rec, with_outcome=True)


def open_outbox(data_dir: str | os.PathLike[str], key_path: str | os.PathLike[str], **kwargs: Any) -> Outbox:
    """The outbox in ``data_dir`` sealed with the key at ``key_path`` (created on first use, outside)."""
    ensure_outside(key_path, data_dir)
    return Outbox(Path(data_dir) / DB_NAME, SealedBox.from_key_file(key_path), **kwargs)
