"""Find barcode-like regions in a (downscaled) grey image and cut them out upright at full resolution.

zxing-cpp's PDF417 reader fails once a symbol is tilted by 4° or more (RECIPES §3, zxing-cpp #145/#826): the
frame pipeline finds the region first — Sobel gradients, Otsu, closing, ``minAreaRect`` on a ≤ 960-px copy —
then rotates that region upright in the full-resolution frame and decodes only the crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

RotatedRect = tuple[tuple[float, float], tuple[float, float], float]  # cv2.minAreaRect's ((cx, cy), (w, h), deg)


@dataclass(frozen=True)
class Crop:
    image: Any  # upright grey crop (numpy uint8)
    to_source: Any  # 2×3 affine matrix: crop pixel → source image pixel


def find_regions(small: Any, *, max_regions: int = 2, min_area_fraction: float = 0.004) -> list[RotatedRect]:
    """Rotated rectangles around dense, bar-like texture in ``small`` (grey uint8), largest first."""
    gx = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3))
    gy = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 0, 1, ksize=3))
    # Bars have a strong gradient across them and none along them; text and edges have both or few.
    texture = cv2.blur(cv2.absdiff(gx, gy), (9, 9))
    _, mask = cv2.threshold(texture, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.dilate(cv2.erode(mask, kernel, iterations=3), kernel, iterations=3)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = min_area_fraction * small.shape[0] * small.shape[1]
    ranked = sorted(contours, key=cv2.contourArea, reverse=True)
    regions: list[RotatedRect] = []
    for contour in ranked[:max_regions]:
        if cv2.contourArea(contour) < min_area:
            break
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        regions.append(((float(cx), float(cy)), (float(w), float(h)), float(angle)))
    return regions


def upright_crop(gray: Any, region: RotatedRect, scale: float, *, margin: float = 0.08) -> Crop:
    """Cut ``region`` (found on a copy ``scale`` times smaller) out of ``gray``, long side horizontal."""
    (cx, cy), (w, h), angle = region
    cx, cy, w, h = cx * scale, cy * scale, w * scale, h * scale
    if w < h:
        w, h, angle = h, w, angle + 90.0
    out_w = int(w * (1 + margin) + 16)
    out_h = int(h * (1 + 2 * margin) + 16)
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[0, 2] += out_w / 2 - cx
    matrix[1, 2] += out_h / 2 - cy
    image = cv2.warpAffine(gray, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return Crop(image=image, to_source=cv2.invertAffineTransform(matrix))


def map_points(points: Any, affine: Any) -> Any:
    """Apply a 2×3 affine matrix to N×2 points."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    return pts @ np.asarray(affine, np.float64)[:, :2].T + np.asarray(affine, np.float64)[:, 2]
