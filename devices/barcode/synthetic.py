"""Synthetic camera frames for TESTS and the benchmark: an ID card's back (AAMVA PDF417) photographed at 1080p.

:func:`render_card_frame` draws the back of a fictional ID card (pale background, a few text lines, the
PDF417 made by zxing-cpp's writer) and "photographs" it: the card is placed in a cluttered 1920×1080 scene
with perspective, in-plane rotation, defocus blur, sensor noise and a specular glare spot, with a strength
chosen by ``level`` (0 = a steady card held square to the camera … 4 = tilted, blurred, noisy, with glare).
Everything is drawn from ``seed``: the same (payload, seed, level) gives the same frame, byte for byte.

:func:`render_code_frame` does the same for a QR code or a Code 128 label on a sheet of paper.

The returned :class:`SyntheticFrame` carries the barcode's true corners in the frame (for checking the
position a decoder reports) and the module size in frame pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import zxingcpp

FRAME_SIZE = (1920, 1080)
LEVELS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Degradation:
    tilt_deg: float  # maximum in-plane rotation (either direction)
    perspective: float  # maximum corner displacement, as a fraction of the card's width
    blur_sigma: float  # Gaussian defocus blur (pixels)
    noise: float  # standard deviation of the sensor noise (grey levels)
    glare: float  # peak brightness added by the glare spot (0 = none)
    scale: tuple[float, float]  # card width as a fraction of the frame's width (min, max)


DEGRADATIONS: dict[int, Degradation] = {
    0: Degradation(0.0, 0.00, 0.0, 2.0, 0.0, (0.62, 0.66)),
    1: Degradation(3.0, 0.02, 0.6, 4.0, 0.0, (0.58, 0.66)),
    2: Degradation(6.0, 0.04, 1.0, 6.0, 60.0, (0.55, 0.66)),
    3: Degradation(10.0, 0.06, 1.4, 8.0, 110.0, (0.52, 0.66)),
    4: Degradation(15.0, 0.08, 1.9, 11.0, 160.0, (0.50, 0.66)),
}


@dataclass(frozen=True)
class SyntheticFrame:
    image: Any = field(repr=False)  # numpy.ndarray, 1080×1920×3 BGR uint8
    corners: Any = field(repr=False)  # 4×2 float32: the symbol's corners in the frame (TL, TR, BR, BL)
    module_px: float  # width of one module in the frame (before blur)
    level: int
    seed: int


def pdf417_image(payload: str, *, columns: int = 12, module: int = 4, row_height: int = 4) -> Any:
    """The PDF417 symbol of ``payload`` as a white-on-black uint8 image with a quiet zone."""
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.PDF417, columns=columns)
    modules = np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=1, add_quiet_zones=False))
    # zxing-cpp writes one pixel per module and row; a printed PDF417 row is 3–4 modules high.
    image = np.repeat(np.repeat(modules, module * row_height, axis=0), module, axis=1)
    quiet = 2 * module
    return cv2.copyMakeBorder(image, quiet, quiet, quiet, quiet, cv2.BORDER_CONSTANT, value=255)


def code_image(text: str, fmt: str, *, module: int = 6) -> Any:
    """A QR code ("QRCode") or Code 128 ("Code128") symbol as a uint8 image with a quiet zone."""
    barcode_format = {"QRCode": zxingcpp.BarcodeFormat.QRCode, "Code128": zxingcpp.BarcodeFormat.Code128}[fmt]
    symbol = zxingcpp.create_barcode(text, barcode_format)
    modules = np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=1, add_quiet_zones=False))
    height = modules.shape[0] * module if fmt == "QRCode" else 60 * module
    image = cv2.resize(modules, (modules.shape[1] * module, height), interpolation=cv2.INTER_NEAREST)
    quiet = 4 * module if fmt == "QRCode" else 10 * module
    return cv2.copyMakeBorder(image, quiet, quiet, quiet, quiet, cv2.BORDER_CONSTANT, value=255)


def _background(rng: np.random.Generator) -> Any:
    width, height = FRAME_SIZE
    # A lobby-ish scene, drawn small and scaled up: a gradient, blobs of colour, some edges.
    small = np.zeros((height // 8, width // 8, 3), np.float32)
    base = rng.uniform(40, 150, 3)
    ramp = np.linspace(0.7, 1.2, small.shape[1], dtype=np.float32)[np.newaxis, :, np.newaxis]
    small[:] = base * ramp
    for _ in range(12):
        centre = (int(rng.integers(0, small.shape[1])), int(rng.integers(0, small.shape[0])))
        axes = (int(rng.integers(5, 60)), int(rng.integers(5, 40)))
        colour = tuple(float(c) for c in rng.uniform(20, 220, 3))
        cv2.ellipse(small, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    image = cv2.resize(small, FRAME_SIZE, interpolation=cv2.INTER_LINEAR)
    for _ in range(6):  # sharp straight edges (desk, window frames) that a region finder must ignore
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, p1, p2, tuple(float(c) for c in rng.uniform(0, 255, 3)), int(rng.integers(2, 9)))
    return image


def _card(symbol: Any, rng: np.random.Generator) -> tuple[Any, Any]:
    """The card's back at ~12 px/mm (85.6 × 54 mm) with the symbol on it; returns (card, symbol corners)."""
    card_w, card_h = 1027, 648
    tint = rng.uniform(200, 245, 3).astype(np.float32)
    card = np.empty((card_h, card_w, 3), np.float32)
    card[:] = tint
    for row in range(4):  # text lines above the barcode (endorsements, restrictions: here only bars)
        y = 40 + row * 34
        length = int(rng.integers(250, 700))
        cv2.rectangle(card, (50, y), (50 + length, y + 14), (90, 90, 90), -1)
    target_w = card_w - 100
    scale = target_w / symbol.shape[1]
    target_h = min(int(round(symbol.shape[0] * scale)), card_h - 230)
    resized = cv2.resize(symbol, (target_w, target_h), interpolation=cv2.INTER_AREA)
    x0, y0 = 50, card_h - 40 - target_h
    card[y0 : y0 + target_h, x0 : x0 + target_w] = resized[:, :, np.newaxis] * (tint / 255.0)
    corners = np.array([[x0, y0], [x0 + target_w, y0], [x0 + target_w, y0 + target_h], [x0, y0 + target_h]],
                       np.float32)  # fmt: skip
    return card, corners


