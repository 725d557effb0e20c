"""devices.printer.escpos_decode reads ESC/POS back: hand-made streams and python-escpos's own output."""

from __future__ import annotations

from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from devices.printer.escpos_decode import (
    LINE_PITCH,
    Cut,
    EscposDecodeError,
    Feed,
    Raster,
    Style,
    parse,
    render_image,
)
from devices.printer.escpos_setup import load_escpos


def dummy() -> Any:
    return load_escpos().Dummy(profile="TM-T20II")


def test_text_attributes_follow_the_commands() -> None:
    doc = parse(
        b"\x1b@Plain\n\x1bE\x01Bold\x1bE\x00\n\x1d!\x11Double\n\x1d!\x00\x1b-\x01Under\x1b-\x00\n"
        b"\x1dB\x01Reverse\x1dB\x00\n\x1b!\x38Mode\n"
    )
    assert doc.texts == ["Plain", "Bold", "Double", "Under", "Reverse", "Mode"]
    assert doc.line("Plain").style == Style()
    assert doc.line("Bold").style == Style(bold=True)
    assert doc.line("Double").style == Style(width=2, height=2)
    assert doc.line("Under").style == Style(underline=True)
    assert doc.line("Reverse").style == Style(invert=True)
    assert doc.line("Mode").style == Style(bold=True, width=2, height=2)  # ESC ! 0x38


def test_style_changes_inside_a_line_make_segments() -> None:
    line = parse(b"Total: \x1bE\x01$25.00\x1bE\x00\n").lines[0]
    assert [(s.text, s.style.bold) for s in line.segments] == [("Total: ", False), ("$25.00", True)]


def test_alignment_applies_from_the_start_of_a_line() -> None:
    doc = parse(b"\x1ba\x01Centre\n\x1ba\x02Right\nLeft?\x1ba\x00\nNext\n")
    assert [(line.text, line.align) for line in doc.lines] == [
        ("Centre", "center"), ("Right", "right"), ("Left?", "right"), ("Next", "left")
    ]


def test_code_pages_decode_accented_text() -> None:
    assert parse(b"\x1bt\x10Caf\xe9\n").texts == ["Café"]  # table 16 = Windows-1252
    assert parse(b"\x1bt\x02Mar\xa1a\n").texts == ["María"]  # table 2 = PC850
    assert parse(b"Mar\xa1a\n").texts == ["María"]  # PC437 is the default


def test_python_escpos_text_with_accents_round_trips() -> None:
    d = dummy()
    d.textln("Señora Muñoz, ¿café?")
    assert parse(d.output).texts == ["Señora Muñoz, ¿café?"]


@pytest.mark.parametrize(("ec", "level"), [(0, "L"), (1, "M"), (2, "Q"), (3, "H")])
def test_native_qr_from_python_escpos(ec: int, level: str) -> None:
    d = dummy()
    d.set(align="center")
    d.qr("CKI-TICKET:0123456789abcdef", ec=ec, size=5, native=True)
    doc = parse(d.output)
    [qr] = doc.qr_codes
    assert (qr.payload, qr.module, qr.error, qr.align) == ("CKI-TICKET:0123456789abcdef", 5, level, "center")
    image = render_image(doc)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["CKI-TICKET:0123456789abcdef"]


def test_raster_image_from_python_escpos() -> None:
    source = Image.new("1", (40, 10), 1)
    ImageDraw.Draw(source).rectangle((5, 2, 20, 7), fill=0)
    d = dummy()
    d.image(source, impl="bitImageRaster")
    [raster] = [op for op in parse(d.output).ops if isinstance(op, Raster)]
    assert (raster.width, raster.height) == (40, 10)
    drawn = render_image(parse(d.output)).crop((0, 0, 40, 10))
    black = {(x, y) for x in range(40) for y in range(10) if drawn.getpixel((x, y)) < 128}
    assert black == {(x, y) for x in range(5, 21) for y in range(2, 8)}


def test_feeds_and_cuts() -> None:
    d = dummy()
    d.text("last line")
    d.cut(mode="PART")
    d.cut(feed=False)
    doc = parse(b"\x1bd\x03\x1bJ\x32" + d.output + b"\x1dV\x00")
    assert doc.ops[:2] == [Feed(3 * LINE_PITCH), Feed(50)]
    assert doc.texts == ["last line"]  # a partial line is printed by the feed before the cut
    assert [op for op in doc.ops if isinstance(op, Cut)] == [Cut(partial=True), Cut(partial=True), Cut(False)]
    assert Feed(6 * LINE_PITCH) in doc.ops  # python-escpos feeds 6 lines before cutting


def test_status_queries_are_recorded_not_printed() -> None:
    doc = parse(b"\x10\x04\x01\x10\x04\x04Hi\n")
    assert doc.status_queries == [1, 4]
    assert doc.texts == ["Hi"]


def test_unknown_commands_fail_in_strict_mode_and_are_listed_otherwise() -> None:
    with pytest.raises(EscposDecodeError, match="1b 5a"):
        parse(b"Hello\n\x1bZ")
    doc = parse(b"\x1bZHello\n", strict=False)
    assert doc.unknown == [b"\x1bZ"]
    assert doc.texts == ["Hello"]


def test_a_command_cut_short_is_an_error() -> None:
    with pytest.raises(EscposDecodeError, match="cut short"):
        parse(b"\x1d(k\x10\x00" + b"1P0abc")


def test_drawn_text_scales_with_the_character_size() -> None:
    small = render_image(parse(b"\x1ba\x01HELLO\n"))
    large = render_image(parse(b"\x1ba\x01\x1d!\x33HELLO\n"))

    def ink_box(image: Image.Image) -> tuple[int, int, int, int]:
        box = Image.eval(image, lambda v: 255 if v < 128 else 0).getbbox()
        assert box is not None
        return box

    sx0, sy0, sx1, sy1 = ink_box(small)
    lx0, ly0, lx1, ly1 = ink_box(large)
    assert abs((lx1 - lx0) - 4 * (sx1 - sx0)) <= 4
    assert abs((ly1 - ly0) - 4 * (sy1 - sy0)) <= 4
    assert abs((lx0 + lx1) / 2 - 288) <= 6 and abs((sx0 + sx1) / 2 - 288) <= 6  # centred on 576 dots
