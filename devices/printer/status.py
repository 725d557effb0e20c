"""What an ESC/POS printer says about itself: the real-time status bytes of ``DLE EOT n``, decoded.

``DLE EOT n`` (``10 04 n``) is answered at once, even while the printer is offline or busy, with one byte in
which bits 1 and 4 are always set and bits 0 and 7 always clear (``byte & 0x93 == 0x12``): anything else is
not a status byte and is ignored. The bits used here (Epson's ESC/POS reference, shared by most clones):

- ``n = 1`` printer status: bit 3 (``0x08``) offline.
- ``n = 2`` offline cause: bit 2 (``0x04``) cover open, bit 5 (``0x20``) stopped at paper end,
  bit 6 (``0x40``) an error occurred.
- ``n = 4`` roll-paper sensor: bits 2-3 (``0x0C``) paper near its end, bits 5-6 (``0x60``) paper out.

python-escpos's ``paper_status()`` masks give the same answers for ``n = 4``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DLE_EOT = b"\x10\x04"
QUERY_ONLINE = DLE_EOT + b"\x01"
QUERY_OFFLINE_CAUSE = DLE_EOT + b"\x02"
QUERY_PAPER = DLE_EOT + b"\x04"

OFFLINE_BIT = 0x08
COVER_OPEN_BIT = 0x04
PAPER_END_STOP_BIT = 0x20
ERROR_BIT = 0x40
PAPER_NEAR_END_BITS = 0x0C
PAPER_OUT_BITS = 0x60


class Paper(StrEnum):
    OK = "ok"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


def is_status_byte(value: int) -> bool:
    """True for a byte that can be a DLE EOT answer (fixed bits 1 and 4 set, 0 and 7 clear)."""
    return 0 <= value <= 0xFF and value & 0x93 == 0x12


@dataclass(frozen=True)
class PrinterStatus:
    """Decoded answers; ``None`` / UNKNOWN where the printer did not answer (or was not asked)."""

    online: bool | None = None
    cover_open: bool = False
    error: bool = False
    paper: Paper = Paper.UNKNOWN

    @property
    def answered(self) -> bool:
        return self.online is not None or self.paper is not Paper.UNKNOWN

    @property
    def problem(self) -> str:
        """The reason this printer cannot print now ("" when it can, or when it did not say).

        Reasons are PrinterFailure reasons: "out_of_paper", "cover_open", "offline", "error"."""
        if self.paper is Paper.OUT:
            return "out_of_paper"
        if self.cover_open:
            return "cover_open"
        if self.online is False:
            return "error" if self.error else "offline"
        return ""

    @property
    def paper_low(self) -> bool:
        return self.paper is Paper.LOW


def decode(online: int | None, offline_cause: int | None = None, paper: int | None = None) -> PrinterStatus:
    """Build a PrinterStatus from the raw answers to DLE EOT 1, 2 and 4 (``None`` = no valid answer)."""
    is_online: bool | None = None
    if online is not None and is_status_byte(online):
        is_online = not online & OFFLINE_BIT
    cover_open = error = False
    paper_state = Paper.UNKNOWN
    if offline_cause is not None and is_status_byte(offline_cause):
        cover_open = bool(offline_cause & COVER_OPEN_BIT)
        error = bool(offline_cause & ERROR_BIT)
        if offline_cause & PAPER_END_STOP_BIT:
            paper_state = Paper.OUT
    if paper is not None and is_status_byte(paper):
        if paper & PAPER_OUT_BITS == PAPER_OUT_BITS:
            paper_state = Paper.OUT
        elif paper & PAPER_NEAR_END_BITS == PAPER_NEAR_END_BITS:
            paper_state = Paper.LOW if paper_state is not Paper.OUT else paper_state
        elif paper_state is Paper.UNKNOWN:
            paper_state = Paper.OK
    return PrinterStatus(online=is_online, cover_open=cover_open, error=error, paper=paper_state)


def encode(
    *, online: bool = True, cover_open: bool = False, paper: Paper = Paper.OK, error: bool = False
) -> dict[int, int]:
    """The bytes a printer in this state answers to DLE EOT 1, 2 and 4 (for printer stand-ins in tests)."""
    status = 0x12 | (0 if online else OFFLINE_BIT)
    cause = 0x12
    if cover_open:
        cause |= COVER_OPEN_BIT
    if paper is Paper.OUT:
        cause |= PAPER_END_STOP_BIT
    if error:
        cause |= ERROR_BIT
    roll = 0x12
    if paper is Paper.LOW:
        roll |= PAPER_NEAR_END_BITS
    elif paper is Paper.OUT:
        roll |= PAPER_NEAR_END_BITS | PAPER_OUT_BITS
    return {1: status, 2: cause, 4: roll}