def _paper(symbol: Any) -> tuple[Any, Any]:
    pad = 60
    sheet = np.full((symbol.shape[0] + 2 * pad, symbol.shape[1] + 2 * pad, 3), 235, np.float32)
    sheet[pad : pad + symbol.shape[0], pad : pad + symbol.shape[1]] = symbol[:, :, np.newaxis] * (235 / 255.0)
    h, w = symbol.shape
    corners = np.array([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]], np.float32)
    return sheet, corners


def _photograph(
    item: Any, symbol_corners: Any, level: int, seed: int, symbol_modules: float, width_fraction: float = 1.0
) -> SyntheticFrame:
    if level not in DEGRADATIONS:
        raise ValueError(f"level must be one of {LEVELS}")
    d = DEGRADATIONS[level]
    rng = np.random.default_rng(seed)
    frame = _background(rng)
    width, height = FRAME_SIZE
    item_h, item_w = item.shape[:2]
    out_w = width * rng.uniform(*d.scale) * width_fraction
    out_h = out_w * item_h / item_w
    angle = math.radians(rng.uniform(-d.tilt_deg, d.tilt_deg))
    cx = width / 2 + rng.uniform(-0.06, 0.06) * width
    cy = height / 2 + rng.uniform(-0.06, 0.06) * height
    local = np.array([[-out_w / 2, -out_h / 2], [out_w / 2, -out_h / 2], [out_w / 2, out_h / 2],
                      [-out_w / 2, out_h / 2]])  # fmt: skip
    local += rng.uniform(-d.perspective, d.perspective, (4, 2)) * out_w
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = (local @ rotation.T + [cx, cy]).astype(np.float32)
    src = np.array([[0, 0], [item_w, 0], [item_w, item_h], [0, item_h]], np.float32)
    homography = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(item, homography, FRAME_SIZE, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((item_h, item_w), np.float32), homography, FRAME_SIZE)
    frame = frame * (1 - mask[:, :, np.newaxis]) + warped * mask[:, :, np.newaxis]
    corners = cv2.perspectiveTransform(symbol_corners.reshape(-1, 1, 2), homography).reshape(4, 2)
    symbol_width = float(np.linalg.norm(corners[1] - corners[0]))
    if d.glare > 0:
        gx = cx + rng.uniform(-0.25, 0.25) * out_w
        gy = cy + rng.uniform(-0.3, 0.3) * out_h
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        radius = out_w * rng.uniform(0.08, 0.16)
        spot = np.exp(-(((xx - gx) ** 2 + ((yy - gy) * 1.6) ** 2) / (2 * radius**2)))
        frame = frame + (d.glare * spot)[:, :, np.newaxis]
    if d.blur_sigma > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), d.blur_sigma)
    frame = frame + rng.normal(0, d.noise, frame.shape).astype(np.float32)
    image = np.clip(frame, 0, 255).astype(np.uint8)
    return SyntheticFrame(image, corners.astype(np.float32), symbol_width / symbol_modules, level, seed)


def render_card_frame(payload: str, *, seed: int, level: int, columns: int = 12) -> SyntheticFrame:
    """A 1080p camera frame of an ID card's back carrying ``payload`` as PDF417 (see the module doc)."""
    symbol = pdf417_image(payload, columns=columns, module=4, row_height=4)
    rng = np.random.default_rng(seed + 7919)
    card, corners = _card(symbol, rng)
    return _photograph(card, corners, level, seed, symbol.shape[1] / 4 - 4)


def render_code_frame(text: str, fmt: str, *, seed: int, level: int) -> SyntheticFrame:
    """A 1080p camera frame of a QR code ("QRCode") or Code 128 label ("Code128") on a sheet of paper."""
    symbol = code_image(text, fmt, module=6)
    sheet, corners = _paper(symbol)
    fraction = 0.45 if fmt == "QRCode" else 0.75
    quiet = 8 if fmt == "QRCode" else 20
    return _photograph(sheet, corners, level, seed, symbol.shape[1] / 6 - quiet, width_fraction=fraction)
