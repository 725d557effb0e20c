"""Barcode decoding on still images and camera frames: zxing-cpp first, pyzbar as a fallback (RECIPES §3).

- :func:`decode_image`: thorough, for still images (``kiosk decode``): the whole image, a 2× copy of small
  images (finds small symbols beside large ones), then the other binarizer, tilted regions and zbar.
- :class:`FrameDecoder`: fast, for 1080p camera frames, stops at the first barcode found:
  grey region of interest → ≤ 960-px copy → (QR / Code 128 on the copy) → barcode-like regions cut out upright
  at full resolution (PDF417 tilt) → [zbar on the copy, off by default] → the whole region at full resolution.

pyzbar "where it is better": measured on bench/barcode_decode.py's frames it never read a frame zxing-cpp
missed (QR, Code 128 incl. blurred and distant labels; it cannot read PDF417 at all) and costs 5–10× more,
so camera frames skip it unless ``use_zbar`` is set; still images keep it as the last resort.

Formats are always restricted (2.5–3× faster than all formats). Text keeps AAMVA control characters: pure
ASCII payloads are read from ``bytes``; others from zxing's charset-aware plain text. Barcode text is
personal data: it is never logged and stays out of ``repr``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import zxingcpp

from devices.barcode.base import Barcode
from devices.barcode.region import Crop, find_regions, map_points, upright_crop

log = logging.getLogger(__name__)

FORMATS = ("PDF417", "QRCode", "Code128")
_ZX = {
    "PDF417": zxingcpp.BarcodeFormat.PDF417,
    "QRCode": zxingcpp.BarcodeFormat.QRCode,
    "Code128": zxingcpp.BarcodeFormat.Code128,
}
_ZX_NAMES = {value: key for key, value in _ZX.items()}
_ZBAR_NAMES = {"QRCODE": "QRCode", "CODE128": "Code128"}
SMALL_WIDTH = 960

Point = tuple[int, int]


@dataclass(frozen=True)
class Decoded:
    format: str  # "PDF417" | "QRCode" | "Code128"
    text: str = field(repr=False)
    raw: bytes = field(repr=False)
    position: tuple[Point, Point, Point, Point]  # corners in the image: top-left, top-right, bottom-right, bottom-left
    stage: str = ""  # which step found it (statistics, benchmark)

    def to_barcode(self, source: str) -> Barcode:
        return Barcode(format=self.format, text=self.text, source=source)


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(formats))
    unknown = [f for f in chosen if f not in _ZX]
    if unknown or not chosen:
        raise ValueError(f"formats must be a non-empty subset of {', '.join(FORMATS)}")
    return chosen


def to_gray(image: Any) -> Any:
    """uint8 grey from a grey, BGR or BGRA numpy image."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError("images must be uint8")
    if array.ndim == 2:
        return array
    if array.ndim == 3 and array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)
    if array.ndim == 3 and array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2GRAY)
    if array.ndim == 3 and array.shape[2] == 1:
        return array[:, :, 0]
    raise ValueError("images must be grey, BGR or BGRA")


@functools.lru_cache(maxsize=32)
def _zx_formats(formats: tuple[str, ...]) -> Any:
    return zxingcpp.barcode_formats_from_str(",".join(formats))


def _text(raw: bytes, plain: str) -> str:
    return raw.decode("ascii") if raw.isascii() else plain


