"""devices.smartcard.badges: staff badge UIDs against an allow-list (pure, no reader)."""

from __future__ import annotations

import pytest

from devices import registry
from devices.errors import DeviceSetupError
from devices.smartcard.badges import BadgeAllowList, BadgeDecision, decide, fingerprint, normalize_uid
from devices.smartcard.base import CardEvent, CardEventKind

STAFF = "04A1B2C3D4E5F6"


@pytest.mark.parametrize(
    ("text", "uid"),
    [("04a1b2c3", "04A1B2C3"), ("04:A1:B2:C3", "04A1B2C3"), (" 04-a1 b2-c3 ", "04A1B2C3"), (STAFF, STAFF),
     ("0102030405060708090A", "0102030405060708090A")],
)
def test_normalize_uid(text: str, uid: str) -> None:
    assert normalize_uid(text) == uid


@pytest.mark.parametrize("text", ["", "04A1B2", "04A1B2C3D", "ZZA1B2C3", "04A1B2C3D4E5", "0x04A1B2C3"])
def test_not_a_uid(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_uid(text)


def event(kind: CardEventKind, uid: str = "") -> CardEvent:
    return CardEvent(kind, "Reader 00 00", uid)


def test_decisions() -> None:
    allow = BadgeAllowList.of([STAFF])
    assert decide(event(CardEventKind.INSERTED, STAFF.lower()), allow) is BadgeDecision.UNLOCK
    assert decide(event(CardEventKind.INSERTED, "DEADBEEF"), allow) is BadgeDecision.UNKNOWN_BADGE
    assert decide(event(CardEventKind.INSERTED, ""), allow) is BadgeDecision.UNREADABLE
    assert decide(event(CardEventKind.REMOVED, STAFF), allow) is BadgeDecision.IGNORED
    assert decide(event(CardEventKind.INSERTED, STAFF), BadgeAllowList()) is BadgeDecision.UNKNOWN_BADGE
    assert not allow.allows("not hex")


def test_allow_list_text_names_the_bad_line() -> None:
    allow = BadgeAllowList.from_text("# desk\n04 A1 B2 C3  # Sam\n\n")
    assert allow.uids == frozenset({"04A1B2C3"})
    with pytest.raises(ValueError, match="badges.txt line 2"):
        BadgeAllowList.from_text("04A1B2C3\nSam's badge\n", source="badges.txt")


def test_uids_stay_out_of_reprs_and_logs() -> None:
    assert STAFF not in repr(event(CardEventKind.INSERTED, STAFF))
    assert STAFF not in fingerprint(STAFF) and len(fingerprint(STAFF)) == 10
    assert fingerprint(STAFF) == fingerprint(STAFF.lower())


def test_pcsc_options() -> None:
    with pytest.raises(DeviceSetupError, match="option 'readers'"):
        registry.create("smartcard", "pcsc", {"readers": "ACR122"})
    with pytest.raises(DeviceSetupError, match="unknown option"):
        registry.create("smartcard", "pcsc", {"reader": ["ACR122"]})
    reader = registry.create("smartcard", "pcsc", {"readers": ["ACR122"], "poll_interval": 0.5})
    assert reader is not None  # created without touching pcscd
