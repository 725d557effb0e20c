"""The payment receipt, described once (ESC/POS and PNG preview draw the same TicketLayout).

What goes on paper: the clinic's name, the date and time, the amount, the card's brand and last four digits
(never more of the card: the kiosk never has more), the authorization code and the processor's reference. No
patient name, nothing else personal.

The words come from the caller as :class:`ReceiptLabels` (English by default): the screens that offer a
receipt own the patient's language and its catalog, the device only lays words out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal

from babel.dates import format_datetime
from babel.numbers import format_currency

from devices.printer.ticket_layout import (
    Align,
    Cut,
    Element,
    Feed,
    Rule,
    Size,
    TextLine,
    TicketLayout,
    babel_locale,
)
from kiosk.flow.types import PaymentResult, PaymentStatus

MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


@dataclass(frozen=True)
class ReceiptLabels:
    title: str = "Payment receipt"
    approved: str = "Approved"
    card: str = "Card"
    auth_code: str = "Authorization"
    reference: str = "Reference"
    thanks: str = "Thank you"


@dataclass(frozen=True)
class Receipt:
    clinic_name: str
    payment: PaymentResult = field(repr=False)
    language: str = "en"
    labels: ReceiptLabels = field(default_factory=ReceiptLabels)


def format_amount(cents: int, currency: str, language: str) -> str:
    digits = MINOR_UNITS.get(currency.upper(), 2)
    amount = Decimal(cents).scaleb(-digits)
    text = format_currency(amount, currency.upper(), locale=babel_locale(language))
    return _printable(text)


def masked_card(brand: str, last4: str) -> str:
    """"VISA **** 4242": the brand and the last four digits, nothing more."""
    digits = "".join(c for c in last4 if c.isdigit())[-4:]
    return f"{brand.upper()} **** {digits}".strip() if digits else brand.upper()


def _printable(text: str) -> str:
    # CLDR puts (narrow) no-break spaces in amounts and times: printer code pages lack them.
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def build_receipt_layout(receipt: Receipt, timezone: tzinfo | None = None) -> TicketLayout:
    """The receipt of an approved payment. Raises ValueError for any other result (nothing was paid)."""
    payment = receipt.payment
    if payment.status is not PaymentStatus.APPROVED:
        raise ValueError(f"no receipt for a payment that is {payment.status.value}")
    labels = receipt.labels
    elements: list[Element] = [
        TextLine(receipt.clinic_name, Size.NORMAL, bold=True),
        Rule(),
        TextLine(labels.title, Size.NORMAL, bold=True),
    ]
    if payment.at is not None:
        if payment.at.tzinfo is None:
            raise ValueError("PaymentResult.at must be timezone-aware")
        when = payment.at.astimezone(timezone) if timezone is not None else payment.at
        text = format_datetime(when, format="short", tzinfo=when.tzinfo, locale=babel_locale(receipt.language))
        elements.append(TextLine(_printable(text), Size.NORMAL))
    elements += [
        Feed(1),
        TextLine(format_amount(payment.amount.cents, payment.amount.currency, receipt.language), Size.LARGE, True),
        TextLine(labels.approved, Size.NORMAL, bold=True),
        Feed(1),
    ]
    if payment.brand or payment.last4:
        elements.append(_pair(labels.card, masked_card(payment.brand, payment.last4)))
    if payment.auth_code:
        elements.append(_pair(labels.auth_code, payment.auth_code))
    if payment.processor_reference:
        elements.append(_pair(labels.reference, payment.processor_reference))
    elements += [Feed(1), TextLine(labels.thanks, Size.NORMAL), Feed(1), Cut()]
    return TicketLayout(tuple(elements), receipt.language)


def _pair(label: str, value: str) -> TextLine:
    return TextLine(f"{label}: {value}", Size.NORMAL, align=Align.LEFT)
