"""Draw a TicketLayout as a PNG, as an 80 mm printer would print it (576 dots wide, white paper).

Used by the simulated printer (a picture of every ticket), the status screen's "test print" and the docs.
Fonts: DejaVu (Debian's fonts-dejavu-core); Pillow's own scalable font when DejaVu is missing.
QR codes are drawn with segno.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from devices.printer.ticket_layout import Align, Cut, Feed, QrCode, Rule, TextLine, TicketLayout

PAGE_WIDTH = 576  # dots of an 80 mm, 203 dpi printer (TM-T20II)
MARGIN = 8
LINE_HEIGHT = 24  # font A is 12 x 24 dots
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/local/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(pixels: int, bold: bool) -> FontType:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return ImageFont.truetype(str(path), pixels)
    return ImageFont.load_default(size=pixels)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: FontType, width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels (words longer than a line are cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while draw.textlength(word, font=font) > width and len(word) > 1:
            cut = len(word)
            while cut > 1 and draw.textlength(word[:cut], font=font) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def _x(align: Align, item_width: float) -> int:
    if align is Align.CENTER:
        return int((PAGE_WIDTH - item_width) / 2)
    if align is Align.RIGHT:
        return int(PAGE_WIDTH - MARGIN - item_width)
    return MARGIN


def render_image(layout: TicketLayout) -> Image.Image:
    """The ticket as a white RGB image, 576 px wide, as tall as its content."""
    text_width = PAGE_WIDTH - 2 * MARGIN
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    # First pass: place everything; second pass: draw on a page of exactly the needed height.
    texts: list[tuple[int, str, FontType, Align]] = []
    rules: list[int] = []
    codes: list[tuple[int, Image.Image, Align]] = []
    y = MARGIN
    for element in layout.elements:
        if isinstance(element, TextLine):
            line_height = LINE_HEIGHT * element.size.value[1]
            font = _font(int(line_height * 0.8), element.bold)
            for line in _wrap(measure, element.text, font, text_width):
                texts.append((y, line, font, element.align))
                y += line_height
        elif isinstance(element, Rule):
            rules.append(y + LINE_HEIGHT // 2)
            y += LINE_HEIGHT
        elif isinstance(element, Feed):
            y += LINE_HEIGHT * element.lines
        elif isinstance(element, QrCode):
            qr = _qr_image(element)
            codes.append((y, qr, element.align))
            y += qr.height + LINE_HEIGHT
        elif isinstance(element, Cut):
            y += LINE_HEIGHT  # the feed before the knife
    page = Image.new("RGB", (PAGE_WIDTH, y + MARGIN), "white")
    draw = ImageDraw.Draw(page)
    for top, line, font, align in texts:
        draw.text((_x(align, draw.textlength(line, font=font)), top), line, font=font, fill="black")
    for top in rules:
        draw.line((MARGIN, top, PAGE_WIDTH - MARGIN, top), fill="black", width=2)
    for top, qr_image, align in codes:
        page.paste(qr_image, (_x(align, qr_image.width), top))
    return page


def render_png(layout: TicketLayout) -> bytes:
    buffer = io.BytesIO()
    render_image(layout).save(buffer, format="PNG")
    return buffer.getvalue()


def _qr_image(element: QrCode) -> Image.Image:
    qr = segno.make(element.payload, error=element.error.lower(), micro=False)
    buffer = io.BytesIO()
    # border 4 = the quiet zone a scanner needs; the printer leaves white paper around it too.
    qr.save(buffer, kind="png", scale=element.module, border=4, dark="black", light="white")
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
