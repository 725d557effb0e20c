"""Golden pictures of the visit ticket: the PNG preview (preview.py) and the ESC/POS bytes drawn back
(escpos_decode). Compared by structure, not bytes: the same bands of ink (text lines, rule, QR code) at the
same places within a few dots, so font anti-aliasing or a Pillow upgrade does not break them, while a moved,
missing or resized line does. The QR code must decode to the same payload.

Regenerate after a deliberate layout change: KIOSK_UPDATE_GOLDEN=1 pytest tests/unit/devices/test_dev_printer_golden.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from devices.printer import preview
from devices.printer.escpos_decode import parse, render_image
from devices.printer.network import NetworkPrinter
from devices.printer.ticket_layout import build_layout
from kiosk.flow.types import Ticket

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "devices" / "printer"
TOLERANCE = 3  # dots
TICKET = Ticket(
    queue_number="A-017",
    display_name="Maria G.",
    issued_at=datetime(2025, 3, 4, 19, 5, tzinfo=UTC),
    wait_area="the main waiting room",
    clinic_name="Riverside Family Medicine",
    language="en",
    checkin_id="5f0c2a9e7d3b4c1a8e6f0b2d4c6a8e0f",
)
Band = tuple[int, int, int, int]  # top, bottom, left, right of the ink in a run of inked rows


def bands(image: Image.Image) -> list[Band]:
    ink = image.convert("L").point(lambda v: 255 if v < 128 else 0)
    width, height = ink.size
    rows = [ink.crop((0, y, width, y + 1)).getbbox() for y in range(height)]
    found: list[Band] = []
    start = None
    for y, box in enumerate([*rows, None]):
        if box is not None and start is None:
            start = y
        elif box is None and start is not None:
            x_box = ink.crop((0, start, width, y)).getbbox()
            assert x_box is not None
            found.append((start, y - 1, x_box[0], x_box[2] - 1))
            start = None
    return found


def assert_same_structure(actual: Image.Image, golden_path: Path, *, may_update: bool = True) -> None:
    if may_update and os.environ.get("KIOSK_UPDATE_GOLDEN"):
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        actual.save(golden_path)
    golden = Image.open(golden_path)
    assert actual.width == golden.width
    assert abs(actual.height - golden.height) <= TOLERANCE
    got, want = bands(actual), bands(golden)
    assert len(got) == len(want), f"{len(got)} bands of ink, golden has {len(want)}: {got} vs {want}"
    for g, w in zip(got, want, strict=True):
        assert all(abs(a - b) <= TOLERANCE for a, b in zip(g, w, strict=True)), f"band {g} vs golden {w}"
    qr_got = [r.text for r in zxingcpp.read_barcodes(actual)]
    qr_want = [r.text for r in zxingcpp.read_barcodes(golden)]
    assert qr_got == qr_want == ["CKI-TICKET:" + TICKET.checkin_id]


def test_preview_png_matches_the_golden() -> None:
    image = preview.render_image(build_layout(TICKET))
    assert_same_structure(image, GOLDEN / "ticket-preview.png")


def test_escpos_bytes_drawn_back_match_the_golden() -> None:
    printer = NetworkPrinter.from_options({"host": "192.0.2.1"})
    image = render_image(parse(printer.render(build_layout(TICKET))))
    assert_same_structure(image, GOLDEN / "ticket-escpos.png")


def test_the_comparison_notices_a_moved_line() -> None:
    golden = GOLDEN / "ticket-preview.png"
    if not golden.exists():
        pytest.skip("golden not generated yet")
    image = preview.render_image(build_layout(TICKET))
    shifted = Image.new("RGB", image.size, "white")
    shifted.paste(image.crop((0, 0, image.width, 60)), (0, 0))
    shifted.paste(image.crop((0, 60, image.width, image.height - 8)), (0, 68))  # everything below moves 8 dots
    with pytest.raises(AssertionError, match="band"):
        assert_same_structure(shifted, golden, may_update=False)
