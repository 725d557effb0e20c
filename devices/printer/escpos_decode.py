"""Read an ESC/POS byte stream back: what a thermal printer would do with it, as data and as a picture.

No maintained Python tool renders ESC/POS (RECIPES §7), so this is a small interpreter for the commands the
kiosk (python-escpos) sends: text with its attributes (``ESC E`` bold, ``ESC -`` underline, ``GS !`` size,
``GS B`` reverse, ``ESC !`` print mode, ``ESC a`` alignment, ``ESC t`` code page), ``LF`` / ``ESC d`` /
``ESC J`` feeds, ``GS ( k`` native QR codes (model, module size, error level, store, print), ``GS v 0``
raster images, ``GS V`` cuts, and the status queries ``DLE EOT n`` (skipped). Anything else is an error in
strict mode (a test must notice bytes it does not understand) or is skipped and listed in ``unknown``.

:func:`parse` gives a :class:`Document`; :func:`render_image` draws it on 576-dot paper (font A: 12 x 24 dots
per character, line pitch 1/6 inch) so a test can look at it or decode its QR code with zxing-cpp.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

ESC, GS, DLE, FS, LF, CR, HT = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x0D, 0x09
CHAR_W, CHAR_H = 12, 24  # font A, in dots
FONT_B_W, FONT_B_H = 9, 17
LINE_PITCH = 34  # default line spacing: 1/6 inch at 203 dpi
PAPER_DOTS = 576
# ESC t n → Python codec (Epson's standard tables; the ones python-escpos picks for Latin text).
CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866",
              18: "cp852", 19: "cp858"}
QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}
MONO_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/local/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
)
MONO_BOLD_FONTS = tuple(p.with_name("DejaVuSansMono-Bold.ttf") for p in MONO_FONTS)


class EscposDecodeError(ValueError):
    """Bytes this interpreter does not know (strict mode)."""


@dataclass(frozen=True)
class Style:
    bold: bool = False
    underline: bool = False
    width: int = 1  # character magnification, 1-8
    height: int = 1
    invert: bool = False
    font_b: bool = False


@dataclass(frozen=True)
class Segment:
    text: str
    style: Style


@dataclass(frozen=True)
class TextLine:
    segments: tuple[Segment, ...]
    align: str  # "left" | "center" | "right"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def style(self) -> Style:
        """The style of the first non-blank segment (a line usually has one)."""
        for segment in self.segments:
            if segment.text.strip():
                return segment.style
        return self.segments[0].style if self.segments else Style()


@dataclass(frozen=True)
class QrCode:
    payload: str
    module: int
    error: str
    align: str


@dataclass(frozen=True)
class Raster:
    width: int  # dots
    height: int
    bits: bytes = field(repr=False)  # rows of width/8 bytes, MSB first, 1 = black
    align: str = "left"


@dataclass(frozen=True)
class Feed:
    dots: int


@dataclass(frozen=True)
class Cut:
    partial: bool


Op = TextLine | QrCode | Raster | Feed | Cut


@dataclass
class Document:
    ops: list[Op] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)
    status_queries: list[int] = field(default_factory=list)

    @property
    def lines(self) -> list[TextLine]:
        return [op for op in self.ops if isinstance(op, TextLine)]

    @property
    def texts(self) -> list[str]:
        """Printed text lines, blank ones left out."""
        return [line.text for line in self.lines if line.text.strip()]

    @property
    def qr_codes(self) -> list[QrCode]:
        return [op for op in self.ops if isinstance(op, QrCode)]

    @property
    def cuts(self) -> list[Cut]:
        return [op for op in self.ops if isinstance(op, Cut)]

    def line(self, text: str) -> TextLine:
        """The first line whose text (stripped) equals ``text``."""
        for line in self.lines:
            if line.text.strip() == text:
                return line
        raise KeyError(text)


class _Parser:
    def __init__(self, data: bytes, strict: bool) -> None:
        self.data = data
        self.strict = strict
        self.pos = 0
        self.doc = Document()
        self._reset()

    def _reset(self) -> None:
        self.style = Style()
        self.align = "left"
        self.codec = "cp437"
        self.segments: list[Segment] = []
        self.pending = bytearray()
        self.line_align: str | None = None
        self.qr_module = 3
        self.qr_error = "L"
        self.qr_data = b""

    # -- bytes ------------------------------------------------------------------------------------------
    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise EscposDecodeError(f"command cut short at byte {self.pos} (need {count} more bytes)")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def unknown(self, start: int, what: str) -> None:
        chunk = self.data[start : self.pos]
        if self.strict:
            raise EscposDecodeError(f"unknown ESC/POS command {chunk.hex(' ')} at byte {start} ({what})")
        self.doc.unknown.append(chunk)

    # -- text -------------------------------------------------------------------------------------------
    def flush_text(self) -> None:
        if self.pending:
            if self.line_align is None:
                self.line_align = self.align
            self.segments.append(Segment(bytes(self.pending).decode(self.codec, errors="replace"), self.style))
            self.pending.clear()

    def set_style(self, **changes: object) -> None:
        self.flush_text()
        self.style = replace(self.style, **changes)  # type: ignore[arg-type]

    def end_line(self) -> None:
        self.flush_text()
        self.doc.ops.append(TextLine(tuple(self.segments), self.line_align or self.align))
        self.segments = []
        self.line_align = None

    def end_partial_line(self) -> None:
        self.flush_text()
        if self.segments:
            self.end_line()

    # -- main loop ----------------------------------------------------------------------------------------
    def run(self) -> Document:
        while self.pos < len(self.data):
            start = self.pos
            b = self.byte()
            if b == LF:
                self.end_line()
            elif b == CR:
                continue
            elif b == HT:
                self.pending.extend(b"    ")
            elif b == ESC:
                self.esc(start)
            elif b == GS:
                self.gs(start)
            elif b == DLE:
                self.dle(start)
            elif b == FS:
                self.byte()
                self.unknown(start, "FS command")
            elif b < 0x20:
                self.unknown(start, "control byte")
            else:
                if not self.pending and not self.segments:
                    self.line_align = self.align
                self.pending.append(b)
        self.end_partial_line()
        return self.doc

    def esc(self, start: int) -> None:
        cmd = self.byte()
        if cmd == ord("@"):
            self.end_partial_line()
            self._reset()
        elif cmd == ord("a"):
            self.align = {0: "left", 1: "center", 2: "right"}.get(self.byte() % 48, "left")
        elif cmd == ord("E") or cmd == ord("G"):
            self.set_style(bold=bool(self.byte() & 1))
        elif cmd == ord("-"):
            self.set_style(underline=self.byte() % 48 != 0)
        elif cmd == ord("M"):
            self.set_style(font_b=self.byte() % 48 == 1)
        elif cmd == ord("!"):
            n = self.byte()
            self.set_style(font_b=bool(n & 0x01), bold=bool(n & 0x08), height=2 if n & 0x10 else 1,
                           width=2 if n & 0x20 else 1, underline=bool(n & 0x80))
        elif cmd == ord("t"):
            self.flush_text()
            n = self.byte()
            if n not in CODE_PAGES:
                self.unknown(start, f"code page {n}")
            self.codec = CODE_PAGES.get(n, "cp437")
        elif cmd == ord("d"):
            self.end_partial_line()
            self.doc.ops.append(Feed(self.byte() * LINE_PITCH))
        elif cmd == ord("J"):
            self.end_partial_line()
            self.doc.ops.append(Feed(self.byte()))
        elif cmd in (ord("2"),):
            pass
        elif cmd in (ord("3"), ord("R"), ord("{"), ord("V"), ord("r"), ord(" ")):
            self.byte()
        elif cmd == ord("p"):
            self.take(3)
        elif cmd in (ord("i"), ord("m")):
            self.end_partial_line()
            self.doc.ops.append(Cut(partial=True))
        else:
            self.unknown(start, "ESC command")

    def gs(self, start: int) -> None:
        cmd = self.byte()
        if cmd == ord("!"):
            n = self.byte()
            self.set_style(width=(n >> 4) + 1, height=(n & 0x0F) + 1)
        elif cmd == ord("B"):
            self.set_style(invert=bool(self.byte() & 1))
        elif cmd == ord("V"):
            self.end_partial_line()
            m = self.byte()
            if m in (65, 66):
                self.doc.ops.append(Feed(self.byte()))
            self.doc.ops.append(Cut(partial=m in (1, 49, 66)))
        elif cmd == ord("("):
            self.gs_paren(start)
        elif cmd == ord("v"):
            self.raster(start)
        elif cmd in (ord("L"), ord("W")):
            self.take(2)
        elif cmd in (ord("H"), ord("f"), ord("h"), ord("w"), ord("r")):
            self.byte()
        else:
            self.unknown(start, "GS command")

    def gs_paren(self, start: int) -> None:
        kind = self.byte()
        low, high = self.take(2)
        body = self.take(low + 256 * high)
        if kind != ord("k") or len(body) < 2 or body[0] != 49:  # cn = 49: QR Code
            self.unknown(start, f"GS ( {chr(kind)} function")
            return
        fn, args = body[1], body[2:]
        if fn == 65:  # model
            return
        if fn == 67 and args:  # module size
            self.qr_module = args[0]
        elif fn == 69 and args:  # error correction
            self.qr_error = QR_LEVELS.get(args[0], "L")
        elif fn == 80:  # store data (m = 48)
            self.qr_data = bytes(args[1:])
        elif fn == 81:  # print the stored symbol
            self.end_partial_line()
            payload = self.qr_data.decode("utf-8", errors="replace")
            self.doc.ops.append(QrCode(payload, self.qr_module, self.qr_error, self.align))
        elif fn != 82:
            self.unknown(start, f"QR function {fn}")

    def raster(self, start: int) -> None:
        if self.byte() != ord("0"):
            self.unknown(start, "GS v command")
            return
        self.byte()  # m: density (normal / double width / double height / quadruple)
        x_low, x_high, y_low, y_high = self.take(4)
        width_bytes, height = x_low + 256 * x_high, y_low + 256 * y_high
        bits = self.take(width_bytes * height)
        self.end_partial_line()
        self.doc.ops.append(Raster(width_bytes * 8, height, bits, self.align))

    def dle(self, start: int) -> None:
        cmd = self.byte()
        if cmd == 0x04:  # DLE EOT n: real-time status query
            self.doc.status_queries.append(self.byte())
        elif cmd == 0x14:  # DLE DC4 fn ...: real-time request
            self.take(4)
        else:
            self.unknown(start, "DLE command")


def parse(data: bytes, *, strict: bool = True) -> Document:
    """Interpret ``data`` as a printer would. Strict: unknown commands raise EscposDecodeError."""
    return _Parser(bytes(data), strict).run()


# -- drawing ------------------------------------------------------------------------------------------------
@cache
def _font(bold: bool, pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in MONO_BOLD_FONTS if bold else MONO_FONTS:
        if path.is_file():
            return ImageFont.truetype(str(path), pixels)
    return ImageFont.load_default(size=pixels)


def _segment_image(segment: Segment) -> Image.Image:
    cell_w, cell_h = (FONT_B_W, FONT_B_H) if segment.style.font_b else (CHAR_W, CHAR_H)
    columns = len(segment.text)
    base = Image.new("L", (max(1, columns * cell_w), cell_h), 255)
    draw = ImageDraw.Draw(base)
    font = _font(segment.style.bold, int(cell_w / 0.6))  # DejaVu Sans Mono: advance = 0.6 em
    for i, char in enumerate(segment.text):
        draw.text((i * cell_w, cell_h - 3), char, font=font, fill=0, anchor="ls")
    if segment.style.underline:
        draw.line((0, cell_h - 2, base.width, cell_h - 2), fill=0, width=2)
    if segment.style.invert:
        base = Image.eval(base, lambda v: 255 - v)
    size = (base.width * segment.style.width, base.height * segment.style.height)
    return base.resize(size, Image.Resampling.NEAREST)


def _x(align: str, width: int, paper: int) -> int:
    if align == "center":
        return max(0, (paper - width) // 2)
    if align == "right":
        return max(0, paper - width)
    return 0


def render_image(doc: Document, *, paper: int = PAPER_DOTS) -> Image.Image:
    """The document on white paper ``paper`` dots wide (grayscale), cuts drawn as dashed lines."""
    pieces: list[tuple[int, int, Image.Image]] = []  # (x, y, image)
    cut_rows: list[int] = []
    y = 0
    for op in doc.ops:
        if isinstance(op, TextLine):
            images = [_segment_image(s) for s in op.segments if s.text]
            height = max((im.height for im in images), default=CHAR_H)
            width = sum(im.width for im in images)
            x = _x(op.align, width, paper)
            for image in images:
                pieces.append((x, y + height - image.height, image))
                x += image.width
            y += max(LINE_PITCH, height + LINE_PITCH - CHAR_H)
        elif isinstance(op, QrCode):
            qr = _qr_image(op)
            pieces.append((_x(op.align, qr.width, paper), y, qr))
            y += qr.height
        elif isinstance(op, Raster):
            image = _raster_image(op)
            pieces.append((_x(op.align, image.width, paper), y, image))
            y += image.height
        elif isinstance(op, Feed):
            y += op.dots
        elif isinstance(op, Cut):
            cut_rows.append(y + 4)
            y += 9
    page = Image.new("L", (paper, max(1, y)), 255)
    for x, top, image in pieces:
        page.paste(image, (x, top))
    draw = ImageDraw.Draw(page)
    for row in cut_rows:
        for x in range(0, paper, 16):
            draw.line((x, row, x + 8, row), fill=128)
    return page


def render_png(data: bytes, *, paper: int = PAPER_DOTS) -> bytes:
    buffer = io.BytesIO()
    render_image(parse(data), paper=paper).save(buffer, format="PNG")
    return buffer.getvalue()


def _qr_image(op: QrCode) -> Image.Image:
    qr = segno.make(op.payload, error=op.error.lower(), micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, op.module), border=0, dark="black", light="white")
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def _raster_image(op: Raster) -> Image.Image:
    image = Image.frombytes("1", (op.width, op.height), op.bits)
    return Image.eval(image.convert("L"), lambda v: 255 - v)  # 1 bits are black dots
