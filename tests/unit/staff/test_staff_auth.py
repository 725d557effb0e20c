"""Staff unlock: PIN with lockout and back-off (clock injected), badges through the allow-list, sessions
that lock themselves, and every attempt in the audit trail (without the PIN or the badge UID)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.smartcard.badges import BadgeAllowList, fingerprint
from devices.smartcard.base import CardEvent, CardEventKind
from kiosk.staff.audit import FILE_NAME, AuditLog
from kiosk.staff.auth import StaffAuth
from kiosk.staff.pin import hash_pin

ANNA = hash_pin("246810", "anna", n=2**8)
BEN = hash_pin("135790", "ben", n=2**8)
BADGE = "04A1B2C3"


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


def make(tmp_path: Path, clock: Clock, **kw: object) -> StaffAuth:
    audit = AuditLog(tmp_path, "lobby-1")
    options: dict[str, object] = {"max_failures": 3, "lockout_s": 30.0, "lockout_max_s": 100.0,
                                  "unlock_timeout_s": 60.0, **kw}  # fmt: skip
    return StaffAuth(pins=(ANNA, BEN), badges=BadgeAllowList.of([BADGE]), audit=audit, state_dir=tmp_path,
                     clock=clock, **options)  # type: ignore[arg-type]


def actions(auth: StaffAuth) -> list[tuple[str, str, str]]:
    return [(e.who, e.action, e.outcome) for e in auth.audit.entries()]


def test_the_right_pin_unlocks_as_its_owner(tmp_path: Path) -> None:
    auth = make(tmp_path, Clock())
    assert auth.pin_enabled and auth.badge_enabled and auth.current() is None
    result = auth.unlock_pin("135790")
    assert result.ok and result.staff == "ben" and auth.current_staff() == "ben"
    assert actions(auth) == [("ben", "unlock", "success")]


def test_lockout_after_failures_then_back_off_doubles_up_to_the_cap(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock)
    assert [auth.unlock_pin("000000").reason for _ in range(2)] == ["wrong_pin", "wrong_pin"]
    third = auth.unlock_pin("000000")
    assert third.reason == "locked_out" and third.retry_after_s == 30.0
    # while locked out even the right PIN is refused, and not checked (no attempt counted)
    assert auth.unlock_pin("246810").reason == "locked_out" and auth.current() is None
    clock.t += 29.9
    assert auth.unlock_pin("246810").reason == "locked_out"
    clock.t += 0.1
    assert auth.lockout_remaining() == 0.0
    assert auth.unlock_pin("999999").retry_after_s == 60.0  # one more wrong PIN: twice as long
    clock.t += 60
    assert auth.unlock_pin("999999").retry_after_s == 100.0  # capped (120 > lockout_max_s)
    clock.t += 100
    assert auth.unlock_pin("246810").ok  # the right PIN clears everything
    auth.lock()
    assert [auth.unlock_pin("000000").reason for _ in range(3)] == ["wrong_pin", "wrong_pin", "locked_out"]
    trail = actions(auth)
    assert trail.count(("unknown", "unlock_failed", "failure")) == 8
    assert trail.count(("unknown", "lockout", "failure")) == 4
    assert ("anna", "unlock", "success") in trail and ("anna", "lock", "success") in trail
    text = (tmp_path / FILE_NAME).read_text()
    assert "246810" not in text and "000000" not in text and "999999" not in text


def test_the_lockout_survives_a_restart_and_a_clock_set_back(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock)
    for _ in range(3):
        auth.unlock_pin("000000")
    again = make(tmp_path, clock)  # the kiosk restarted
    assert again.unlock_pin("246810").reason == "locked_out"
    clock.t -= 10_000  # someone sets the clock back a few hours: at most lockout_max_s more
    assert make(tmp_path, clock).lockout_remaining() == 100.0


def test_input_that_is_no_pin_uses_no_attempt(tmp_path: Path) -> None:
    auth = make(tmp_path, Clock())
    for bad in ("12", "abcd", "1234567890123", ""):
        assert auth.unlock_pin(bad).reason == "invalid_pin"
    assert [auth.unlock_pin("000000").reason for _ in range(3)][-1] == "locked_out"


def test_badges_unlock_through_the_allow_list(tmp_path: Path) -> None:
    auth = make(tmp_path, Clock())
    reader = "Kiosk Badge 00 00"
    assert auth.unlock_badge(CardEvent(CardEventKind.READER_ADDED, reader)) is None
    assert auth.unlock_badge(CardEvent(CardEventKind.REMOVED, reader, BADGE)) is None
    unknown = auth.unlock_badge(CardEvent(CardEventKind.INSERTED, reader, "04FFFFFF"))
    assert unknown is not None and unknown.reason == "unknown_badge" and auth.current() is None
    no_uid = auth.unlock_badge(CardEvent(CardEventKind.INSERTED, reader, ""))
    assert no_uid is not None and no_uid.reason == "unreadable"
    ok = auth.unlock_badge(CardEvent(CardEventKind.INSERTED, reader, "04:a1:b2:c3"))
    assert ok is not None and ok.ok and ok.staff == f"badge:{fingerprint(BADGE)}"
    text = (tmp_path / FILE_NAME).read_text()
    assert BADGE not in text.upper() and "04FFFFFF" not in text.upper()
    assert [a for _, a, _ in actions(auth)] == ["badge_refused", "badge_refused", "unlock"]


def test_a_badge_clears_a_pin_lockout(tmp_path: Path) -> None:
    auth = make(tmp_path, Clock())
    for _ in range(3):
        auth.unlock_pin("000000")
    assert auth.unlock_badge(CardEvent(CardEventKind.INSERTED, "r", BADGE)).ok  # type: ignore[union-attr]
    assert auth.lockout_remaining() == 0.0


def test_staff_mode_locks_itself_when_unused_and_touch_keeps_it(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock)
    auth.unlock_pin("246810")
    clock.t += 50
    auth.touch()
    clock.t += 50
    assert auth.current() is not None  # 50 s after the last touch
    assert auth.record("sync_now", detail="manual")
    clock.t += 60
    assert auth.current() is None and auth.current_staff() is None
    assert not auth.record("sync_now")  # nobody unlocked: nothing done, nothing written
    assert actions(auth)[-2:] == [("anna", "sync_now", "success"), ("anna", "lock", "success")]
    assert list(auth.audit.entries())[-1].detail == "timeout"


def test_not_configured(tmp_path: Path) -> None:
    auth = StaffAuth(pins=(), badges=None, audit=AuditLog(tmp_path, "k"), clock=Clock())
    assert not auth.pin_enabled and not auth.badge_enabled
    assert auth.unlock_pin("246810").reason == "pin_not_configured"
    assert auth.unlock_badge(CardEvent(CardEventKind.INSERTED, "r", BADGE)).reason == "badge_not_configured"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", [None, 246810, b"246810"])
def test_wrong_types_are_invalid_not_errors(tmp_path: Path, bad: object) -> None:
    assert make(tmp_path, Clock()).unlock_pin(bad).reason == "invalid_pin"  # type: ignore[arg-type]
