"""Real printer backends without a printer: options, DLE EOT decoding, the receipt layout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices import registry
from devices.errors import DeviceSetupError
from devices.printer.base import PrinterDevice
from devices.printer.network import NetworkPrinter
from devices.printer.receipt_layout import Receipt, build_receipt_layout, format_amount, masked_card
from devices.printer.status import Paper, PrinterStatus, decode, encode, is_status_byte
from devices.printer.ticket_layout import Cut, TextLine
from kiosk.flow.ports import TicketPrinter
from kiosk.flow.types import Money, PaymentResult, PaymentStatus


# -- DLE EOT ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "problem", "paper"),
    [
        ({}, "", Paper.OK),
        ({"paper": Paper.LOW}, "", Paper.LOW),
        ({"paper": Paper.OUT, "online": False}, "out_of_paper", Paper.OUT),
        ({"online": False}, "offline", Paper.OK),
        ({"online": False, "cover_open": True}, "cover_open", Paper.OK),
        ({"online": False, "error": True}, "error", Paper.OK),
    ],
)
def test_status_bytes_round_trip(state: dict[str, object], problem: str, paper: Paper) -> None:
    answers = encode(**state)  # type: ignore[arg-type]
    assert all(is_status_byte(b) for b in answers.values())
    status = decode(answers[1], answers[2], answers[4])
    assert (status.problem, status.paper) == (problem, paper)
    assert status.answered


def test_epson_reference_bytes() -> None:
    assert decode(0x12, None, 0x12) == PrinterStatus(online=True, paper=Paper.OK)
    assert decode(0x1A, 0x32, 0x7E).problem == "out_of_paper"  # offline, stopped at paper end, sensor: end
    assert decode(0x12, None, 0x1E).paper is Paper.LOW  # near-end sensor
    assert decode(0x1A, 0x16, 0x12).problem == "cover_open"


def test_bytes_that_are_not_status_answers_are_ignored() -> None:
    assert not is_status_byte(0x00) and not is_status_byte(0xFF) and not is_status_byte(0x41)
    status = decode(0x41, None, 0xFF)  # "A" and noise: no answer
    assert status == PrinterStatus() and not status.answered and status.problem == ""


# -- options ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("backend", "options", "fragment"),
    [
        ("network", {}, "option 'host' = '' is invalid"),
        ("network", {"host": "10.0.0.9", "port": 70000}, "option 'port' = 70000"),
        ("network", {"host": "10.0.0.9", "colour": "red"}, "unknown option(s) 'colour'"),
        ("network", {"host": "10.0.0.9", "profile": "TM-NOPE"}, "unknown escpos profile 'TM-NOPE'"),
        ("network", {"host": "10.0.0.9", "timezone": "Mars/Olympus"}, "option 'timezone'"),
        ("usb", {"vendor_id": 0x04B8}, "option 'product_id'"),
        ("usb", {"vendor_id": "04b8", "product_id": 1}, "option 'vendor_id' = '04b8'"),
        ("serial", {}, "option 'device'"),
        ("serial", {"device": "/dev/ttyS0", "parity": "X"}, "option 'parity' = 'X'"),
        ("file", {}, "option 'path'"),
    ],
)
def test_bad_options_name_the_key(backend: str, options: dict[str, object], fragment: str) -> None:
    with pytest.raises(DeviceSetupError) as err:
        registry.create("printer", backend, options)
    assert fragment in str(err.value)


def test_backends_meet_the_protocols_and_open_nothing_when_created() -> None:
    # A host nobody listens on: creating the backend must not connect (the kiosk starts without its printer).
    printer = registry.create("printer", "network", {"host": "192.0.2.1", "profile": "TM-T88V"})
    assert isinstance(printer, NetworkPrinter)
    assert isinstance(printer, PrinterDevice) and isinstance(printer, TicketPrinter)
    assert printer.describe() == "192.0.2.1:9100 (TM-T88V)"
    for backend, options in (
        ("usb", {"vendor_id": 0x04B8, "product_id": 0x0E15}),
        ("serial", {"device": "/dev/ttyUSB0"}),
        ("file", {"path": "/dev/usb/lp0"}),
    ):
        assert isinstance(registry.create("printer", backend, options), PrinterDevice)


def test_profile_sets_the_line_width() -> None:
    wide = NetworkPrinter.from_options({"host": "192.0.2.1", "profile": "TM-T20II"})
    narrow = NetworkPrinter.from_options({"host": "192.0.2.1", "profile": "TM-P80-42col"})
    layout = build_receipt_layout(Receipt("Clinic", PAYMENT))
    assert b"-" * 48 + b"\n" in wide.render(layout)
    assert b"-" * 42 + b"\n" in narrow.render(layout) and b"-" * 43 not in narrow.render(layout)


# -- receipt ------------------------------------------------------------------------------------------------
PAYMENT = PaymentResult(
    status=PaymentStatus.APPROVED,
    amount=Money(2500, "USD"),
    reference="c0ffee",
    processor_reference="pi_123",
    brand="visa",
    last4="4242",
    auth_code="A1B2C3",
    at=datetime(2025, 3, 4, 19, 4, tzinfo=UTC),
)


def test_receipt_layout_has_only_brand_and_last_four() -> None:
    layout = build_receipt_layout(Receipt("Riverside", PAYMENT))
    texts = [e.text for e in layout.elements if isinstance(e, TextLine)]
    assert texts[:2] == ["Riverside", "Payment receipt"]
    assert "$25.00" in texts and "Card: VISA **** 4242" in texts
    assert "Authorization: A1B2C3" in texts and "Reference: pi_123" in texts
    assert isinstance(layout.elements[-1], Cut)


def test_receipt_labels_and_money_follow_the_language() -> None:
    from devices.printer.receipt_layout import ReceiptLabels

    labels = ReceiptLabels(title="Recibo de pago", card="Tarjeta", approved="Aprobado")
    layout = build_receipt_layout(Receipt("Riverside", PAYMENT, language="es", labels=labels))
    texts = [e.text for e in layout.elements if isinstance(e, TextLine)]
    assert "Recibo de pago" in texts and "Tarjeta: VISA **** 4242" in texts
    assert "25,00 US$" in texts


def test_money_and_card_formatting() -> None:
    assert format_amount(2500, "USD", "en") == "$25.00"
    assert format_amount(1500, "JPY", "en") == "¥1,500"
    assert masked_card("mastercard", "4444") == "MASTERCARD **** 4444"
    assert masked_card("visa", "4242424242424242") == "VISA **** 4242"  # never more than four digits
    assert masked_card("amex", "") == "AMEX"


@pytest.mark.parametrize("status", [s for s in PaymentStatus if s is not PaymentStatus.APPROVED])
def test_no_receipt_without_an_approval(status: PaymentStatus) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError):
        build_receipt_layout(Receipt("Riverside", replace(PAYMENT, status=status)))
