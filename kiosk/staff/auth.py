"""Staff unlock: a PIN (scrypt hashes, ``kiosk.staff.pin``) or a badge on the allow-list, with a lockout.

API for the UI (no Kivy here; every call is fast except ``unlock_pin``, ~50 ms of scrypt per hash line:
call it off the UI thread)::

    auth = runtime.staff                              # StaffAuth, built by kiosk.runtime.build
    auth.pin_enabled / auth.badge_enabled             # what the unlock screen offers
    r = auth.unlock_pin("246810")                     # UnlockResult(ok, staff, reason, retry_after_s)
    r = auth.unlock_badge(card_event)                 # a devices.smartcard CardEvent; None when not an insert
    auth.lockout_remaining()                          # seconds until a PIN is taken again (0.0 = now)
    auth.current()                                    # the StaffSession while unlocked, else None
    auth.touch()                                      # a staff tap: the session lives unlock_timeout_s more
    auth.lock()                                       # leave staff mode (audited)

``reason`` keys: ``ok``, ``wrong_pin``, ``invalid_pin`` (not 4-12 digits: no attempt used), ``locked_out``,
``pin_not_configured``, ``unknown_badge``, ``unreadable``, ``badge_not_configured``.

Lockout: ``max_failures`` wrong PINs in a row lock PIN entry for ``lockout_s``; every further wrong PIN after
a lockout doubles it (up to ``lockout_max_s``); a correct PIN (or a badge) clears it. The counter lives in
``<data_dir>/staff-lockout.json`` (no personal data), so restarting the kiosk does not reset it. Badges are
not locked out (a physical token), but an unknown badge is audited.

Also the flow's ``StaffGate`` (kiosk/flow/tablet.py): ``current_staff()``, ``lock()``, ``audit()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devices.smartcard.badges import BadgeAllowList, BadgeDecision, decide, fingerprint, normalize_uid
from devices.smartcard.base import CardEvent

from .audit import AuditLog
from .pin import PinHash, check_pin, valid_pin

log = logging.getLogger(__name__)

LOCKOUT_FILE = "staff-lockout.json"


@dataclass(frozen=True)
class StaffSession:
    staff: str  # a staff id (PIN) or "badge:<fingerprint>"
    method: str  # "pin" | "badge"
    started_at: float  # the auth clock's seconds
    expires_at: float


@dataclass(frozen=True)
class UnlockResult:
    ok: bool
    reason: str
    staff: str = ""
    retry_after_s: float = 0.0  # when locked out: seconds until a PIN is taken again


class StaffAuth:
    def __init__(
        self,
        *,
        pins: tuple[PinHash, ...],
        badges: BadgeAllowList | None,
        audit: AuditLog,
        state_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        max_failures: int = 5,
        lockout_s: float = 30.0,
        lockout_max_s: float = 900.0,
        unlock_timeout_s: float = 120.0,
    ) -> None:
        self._pins = pins
        self._badges = badges
        self.audit = audit
        self._state_path = Path(state_dir) / LOCKOUT_FILE if state_dir is not None else None
        self._clock = clock
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.lockout_max_s = lockout_max_s
        self.unlock_timeout_s = unlock_timeout_s
        self._lock = threading.RLock()
        self._failures, self._locked_until, self._lockouts = self._load_state()
        self._session: StaffSession | None = None

    # -- what is configured -----------------------------------------------------------------------------
    @property
    def pin_enabled(self) -> bool:
        return bool(self._pins)

    @property
    def badge_enabled(self) -> bool:
        return self._badges is not None and len(self._badges) > 0

    # -- unlocking --------------------------------------------------------------------------------------
    def lockout_remaining(self) -> float:
        with self._lock:
            return max(0.0, self._locked_until - self._clock())

    def unlock_pin(self, pin: str) -> UnlockResult:
        """Check a PIN (blocks ~50 ms per hash line). Never logs or audits the PIN."""
        if not self._pins:
            return UnlockResult(False, "pin_not_configured")
        if not isinstance(pin, str) or not valid_pin(pin):
            return UnlockResult(False, "invalid_pin")
        with self._lock:
            remaining = self.lockout_remaining()
            if remaining > 0:
                return UnlockResult(False, "locked_out", retry_after_s=remaining)
            staff = check_pin(pin, self._pins)
            if staff is not None:
                self._set_state(0, 0.0, 0)
                return self._open(staff, "pin")
            failures = self._failures + 1
            lockouts, until = self._lockouts, self._locked_until
            if failures >= self.max_failures:
                lockouts += 1
                until = self._clock() + min(self.lockout_max_s, self.lockout_s * 2 ** (lockouts - 1))
            self._set_state(failures, until, lockouts)
        self.audit.record("unknown", "unlock_failed", outcome="failure", detail=f"pin:{failures}")
        if until > self._clock():
            wait = until - self._clock()
            self.audit.record("unknown", "lockout", outcome="failure", detail=f"{round(wait)}s")
            log.warning("staff unlock: PIN entry locked for %.0f s after %d wrong PINs", wait, failures)
            return UnlockResult(False, "locked_out", retry_after_s=wait)
        return UnlockResult(False, "wrong_pin")

    def unlock_badge(self, event: CardEvent) -> UnlockResult | None:
        """Decide on a card event (None when it is not a card insert). The UID is never logged."""
        if self._badges is None:
            return None if event.kind != "inserted" else UnlockResult(False, "badge_not_configured")
        decision = decide(event, self._badges)
        if decision is BadgeDecision.IGNORED:
            return None
        if decision is BadgeDecision.UNLOCK:
            with self._lock:
                self._set_state(0, 0.0, 0)
            return self._open(_badge_who(event.uid), "badge")
        who = _badge_who(event.uid) if event.uid else "unknown"
        self.audit.record(who, "badge_refused", outcome="failure", detail=str(decision))
        return UnlockResult(False, str(decision))

    def _open(self, staff: str, method: str) -> UnlockResult:
        now = self._clock()
        with self._lock:
            self._session = StaffSession(staff, method, now, now + self.unlock_timeout_s)
        self.audit.record(staff, "unlock", detail=method)
        return UnlockResult(True, "ok", staff=staff)

    # -- the session ------------------------------------------------------------------------------------
    def current(self) -> StaffSession | None:
        with self._lock:
            session = self._session
            if session is not None and self._clock() >= session.expires_at:
                self._session = None
                expired = session
            else:
                return session
        self.audit.record(expired.staff, "lock", detail="timeout")
        return None

    def touch(self) -> None:
        """Staff activity: the session lives ``unlock_timeout_s`` from now."""
        with self._lock:
            s = self._session
            if s is not None and self._clock() < s.expires_at:
                self._session = StaffSession(s.staff, s.method, s.started_at, self._clock() + self.unlock_timeout_s)

    def lock(self, reason: str = "manual") -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            self.audit.record(session.staff, "lock", detail=reason)

    def record(self, action: str, *, outcome: str = "success", detail: str = "") -> bool:
        """Audit an action done by whoever is unlocked now. False (and nothing written) when locked."""
        session = self.current()
        if session is None:
            return False
        self.audit.record(session.staff, action, outcome=outcome, detail=detail)
        return True

    # -- kiosk.flow.tablet.StaffGate ----------------------------------------------------------------------
    def current_staff(self) -> str | None:
        session = self.current()
        return session.staff if session else None

    def audit_action(self, action: str, detail: str = "") -> None:
        self.record(action, detail=detail)

    # -- lockout state on disk --------------------------------------------------------------------------
    def _load_state(self) -> tuple[int, float, int]:
        if self._state_path is None:
            return 0, 0.0, 0
        try:
            data = json.loads(self._state_path.read_text())
            failures, until, lockouts = int(data["failures"]), float(data["locked_until"]), int(data["lockouts"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return 0, 0.0, 0
        # A clock set back must not stretch a lockout beyond its longest length.
        return failures, min(until, self._clock() + self.lockout_max_s), lockouts

    def _set_state(self, failures: int, locked_until: float, lockouts: int) -> None:
        self._failures, self._locked_until, self._lockouts = failures, locked_until, lockouts
        if self._state_path is None:
            return
        try:
            self._state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self._state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"failures": failures, "locked_until": locked_until, "lockouts": lockouts}))
            os.replace(tmp, self._state_path)
        except OSError as exc:
            log.error("staff lockout state not saved (%s)", type(exc).__name__)


def _badge_who(uid: str) -> str:
    """``badge:<fingerprint>`` of the normalized UID (the same badge always reads the same)."""
    with contextlib.suppress(ValueError):
        uid = normalize_uid(uid)
    return f"badge:{fingerprint(uid)}"
