"""The staff audit trail (DESIGN §9: every staff action is audited): who, what, when, and nothing about patients.

Each action is one JSON line appended to ``<data_dir>/staff-audit.jsonl`` (mode 0600, rotated at a size into
``.1`` … ``.N``; never rewritten in place), and, where a back-end exists, handed to ``forward`` (the runtime
puts an AuditEvent in the outbox: ``portal_client.fhir.audit_write``). A failing forward never loses the
local line.

Line: ``{"id", "at" (ISO 8601 with offset), "kiosk", "who", "action", "outcome", "detail"}`` where ``who`` is a
staff id (PIN), ``badge:<fingerprint>`` (never a badge UID) or ``unknown``; ``action`` a fixed code from
``ACTIONS``; ``outcome`` ``success`` | ``failure``; ``detail`` a short code (a row id, a reason key). Callers
pass codes, never free text: nothing personal can reach the file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "staff-audit.jsonl"
ACTIONS = frozenset({
    "unlock", "unlock_failed", "lockout", "lock", "badge_refused",
    "test_print", "reprint_ticket", "cancel_session", "sync_now", "restart_devices",
    "retry_dead_row", "discard_dead_row", "leave_kiosk_mode", "tablet_session_started", "tablet_released",
})  # fmt: skip
_DETAIL_MAX = 64


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: datetime
    kiosk: str
    who: str
    action: str
    outcome: str = "success"
    detail: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> AuditEntry:
        data = json.loads(line)
        return cls(**{**data, "at": datetime.fromisoformat(data["at"])})


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _code(text: str) -> str:
    """Keep a detail a short code: letters, digits and ``_-.:/`` only."""
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c in "_-.:/"))[:_DETAIL_MAX]


class AuditLog:
    """Append-only, rotated JSON-lines audit file. Thread-safe."""

    def __init__(
        self,
        folder: Path,
        kiosk_id: str,
        *,
        max_bytes: int = 1_000_000,
        backups: int = 5,
        now: Callable[[], datetime] = _utc_now,
        forward: Callable[[AuditEntry], None] | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.path = Path(folder) / FILE_NAME
        self.kiosk_id = kiosk_id
        self.max_bytes = max_bytes
        self.backups = backups
        self._now = now
        self.forward = forward
        self._new_id = new_id
        self._lock = threading.Lock()

    def record(self, who: str, action: str, *, outcome: str = "success", detail: str = "") -> AuditEntry:
        """Write one action. ``action`` must be one of ``ACTIONS``; ``detail`` is reduced to a short code."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if outcome not in ("success", "failure"):
            raise ValueError("outcome is 'success' or 'failure'")
        entry = AuditEntry(self._new_id(), self._now(), self.kiosk_id, _code(who) or "unknown", action, outcome,
                           _code(detail))  # fmt: skip
        with self._lock:
            self._rotate_if_needed()
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (entry.to_json() + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        log.info("staff audit: %s %s (%s)", entry.action, entry.outcome, entry.who)
        if self.forward is not None:
            try:
                self.forward(entry)
            except Exception as exc:  # the local line is written; the back-end copy is best effort
                log.warning("staff audit: forwarding failed (%s)", type(exc).__name__)
        return entry

    def _rotate_if_needed(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self.max_bytes:
            return
        for index in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{FILE_NAME}.{index}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{FILE_NAME}.{index + 1}"))
        os.replace(self.path, self.path.with_name(f"{FILE_NAME}.1"))

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry still on disk, oldest first (rotated files included)."""
        files = [self.path.with_name(f"{FILE_NAME}.{i}") for i in range(self.backups, 0, -1)] + [self.path]
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            for line in text.splitlines():
                if line.strip():
                    yield AuditEntry.from_json(line)
