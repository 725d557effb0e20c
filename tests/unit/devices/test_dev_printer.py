"""The simulated printer renders real ESC/POS bytes and a PNG preview of one ticket layout."""

from __future__ import annotations

import io
import os
import platform
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import zxingcpp
from PIL import Image

import kiosk.i18n
from devices import registry
from devices.health import HealthStatus
from devices.printer import escpos_render, preview
from devices.printer.escpos_setup import ENV, capabilities_dir, load_escpos
from devices.printer.simulated import SimulatedPrinter
from devices.printer.ticket_layout import QrCode, TextLine, build_layout, format_ticket_time
from kiosk.flow.ports import PrinterFailure
from kiosk.flow.types import Patient, Ticket

CHECKIN_ID = "5f0c2a9e7d3b4c1a8e6f0b2d4c6a8e0f"
PATIENT = Patient(
    id="p1", version="1", given="Maria", family="Gonzalez-Whitfield", birth_date=date(1958, 9, 17)
)
GS_V_FULL_CUT = b"\x1dV\x00"


def ticket(**changes: object) -> Ticket:
    base = Ticket(
        queue_number="A-017",
        display_name=PATIENT.display_name,
        issued_at=datetime(2025, 3, 4, 19, 5, tzinfo=ZoneInfo("UTC")),
        wait_area="Waiting room B",
        clinic_name="Riverside Family Medicine",
        language="en",
        checkin_id=CHECKIN_ID,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def native_qr_store(payload: str) -> bytes:
    """GS ( k pL pH cn=49 fn=80 m=48 d1...dk: store QR data in the symbol storage area."""
    data = payload.encode("ascii")
    return b"\x1d(k" + (len(data) + 3).to_bytes(2, "little") + b"1P0" + data


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[SimulatedPrinter]:
    p = registry.create("printer", "simulated", {"out_dir": str(tmp_path / "tickets")})
    assert isinstance(p, SimulatedPrinter)
    yield p


# -- ESC/POS bytes --------------------------------------------------------------------------------------------
def test_bytes_hold_number_qr_and_cut(printer: SimulatedPrinter) -> None:
    printer.print_ticket(ticket())
    data = printer.last_bytes
    assert b"\x1d!\x33" + b"\x1bE\x01" + b"\x1ba\x01A-017\n" in data  # 4x4, bold, centred queue number
    assert b"Riverside Family Medicine" in data
    assert b"Maria G." in data
    assert b"Please wait in: Waiting room B" in data
    store = native_qr_store(f"CKI-TICKET:{CHECKIN_ID}")
    assert store in data
    assert b"\x1d(k\x03\x001Q0" in data[data.index(store) :]  # GS ( k ... fn=81: print the stored symbol
    assert data.rstrip(b"\n").endswith(GS_V_FULL_CUT)
    assert data.index(store) < data.index(GS_V_FULL_CUT)


def test_bytes_carry_no_family_name_and_no_birth_date(printer: SimulatedPrinter) -> None:
    printer.print_ticket(ticket())
    data = printer.last_bytes
    dob = PATIENT.birth_date
    for secret in (
        "Gonzalez",
        "Whitfield",
        "GONZALEZ",
        "1958",
        "09171958",
        "19580917",
        "17/09",
        "09/17",
        "Sep",
    ):
        assert secret.encode() not in data, secret
    assert dob.isoformat().encode() not in data
    assert str(dob.year).encode() not in printer.files[0].read_bytes()


def test_desk_ticket_says_see_the_front_desk(printer: SimulatedPrinter) -> None:
    printer.print_ticket(ticket(desk=True))
    data = printer.last_bytes
    assert b"Please see the front desk. We have your details.\n" in data  # 48 characters: one line
    assert b"Please wait in" not in data
    assert native_qr_store(f"CKI-TICKET:{CHECKIN_ID}") in data


def test_without_checkin_id_there_is_no_qr(printer: SimulatedPrinter) -> None:
    printer.print_ticket(ticket(checkin_id=""))
    assert b"\x1d(k" not in printer.last_bytes
    assert GS_V_FULL_CUT in printer.last_bytes


def test_another_profile_uses_its_own_line_width(tmp_path: Path) -> None:
    p = SimulatedPrinter.from_options({"profile": "TM-P80-42col"})
    p.print_ticket(ticket(clinic_name="Riverside Family Medicine and Pediatrics Group"))
    assert b"-" * 42 + b"\n" in p.last_bytes and b"-" * 43 not in p.last_bytes
    assert b"Riverside Family Medicine and Pediatrics\nGroup\n" in p.last_bytes


def test_escpos_cache_folder_is_persistent_and_reused() -> None:
    load_escpos()
    folder = Path(os.environ[ENV])
    assert folder == capabilities_dir()
    assert (folder / f"{platform.python_version()}.capabilities.pickle").is_file()


# -- files and the PNG preview ----------------------------------------------------------------------------------
def test_each_ticket_is_saved_as_bin_and_png(printer: SimulatedPrinter, tmp_path: Path) -> None:
    printer.print_ticket(ticket())
    printer.print_ticket(ticket(queue_number="A-018"))
    out = tmp_path / "tickets"
    assert sorted(p.name for p in out.iterdir()) == [
        "ticket-1.bin",
        "ticket-1.png",
        "ticket-2.bin",
        "ticket-2.png",
    ]
    assert (out / "ticket-2.bin").read_bytes() == printer.last_bytes
    assert b"A-017" in (out / "ticket-1.bin").read_bytes()
    assert [t.queue_number for t in printer.tickets] == ["A-017", "A-018"]
    # A new printer on the same folder continues the numbering instead of overwriting.
    again = SimulatedPrinter.from_options({"out_dir": str(out), "preview": False})
    again.print_ticket(ticket(queue_number="A-019"))
    assert (out / "ticket-3.bin").is_file() and not (out / "ticket-3.png").exists()


def test_preview_png_decodes_back_to_the_qr_payload(printer: SimulatedPrinter, tmp_path: Path) -> None:
    printer.print_ticket(ticket())
    image = Image.open(tmp_path / "tickets" / "ticket-1.png")
    results = zxingcpp.read_barcodes(np.array(image.convert("L")), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.bytes for r in results] == [f"CKI-TICKET:{CHECKIN_ID}".encode()]


def test_preview_looks_like_a_receipt() -> None:
    image = Image.open(io.BytesIO(preview.render_png(build_layout(ticket()))))
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.width == 576
    assert 500 < image.height < 1400
    pixels = np.array(image)
    for y, x in ((0, 0), (0, 575), (image.height - 1, 0), (image.height - 1, 575)):
        assert tuple(pixels[y, x]) == (255, 255, 255)  # white paper
    dark = (pixels.min(axis=2) < 128).mean()
    assert 0.03 < dark < 0.5  # ink, but mostly paper
    rows_with_ink = (pixels.min(axis=2) < 128).any(axis=1)
    assert rows_with_ink[:40].any()  # the clinic name at the top


def test_preview_wraps_long_text_within_the_paper() -> None:
    long_name = ticket(
        clinic_name="The Very Long Named Community Health Center of the Greater Riverside Valley"
    )
    image = preview.render_image(build_layout(long_name))
    short = preview.render_image(build_layout(ticket()))
    assert image.width == 576 and image.height > short.height


# -- failures and health ----------------------------------------------------------------------------------------
def test_fail_next_raises_printer_failure_once_and_health_shows_it(printer: SimulatedPrinter) -> None:
    printer.fail_next("cover_open")
    with pytest.raises(PrinterFailure) as err:
        printer.print_ticket(ticket())
    assert err.value.reason == "cover_open" and err.value.key == "printer_failed"
    health = printer.health()
    assert (health.status, health.detail, health.last_error) == (
        HealthStatus.FAULT,
        "cover_open",
        "cover_open",
    )
    assert printer.tickets == [] and printer.files == []
    printer.print_ticket(ticket())
    assert printer.health().status is HealthStatus.OK
    assert len(printer.tickets) == 1


@pytest.mark.parametrize("hook", ["paper", "offline"])
def test_out_of_paper_and_offline(printer: SimulatedPrinter, hook: str) -> None:
    reason = "out_of_paper" if hook == "paper" else "offline"
    if hook == "paper":
        printer.set_paper(out=True)
    else:
        printer.set_online(False)
    assert (printer.health().status, printer.health().detail) == (HealthStatus.FAULT, reason)
    for _ in range(2):  # stays broken until fixed
        with pytest.raises(PrinterFailure) as err:
            printer.print_ticket(ticket())
        assert err.value.reason == reason
    assert printer.tickets == []
    if hook == "paper":
        printer.set_paper(out=False)
    else:
        printer.set_online(True)
    assert printer.health().status is HealthStatus.OK
    printer.print_ticket(ticket())
    assert len(printer.tickets) == 1


def test_paper_low_is_degraded_but_prints(printer: SimulatedPrinter) -> None:
    printer.set_paper(low=True)
    assert (printer.health().status, printer.health().detail) == (HealthStatus.DEGRADED, "paper_low")
    printer.print_ticket(ticket())
    assert len(printer.tickets) == 1


# -- the layout ---------------------------------------------------------------------------------------------------
def test_layout_shows_only_what_a_ticket_may_show() -> None:
    layout = build_layout(ticket())
    texts = [e.text for e in layout.elements if isinstance(e, TextLine)]
    assert texts == [
        "Riverside Family Medicine",
        "Your number",
        "A-017",
        "Maria G.",
        "7:05 PM",
        "Please wait in: Waiting room B",
    ]
    assert [e for e in layout.elements if isinstance(e, QrCode)] == [QrCode(f"CKI-TICKET:{CHECKIN_ID}")]
    assert layout.qr_payload == f"CKI-TICKET:{CHECKIN_ID}"
    assert "Maria" not in repr(layout)


def test_time_is_in_the_clinic_timezone_and_the_patients_language() -> None:
    t = ticket()  # 19:05 UTC
    new_york = ZoneInfo("America/New_York")
    assert format_ticket_time(t, new_york) == "2:05 PM"  # plain spaces: printers lack U+202F
    assert format_ticket_time(replace(t, language="es"), new_york) == "2:05 p.m."  # es_US, as on screen
    assert format_ticket_time(replace(t, language="zh"), new_york) == "14:05"
    assert format_ticket_time(replace(t, issued_at=t.issued_at.astimezone(new_york))) == "2:05 PM"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_ticket_time(replace(t, issued_at=datetime(2025, 3, 4, 19, 5)))


def test_printer_timezone_option_applies() -> None:
    p = SimulatedPrinter.from_options({"timezone": "America/Los_Angeles"})
    p.print_ticket(ticket())
    assert b"11:05 AM" in p.last_bytes


def test_strings_go_through_the_gettext_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = tmp_path / "es" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "kiosk.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Your number"\nmsgstr "Su número"\n\n'
        'msgid "Please wait in: {wait_area}"\nmsgstr "Espere en: {wait_area}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(kiosk.i18n, "LOCALE_DIR", tmp_path)
    kiosk.i18n.reload_catalogs()
    try:
        layout = build_layout(ticket(language="es", wait_area="Sala B"))
        texts = [e.text for e in layout.elements if isinstance(e, TextLine)]
        assert "Su número" in texts and "Espere en: Sala B" in texts and "7:05 p.m." in texts
        p = SimulatedPrinter.from_options({})
        p.print_ticket(ticket(language="es", wait_area="Sala B"))
        assert b"Espere en: Sala B" in p.last_bytes
        assert b"Su n" in p.last_bytes and "Su número".encode() not in p.last_bytes  # printer code page
    finally:
        monkeypatch.undo()
        kiosk.i18n.reload_catalogs()


def test_render_works_on_any_escpos_printer_object() -> None:
    dummy = load_escpos().Dummy(profile="TM-T88V")
    escpos_render.render(build_layout(ticket()), dummy)
    assert native_qr_store(f"CKI-TICKET:{CHECKIN_ID}") in dummy.output
