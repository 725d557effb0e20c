"""Render signature strokes to a PNG with Pillow (no Kivy, no window: testable anywhere).

Strokes are lists of (x, y) points in the pad's local pixels with Kivy's origin at the BOTTOM-left; the
image has its origin at the top-left, so y is flipped. Black ink on white, the pad's size.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

Point = Sequence[float]
Stroke = Sequence[Point]

INK_WIDTH = 4  # px, like a felt pen: readable when printed or scanned


def render_signature_png(strokes: Sequence[Stroke], size: Sequence[float], ink_width: int = INK_WIDTH) -> bytes:
    """PNG bytes of ``strokes`` drawn black on white on a ``size`` = (width, height) canvas."""
    width, height = max(1, round(size[0])), max(1, round(size[1]))
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    r = ink_width / 2.0
    for stroke in strokes:
        points = [(float(x), height - 1 - float(y)) for x, y in stroke]
        if not points:
            continue
        if len(points) > 1:
            draw.line(points, fill=0, width=ink_width, joint="curve")
        for x, y in (points[0], points[-1]) if len(points) > 1 else points:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)  # round ends and single dots
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
