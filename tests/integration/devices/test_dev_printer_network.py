"""Real ESC/POS printer backends against printer stand-ins that record bytes and answer DLE EOT.

Every job is read back with devices.printer.escpos_decode (text and its attributes, native QR, cut) and the
QR code is decoded from the drawn picture with zxing-cpp.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from printer_server import PrinterServer, PtyPrinter

from devices import registry
from devices.health import HealthStatus
from devices.printer.escpos_decode import Document, parse, render_image
from devices.printer.file import FilePrinter
from devices.printer.network import NetworkPrinter
from devices.printer.receipt_layout import Receipt
from devices.printer.serial_port import SerialPrinter
from devices.printer.status import Paper
from devices.printer.ticket_layout import QR_PREFIX
from kiosk.flow.ports import PrinterFailure
from kiosk.flow.types import Money, PaymentResult, PaymentStatus, Ticket

CHECKIN_ID = "5f0c2a9e7d3b4c1a8e6f0b2d4c6a8e0f"
TICKET = Ticket(
    queue_number="A-017",
    display_name="María G.",
    issued_at=datetime(2025, 3, 4, 19, 5, tzinfo=UTC),
    wait_area="Waiting room B",
    clinic_name="Riverside Family Medicine",
    language="en",
    checkin_id=CHECKIN_ID,
)
PAYMENT = PaymentResult(
    status=PaymentStatus.APPROVED,
    amount=Money(2500, "USD"),
    reference=CHECKIN_ID,
    processor_reference="pi_3Rk0aBcDeFgHiJkL",
    brand="VISA",
    last4="4242",
    auth_code="123456",
    at=datetime(2025, 3, 4, 19, 4, tzinfo=UTC),
)


@pytest.fixture
def server() -> Iterator[PrinterServer]:
    with PrinterServer() as s:
        yield s


@pytest.fixture
def printer(server: PrinterServer) -> NetworkPrinter:
    p = registry.create(
        "printer", "network",
        {"host": server.host, "port": server.port, "timeout": 2.0, "timezone": "America/New_York"},
    )
    assert isinstance(p, NetworkPrinter)
    return p


def only_job(server: PrinterServer, connections: int) -> Document:
    assert server.wait_closed(connections)
    assert len(server.jobs) == 1
    return parse(server.jobs[0])


def test_ticket_reaches_the_printer_and_reads_back(server: PrinterServer, printer: NetworkPrinter) -> None:
    printer.print_ticket(TICKET)
    doc = only_job(server, 1)
    assert server.queries == [1, 4, 1, 4]  # online + paper, before and after the job
    assert doc.texts[:3] == ["Riverside Family Medicine", "-" * 48, "Your number"]
    number = doc.line("A-017")
    assert (number.style.width, number.style.height, number.style.bold, number.align) == (4, 4, True, "center")
    name = doc.line("María G.")  # through the printer's code page and back
    assert (name.style.width, name.style.height) == (2, 2)
    assert doc.line("Riverside Family Medicine").style.bold
    assert "2:05 PM" in doc.texts  # 19:05 UTC in the clinic's timezone
    assert "Please wait in: Waiting room B" in doc.texts
    assert [(q.payload, q.module, q.error, q.align) for q in doc.qr_codes] == [
        (QR_PREFIX + CHECKIN_ID, 6, "M", "center")
    ]
    assert len(doc.cuts) == 1 and doc.ops[-1] == doc.cuts[0]  # the cut comes last
    assert doc.status_queries == [] and doc.unknown == []
    decoded = zxingcpp.read_barcodes(render_image(doc))
    assert [(r.text, r.format) for r in decoded] == [(QR_PREFIX + CHECKIN_ID, zxingcpp.BarcodeFormat.QRCode)]
    assert printer.health().status is HealthStatus.OK


def test_every_job_starts_with_initialize(server: PrinterServer, printer: NetworkPrinter) -> None:
    printer.print_ticket(TICKET)
    printer.print_ticket(replace(TICKET, queue_number="A-018", language="es"))
    assert server.wait_closed(2)
    first, second = server.jobs
    assert first.startswith(b"\x1b@") and second.startswith(b"\x1b@")
    assert "Su número" in parse(second).texts


def test_paper_out_stops_before_any_byte_and_shows_in_health(
    server: PrinterServer, printer: NetworkPrinter
) -> None:
    server.state.paper = Paper.OUT
    server.state.online = False
    with pytest.raises(PrinterFailure) as failure:
        printer.print_ticket(TICKET)
    assert failure.value.reason == "out_of_paper" and failure.value.key == "printer_failed"
    assert server.wait_closed(1)
    assert server.jobs == []  # nothing printed on an empty roll
    health = printer.health()
    assert (health.status, health.detail, health.last_error) == (HealthStatus.FAULT, "out_of_paper", "out_of_paper")
    server.state.paper, server.state.online = Paper.OK, True  # staff load a new roll
    health = printer.health()
    assert (health.status, health.detail, health.last_error) == (HealthStatus.OK, "", "")


def test_paper_low_prints_and_degrades(server: PrinterServer, printer: NetworkPrinter) -> None:
    server.state.paper = Paper.LOW
    printer.print_ticket(TICKET)
    assert only_job(server, 1).qr_codes
    health = printer.health()
    assert (health.status, health.detail) == (HealthStatus.DEGRADED, "paper_low")


@pytest.mark.parametrize(
    ("online", "cover_open", "reason"), [(False, False, "offline"), (False, True, "cover_open")]
)
def test_offline_answers_become_the_reason(
    server: PrinterServer, printer: NetworkPrinter, online: bool, cover_open: bool, reason: str
) -> None:
    server.state.online, server.state.cover_open = online, cover_open
    with pytest.raises(PrinterFailure) as failure:
        printer.print_ticket(TICKET)
    assert failure.value.reason == reason
    assert server.queries[:3] == [1, 2, 4]  # offline → the printer is asked why
    assert printer.health().detail == reason


def test_running_out_during_the_ticket_is_reported(server: PrinterServer, printer: NetworkPrinter) -> None:
    server.state.paper_out_after_job = True
    with pytest.raises(PrinterFailure) as failure:
        printer.print_ticket(TICKET)
    assert failure.value.reason == "out_of_paper"
    assert only_job(server, 1).cuts  # the bytes went out, the paper did not hold them all


def test_printer_that_never_answers_status_still_prints(server: PrinterServer) -> None:
    server.state.silent = True
    printer = NetworkPrinter.from_options({"host": server.host, "port": server.port, "status_timeout": 0.2})
    printer.print_ticket(TICKET)  # the first query waits `status_timeout`, then printing goes on
    assert only_job(server, 1).qr_codes
    assert printer.health().detail == "status_unknown"


def test_switched_off_printer_is_offline_and_comes_back(server: PrinterServer, printer: NetworkPrinter) -> None:
    server.stop()
    with pytest.raises(PrinterFailure) as failure:
        printer.print_ticket(TICKET)
    assert failure.value.reason == "offline"
    assert (printer.health().status, printer.health().detail) == (HealthStatus.FAULT, "offline")
    with PrinterServer(port=server.port) as again:  # switched on again at the same address
        printer.print_ticket(TICKET)
        assert again.wait_closed(1) and len(again.jobs) == 1
    assert printer.health().status is HealthStatus.FAULT  # off again: health asks the printer itself


def test_receipt_carries_amount_brand_last4_auth_and_reference(
    server: PrinterServer, printer: NetworkPrinter
) -> None:
    printer.print_receipt(Receipt("Riverside Family Medicine", PAYMENT, language="en"))
    doc = only_job(server, 1)
    texts = doc.texts
    assert doc.line("$25.00").style.width == 2
    assert "Card: VISA **** 4242" in texts
    assert "Authorization: 123456" in texts
    assert "Reference: pi_3Rk0aBcDeFgHiJkL" in texts
    assert "3/4/25, 2:04 PM" in texts
    assert doc.cuts and not doc.qr_codes
    assert b"4242424242424242" not in server.jobs[0]


def test_receipt_only_for_approved_payments(printer: NetworkPrinter) -> None:
    with pytest.raises(ValueError, match="declined"):
        printer.print_receipt(Receipt("Clinic", replace(PAYMENT, status=PaymentStatus.DECLINED)))


def test_serial_printer_on_a_pty() -> None:
    pty = PtyPrinter()
    try:
        printer = registry.create("printer", "serial", {"device": pty.path, "baudrate": 38400, "timeout": 2.0})
        assert isinstance(printer, SerialPrinter)
        printer.print_ticket(TICKET)
        assert pty.wait_for(lambda data: data.rstrip(b"\n").endswith(b"\x1dV\x00"))
        doc = parse(pty.data)
        assert doc.qr_codes[0].payload == QR_PREFIX + CHECKIN_ID
        assert pty.job.queries == [1, 4, 1, 4]
        pty.state.paper = Paper.OUT
        with pytest.raises(PrinterFailure) as failure:
            printer.print_ticket(TICKET)
        assert failure.value.reason == "out_of_paper"
        assert printer.health().detail == "out_of_paper"
    finally:
        pty.close()


def test_serial_printer_without_its_port_is_offline(tmp_path: Path) -> None:
    printer = SerialPrinter.from_options({"device": str(tmp_path / "ttyUSB9")})
    with pytest.raises(PrinterFailure) as failure:
        printer.print_ticket(TICKET)
    assert failure.value.reason == "offline"


def test_file_printer_writes_the_job_and_cannot_ask_status(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    printer = registry.create("printer", "file", {"path": str(device)})
    assert isinstance(printer, FilePrinter)
    printer.print_ticket(TICKET)
    assert parse(device.read_bytes()).qr_codes[0].payload == QR_PREFIX + CHECKIN_ID
    assert printer.health().status is HealthStatus.OK
    missing = FilePrinter.from_options({"path": str(tmp_path / "gone" / "lp0")})
    with pytest.raises(PrinterFailure) as failure:
        missing.print_ticket(TICKET)
    assert failure.value.reason == "offline"
    assert missing.health().detail == "offline"


def test_usb_printer_that_is_not_plugged_in_is_offline() -> None:
    printer = registry.create("printer", "usb", {"vendor_id": 0x04B8, "product_id": 0x0E15, "timeout": 1.0})
    with pytest.raises(PrinterFailure) as failure:
        printer.print_ticket(TICKET)  # type: ignore[attr-defined]
    assert failure.value.reason == "offline"
    assert printer.health().detail == "offline"  # type: ignore[attr-defined]
