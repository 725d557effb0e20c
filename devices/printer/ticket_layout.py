"""The visit ticket, described once: the ESC/POS renderer and the PNG preview both draw this layout.

What goes on paper (DESIGN §9): the clinic's name, the queue number, first name + last initial, the time,
where to wait (or "see the front desk"), and a QR code that carries only ``CKI-TICKET:<checkin_id>`` for
staff to scan. No family name, no date of birth, nothing else personal.

Text sizes follow the printer's character grid: NORMAL is font A (12 × 24 dots), LARGE is 2 × 2,
HUGE is 4 × 4; the preview draws them at the same pixel sizes on a 576-px page (80 mm paper, 203 dpi).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from enum import Enum, StrEnum

from babel import Locale, UnknownLocaleError

from kiosk.flow.types import Ticket
from kiosk.i18n import translator
from kiosk.l10n import format_time, printable

QR_PREFIX = "CKI-TICKET:"


class Size(Enum):
    """Character magnification on the printer (width, height)."""

    NORMAL = (1, 1)
    LARGE = (2, 2)
    HUGE = (4, 4)


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class TextLine:
    text: str = field(repr=False)  # may hold the display name
    size: Size = Size.NORMAL
    bold: bool = False
    align: Align = Align.CENTER


@dataclass(frozen=True)
class QrCode:
    payload: str
    module: int = 6  # printer dots per QR module
    error: str = "M"  # error-correction level: L, M, Q or H
    align: Align = Align.CENTER


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Rule:
    """A horizontal separator line across the paper."""


@dataclass(frozen=True)
class Cut:
    pass


Element = TextLine | QrCode | Feed | Rule | Cut


@dataclass(frozen=True)
class TicketLayout:
    elements: tuple[Element, ...]
    language: str

    @property
    def qr_payload(self) -> str | None:
        for element in self.elements:
            if isinstance(element, QrCode):
                return element.payload
        return None


def qr_payload(checkin_id: str) -> str:
    return f"{QR_PREFIX}{checkin_id}"


def babel_locale(language: str) -> Locale:
    """Babel's locale named by a language code ("en", "es", "pt_BR", "zh-Hant"); English when unknown.
    (The receipt's money still uses it; the ticket formats through kiosk.l10n, as the screens do.)"""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_ticket_time(ticket: Ticket, timezone: tzinfo | None = None) -> str:
    """The issue time in the clinic's timezone (default: the timezone ``issued_at`` carries), per language."""
    if ticket.issued_at.tzinfo is None:
        raise ValueError("Ticket.issued_at must be timezone-aware")
    # The screens' locale of the language ("es" → es_US: "2:05 p.m."), with plain spaces for the printer.
    return printable(format_time(ticket.issued_at, ticket.language, timezone))


def build_layout(ticket: Ticket, timezone: tzinfo | None = None) -> TicketLayout:
    """The ticket's layout in the ticket's language."""
    _ = translator(ticket.language).gettext
    elements: list[Element] = [
        TextLine(ticket.clinic_name, Size.NORMAL, bold=True),
        Rule(),
        Feed(1),
        TextLine(_("Your number"), Size.NORMAL),
        TextLine(ticket.queue_number, Size.HUGE, bold=True),
        Feed(1),
    ]
    if ticket.display_name:
        elements.append(TextLine(ticket.display_name, Size.LARGE))
    elements.append(TextLine(format_ticket_time(ticket, timezone), Size.NORMAL))
    elements.append(Feed(1))
    if ticket.desk:
        elements.append(
            TextLine(_("Please see the front desk. We have your details."), Size.NORMAL, bold=True)
        )
    else:
        elements.append(
            TextLine(_("Please wait in: {wait_area}").format(wait_area=ticket.wait_area), Size.NORMAL)
        )
    if ticket.checkin_id:
        elements += [Feed(1), QrCode(qr_payload(ticket.checkin_id))]
    elements += [Feed(1), Cut()]
    return TicketLayout(tuple(elements), ticket.language)
