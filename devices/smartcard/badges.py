"""Staff badges: which card UIDs may unlock the kiosk's staff mode (pure: no reader, no I/O but a file read).

The reader reports a card's UID (``FF CA 00 00 00``); :func:`decide` turns an insert event and the allow-list
into a decision the UI acts on. UIDs are compared in constant time over the whole list and never logged:
log :func:`fingerprint` instead (a short hash that tells badges apart in an audit trail).

Allow-list file: one UID per line in hexadecimal (any case; spaces, ``:`` and ``-`` between bytes allowed),
``#`` starts a comment (e.g. whose badge it is: the file is configuration, kept with strict permissions).
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from devices.smartcard.base import CardEvent, CardEventKind

UID_LENGTHS = (4, 7, 10)  # bytes: ISO/IEC 14443 single, double and triple size UIDs


class BadgeDecision(StrEnum):
    UNLOCK = "unlock"  # a badge on the allow-list
    UNKNOWN_BADGE = "unknown_badge"  # a card with a UID nobody allowed
    UNREADABLE = "unreadable"  # a card without a readable UID (a bank card, a contact chip card)
    IGNORED = "ignored"  # not an insertion


def normalize_uid(text: str) -> str:
    """ "04:a1:b2:c3" → "04A1B2C3". Raises ValueError for anything that is not a 4, 7 or 10 byte UID."""
    clean = "".join(c for c in text.strip() if c not in " :-").upper()
    if not clean or any(c not in string.hexdigits for c in clean) or len(clean) // 2 not in UID_LENGTHS or (
        len(clean) % 2
    ):
        raise ValueError("a badge UID is 4, 7 or 10 bytes in hexadecimal")
    return clean


def fingerprint(uid: str) -> str:
    """A short, stable stand-in for a UID in logs and audit records."""
    return hashlib.sha256(uid.upper().encode()).hexdigest()[:10]


@dataclass(frozen=True)
class BadgeAllowList:
    uids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, uids: Iterable[str]) -> BadgeAllowList:
        return cls(frozenset(normalize_uid(u) for u in uids))

    @classmethod
    def from_text(cls, text: str, *, source: str = "allow-list") -> BadgeAllowList:
        found = set()
        for number, line in enumerate(text.splitlines(), start=1):
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            try:
                found.add(normalize_uid(entry))
            except ValueError:
                raise ValueError(f"{source} line {number}: not a badge UID (4, 7 or 10 bytes in hex)") from None
        return cls(frozenset(found))

    @classmethod
    def from_file(cls, path: Path) -> BadgeAllowList:
        return cls.from_text(path.read_text(encoding="utf-8"), source=str(path))

    def __len__(self) -> int:
        return len(self.uids)

    def allows(self, uid: str) -> bool:
        try:
            wanted = normalize_uid(uid).encode()
        except ValueError:
            return False
        match = False
        for allowed in self.uids:  # no early exit: the time taken does not tell how close a guess came
            match |= hmac.compare_digest(allowed.encode(), wanted)
        return match


def decide(event: CardEvent, allow_list: BadgeAllowList) -> BadgeDecision:
    if event.kind is not CardEventKind.INSERTED:
        return BadgeDecision.IGNORED
    if not event.uid:
        return BadgeDecision.UNREADABLE
    return BadgeDecision.UNLOCK if allow_list.allows(event.uid) else BadgeDecision.UNKNOWN_BADGE