def read_zxing(
    gray: Any,
    formats: Sequence[str],
    *,
    stage: str,
    to_source: Callable[[Any], Any] | None = None,
    binarizer: Any = None,
    try_downscale: bool = True,
    try_rotate: bool = True,
) -> list[Decoded]:
    """zxing-cpp on one grey image; positions mapped by ``to_source`` (N×2 points → N×2 points)."""
    results = zxingcpp.read_barcodes(
        gray,
        formats=_zx_formats(tuple(formats)),
        try_rotate=try_rotate,
        try_downscale=try_downscale,
        try_invert=False,
        text_mode=zxingcpp.TextMode.Plain,
        binarizer=binarizer if binarizer is not None else zxingcpp.Binarizer.LocalAverage,
    )
    found = []
    for r in results:
        name = _ZX_NAMES.get(r.format)
        if name is None or not r.valid:
            continue
        p = r.position
        points: Any = np.array([[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)])
        if to_source is not None:
            points = to_source(points)
        corners = tuple((int(round(x)), int(round(y))) for x, y in points)
        raw = bytes(r.bytes)
        found.append(Decoded(name, _text(raw, r.text), raw, corners, stage))  # type: ignore[arg-type]
    return found


def read_zbar(
    gray: Any, formats: Sequence[str], *, stage: str, scale: float = 1.0, offset: Point = (0, 0)
) -> list[Decoded]:
    """pyzbar (QR and Code 128 only: Debian's zbar has no PDF417). [] when pyzbar is not installed."""
    wanted = [f for f in formats if f in ("QRCode", "Code128")]
    if not wanted:
        return []
    try:
        from pyzbar import pyzbar
    except ImportError:  # libzbar0 missing: zbar is only a fallback
        return []
    symbols = [pyzbar.ZBarSymbol.QRCODE if f == "QRCode" else pyzbar.ZBarSymbol.CODE128 for f in wanted]
    found = []
    for r in pyzbar.decode(gray, symbols=symbols):
        name = _ZBAR_NAMES.get(r.type)
        if name is None:
            continue
        x, y, w, h = r.rect
        box = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
        corners = tuple((int(round(px * scale + offset[0])), int(round(py * scale + offset[1]))) for px, py in box)
        raw = bytes(r.data)
        text = raw.decode("utf-8") if not raw.isascii() and _utf8(raw) else raw.decode("latin-1")
        found.append(Decoded(name, text, raw, corners, stage))  # type: ignore[arg-type]
    return found


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _scaled(factor: float, offset: Point = (0, 0)) -> Callable[[Any], Any]:
    return lambda pts: np.asarray(pts, np.float64) * factor + np.asarray(offset, np.float64)


def _affine(crop: Crop, factor: float = 1.0, offset: Point = (0, 0)) -> Callable[[Any], Any]:
    return lambda pts: map_points(np.asarray(pts, np.float64) / factor, crop.to_source) + np.asarray(offset)


def _merge(found: list[Decoded], new: Iterable[Decoded]) -> None:
    seen = {(d.format, d.raw) for d in found}
    for d in new:
        if (d.format, d.raw) not in seen:
            seen.add((d.format, d.raw))
            found.append(d)


#: ways to look at a region crop, cheapest first: as cut, smoothed along the bars (sensor noise), 1.5× (thin
#: modules). Each is tried on every region before the next is computed.
VARIANTS = ("region", "region-smoothed", "region-1.5x")


def _variant(crop: Crop, stage: str) -> tuple[Any, float]:
    """(image, upscale factor) of one VARIANTS entry."""
    if stage == "region-smoothed":
        return cv2.blur(crop.image, (1, 5)), 1.0
    if stage == "region-1.5x":
        return cv2.resize(crop.image, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC), 1.5
    return crop.image, 1.0


def _read_regions(
    gray: Any, small: Any, factor: float, formats: Sequence[str], offset: Point, max_regions: int
) -> list[Decoded]:
    crops = [upright_crop(gray, region, factor) for region in find_regions(small, max_regions=max_regions)]
    for stage in VARIANTS:
        for crop in crops:
            image, up = _variant(crop, stage)
            found = read_zxing(
                image, formats, stage=stage, to_source=_affine(crop, up, offset), try_downscale=False, try_rotate=False
            )
            if found:
                return found
    return []


