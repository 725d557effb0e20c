"""SignaturePad: a drag in a real window becomes strokes and a non-blank PNG of the pad's size."""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image

from kiosk.ui.testing import UIHarness
from kiosk.ui.widgets.basic import BodyLabel, KioskScreenLayout
from kiosk.ui.widgets.signature import SignaturePad
from kiosk.ui.widgets.signature_render import render_signature_png


def _wave(w: float, h: float, n: int = 40) -> list[tuple[float, float]]:
    return [(40 + i * (w - 80) / n, h * 0.4 + 50 * math.sin(i / 4)) for i in range(n + 1)]


def _ink_pixels(png: bytes) -> tuple[tuple[int, int], int]:
    img = Image.open(io.BytesIO(png)).convert("L")
    return img.size, sum(img.histogram()[:128])  # pixels darker than mid-grey


def test_render_is_black_on_white_and_flips_y() -> None:
    png = render_signature_png([[(10, 10), (90, 10)]], (100, 50))
    img = Image.open(io.BytesIO(png)).convert("L")
    assert img.size == (100, 50)
    assert img.getpixel((50, 50 - 1 - 10)) < 50  # y=10 from the bottom is row 39 from the top
    assert img.getpixel((50, 10)) == 255
    assert img.getpixel((0, 0)) == 255


def test_render_empty_and_single_dot() -> None:
    assert _ink_pixels(render_signature_png([], (60, 40))) == ((60, 40), 0)
    size, ink = _ink_pixels(render_signature_png([[(30, 20)]], (60, 40)))
    assert size == (60, 40) and ink > 0


def test_drag_records_strokes_and_png(ui: UIHarness, shots: Path) -> None:
    layout = KioskScreenLayout(title="Please sign", scroll_type=["bars"])
    layout.add_widget(BodyLabel(text="I agree to the treatment described above."))
    pad = SignaturePad()
    layout.add_widget(pad)
    ui.mount(layout)
    assert pad.is_empty
    strokes_seen: list[int] = []
    pad.bind(on_stroke=lambda *_: strokes_seen.append(len(pad.strokes)))

    first = _wave(pad.width, pad.height)
    ui.drag(pad, first)
    ui.drag(pad, [(pad.width * 0.7, 60), (pad.width * 0.75, 200)])  # second stroke: a "t" bar
    assert strokes_seen == [1, 2]
    assert not pad.is_empty
    assert len(pad.strokes) == 2
    s0 = pad.strokes[0]
    assert len(s0) >= 20
    assert s0[0] == (round(first[0][0], 1), round(first[0][1], 1))  # widget-local pixels
    assert all(0 <= x <= pad.width and 0 <= y <= pad.height for x, y in s0)

    png = pad.to_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    size, ink = _ink_pixels(png)
    assert list(size) == pad.pad_size
    assert ink > 500
    (shots / "signature.png").write_bytes(png)
    ui.screenshot(shots / "signature_pad.png")

    pad.clear()
    assert pad.is_empty and pad.strokes == []


def test_drag_outside_the_pad_is_ignored_and_edges_clamp(ui: UIHarness) -> None:
    layout = KioskScreenLayout(title="Sign", scroll_type=["bars"])
    pad = SignaturePad()
    layout.add_widget(pad)
    ui.mount(layout)
    ui.drag(pad, [(-50, -50), (10, 10)])  # starts outside: not a stroke
    assert pad.is_empty
    ui.drag(pad, [(20, 20), (pad.width + 200, 20)])  # leaves the pad: clamped to the edge
    assert pad.strokes[0][-1][0] == round(pad.width, 1)