def _shrink(gray: Any, width: int) -> tuple[Any, float]:
    """(copy at most ``width`` wide, factor back to ``gray``)."""
    h, w = gray.shape[:2]
    if w <= width:
        return gray, 1.0
    factor = w / width
    return cv2.resize(gray, (width, max(1, int(round(h / factor)))), interpolation=cv2.INTER_AREA), factor


def decode_image(image: Any, formats: Sequence[str] = FORMATS, *, use_zbar: bool = True) -> list[Decoded]:
    """Every barcode found in a still image (thorough; see the module doc). Raises ValueError on bad input."""
    formats = check_formats(formats)
    gray = to_gray(image)
    if gray.shape[0] < 8 or gray.shape[1] < 8:
        return []
    found = read_zxing(gray, formats, stage="full")
    if max(gray.shape) < 1200:  # small symbols next to big ones (Macro PDF417 sets) show up at 2×
        big = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        _merge(found, read_zxing(big, formats, stage="full-2x", to_source=_scaled(0.5)))
    if found:
        return found
    found = read_zxing(gray, formats, stage="full-global", binarizer=zxingcpp.Binarizer.GlobalHistogram)
    if found:
        return found
    small, factor = _shrink(gray, SMALL_WIDTH)
    found = _read_regions(gray, small, factor, formats, (0, 0), 2)
    if found:
        return found
    return read_zbar(gray, formats, stage="zbar") if use_zbar else []


@dataclass
class DecoderStats:
    frames: int = 0
    found: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    last_ms: float = 0.0


class FrameDecoder:
    """The camera pipeline (module doc). ``roi`` = (left, top, right, bottom) as fractions of the frame."""

    def __init__(
        self,
        formats: Sequence[str] = FORMATS,
        *,
        roi: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0),
        use_zbar: bool = False,
        full_frame_fallback: bool = True,
        max_regions: int = 2,
    ) -> None:
        self.formats = check_formats(formats)
        left, top, right, bottom = roi
        if not (0.0 <= left < right <= 1.0 and 0.0 <= top < bottom <= 1.0):
            raise ValueError("roi must be (left, top, right, bottom) fractions with left < right, top < bottom")
        self.roi = roi
        self.use_zbar = use_zbar
        self.full_frame_fallback = full_frame_fallback
        self.max_regions = max_regions
        self.stats = DecoderStats()
        self._small_formats = tuple(f for f in self.formats if f != "PDF417")
        self._region_formats = tuple(f for f in self.formats if f != "QRCode")

    def decode(self, frame: Any) -> list[Decoded]:
        """Barcodes in one frame (usually 0 or 1: stops at the first step that finds any)."""
        started = time.perf_counter()
        found = self._decode(frame)
        self.stats.frames += 1
        self.stats.last_ms = (time.perf_counter() - started) * 1000
        if found:
            self.stats.found += 1
            stage = found[0].stage
            self.stats.by_stage[stage] = self.stats.by_stage.get(stage, 0) + 1
        return found

    def _decode(self, frame: Any) -> list[Decoded]:
        full = to_gray(frame)
        h, w = full.shape[:2]
        left, top, right, bottom = self.roi
        x0, y0, x1, y1 = int(left * w), int(top * h), int(right * w), int(bottom * h)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        gray = full[y0:y1, x0:x1]
        offset = (x0, y0)
        small, factor = _shrink(gray, SMALL_WIDTH)
        if self._small_formats:
            found = read_zxing(
                small,
                self._small_formats,
                stage="small",
                to_source=_scaled(factor, offset),
                try_downscale=False,
                try_rotate=False,  # an upright copy only: vertical Code 128 is found by the region step
            )
            if found:
                return found
        if self._region_formats:
            found = _read_regions(gray, small, factor, self._region_formats, offset, self.max_regions)
            if found:
                return found
        if self.use_zbar:
            found = read_zbar(small, self.formats, stage="zbar", scale=factor, offset=offset)
            if found:
                return found
        if self.full_frame_fallback:
            return read_zxing(gray, self.formats, stage="full", to_source=_scaled(1.0, offset))
        return []
