"""Find an ID-1 card (85.6 × 54 mm) in a camera frame and warp it flat.

:func:`find_card` works on a ≤ 640-px copy of the frame: edge maps (Canny at two strengths on grey, and
Otsu masks of lightness and saturation, each closed) give contours; every contour whose convex hull
simplifies to a convex quadrilateral is a candidate, scored by its aspect ratio (ID-1 is 1.586; perspective
stretches it), its area, how well it fills its hull, and how much of its outline lies on edges. The best
candidate is then refined at full resolution: along each side the strongest step of brightness across the
side is looked up on many normals (the middle of the side only: card corners are rounded), a line is fitted
through those points with a robust (Huber) fit, and neighbouring lines are intersected into the corners.

Corners come back ordered top-left, top-right, bottom-right, bottom-left with the card's LONG side on top:
a card held upright (portrait) is turned into landscape; upside-down is left to the OCR (it tries 180°).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

ID1_ASPECT = 85.6 / 54.0
WARP_SIZE = (1012, 638)  # ≈ 300 dpi: tesseract's favourite resolution for 6–9 pt type
DETECT_WIDTH = 640
MIN_AREA_FRACTION = 0.04  # of the frame: anything smaller is too far away to read anyway
MIN_SCORE = 0.2  # measured: bare desks, walls and lobbies up to ~0.17, cards from ~0.29 (5th percentile)


@dataclass(frozen=True)
class CardQuad:
    corners: Any = field(repr=False)  # 4×2 float32 in frame pixels: TL, TR, BR, BL (long side on top)
    score: float  # 0..1, how card-like the candidate was
    frame_size: tuple[int, int]  # (width, height) of the frame it was found in

    @property
    def width_px(self) -> float:
        c = self.corners
        return float((np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2)

    @property
    def area_fraction(self) -> float:
        w, h = self.frame_size
        return float(cv2.contourArea(self.corners.astype(np.float32))) / float(w * h)

    @property
    def width_fraction(self) -> float:
        """The card's width over the frame's width (what "move closer" is judged on)."""
        return self.width_px / float(self.frame_size[0])

    def touches_border(self, margin: int = 3) -> bool:
        w, h = self.frame_size
        c = self.corners
        return bool((c[:, 0] < margin).any() or (c[:, 1] < margin).any() or (c[:, 0] > w - 1 - margin).any()
                    or (c[:, 1] > h - 1 - margin).any())


def to_bgr(image: Any) -> Any:
    array = np.asarray(image)
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.ndim == 3 and array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    return array


def order_corners(points: Any) -> Any:
    """TL, TR, BR, BL (clockwise from the top-left in image coordinates), long side first."""
    pts = np.asarray(points, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y grows downwards), starting anywhere
    start = int(np.argmin(pts.sum(axis=1)))  # nearest the top-left
    pts = np.roll(pts, -start, axis=0)
    top = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[3])
    side = np.linalg.norm(pts[2] - pts[1]) + np.linalg.norm(pts[3] - pts[0])
    if side > top:  # portrait: make the long side the top (the card turned a quarter, reading left-up)
        pts = np.roll(pts, -1, axis=0) if pts[1][1] < pts[3][1] else np.roll(pts, 1, axis=0)
        pts = np.roll(pts, 0, axis=0)
    return pts


def _aspect(quad: Any) -> float:
    a = float(np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    b = float(np.linalg.norm(quad[2] - quad[1]) + np.linalg.norm(quad[3] - quad[0])) / 2
    return max(a, b) / max(min(a, b), 1e-6)


def _edge_maps(small: Any) -> list[Any]:
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    smooth = cv2.GaussianBlur(grey, (5, 5), 0)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    maps = []
    median = float(np.median(smooth))
    for low, high in ((0.66 * median, 1.33 * median), (20.0, 60.0)):
        edges = cv2.Canny(smooth, max(5.0, low), max(15.0, high))
        maps.append(cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel))
    hls = cv2.cvtColor(cv2.GaussianBlur(small, (5, 5), 0), cv2.COLOR_BGR2HLS)
    for channel in (1, 2):  # lightness, saturation: a card stands out from the desk in one or the other
        _, mask = cv2.threshold(hls[:, :, channel], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        maps.append(mask)
        maps.append(255 - mask)
    return maps


def _quad_of(contour: Any) -> Any:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.02, 0.03, 0.045, 0.06):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    rect = cv2.minAreaRect(hull)  # a thumb or glare bent the outline: its bounding rectangle
    return cv2.boxPoints(rect).astype(np.float32)


def _edge_support(quad: Any, edges: Any) -> float:
    pts = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        for t in np.linspace(0.1, 0.9, 24):
            pts.append(a + (b - a) * t)
    p = np.round(np.asarray(pts)).astype(int)
    h, w = edges.shape
    inside = (p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)
    if not inside.any():
        return 0.0
    return float((edges[p[inside, 1], p[inside, 0]] > 0).sum()) / len(p)


def _text_map(grey: Any) -> Any:
    """Thin dark or light strokes (print) on the small frame: a card carries text, a desk or a wall does not."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 3))
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    light = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    return ((dark > 28) | (light > 28)).astype(np.uint8)


def _text_factor(text: Any, quad: Any) -> float:
    mask = np.zeros(text.shape, np.uint8)
    inner = quad.mean(axis=0) + (quad - quad.mean(axis=0)) * 0.85
    cv2.fillConvexPoly(mask, np.round(inner).astype(np.int32), 1)
    area = int(mask.sum())
    if area == 0:
        return 0.0
    density = float((text & mask).sum()) / area
    # print covers a few % of a card; nothing at all is a plain surface, a lot is texture (wood, fabric)
    if density < 0.01:
        return 0.25 + 50 * density
    return 1.0 if density < 0.2 else max(0.3, 1.0 - 2 * (density - 0.2))


def _score(quad: Any, solidity: float, edges: Any, text: Any) -> float:
    h, w = edges.shape
    frame_area = float(w * h)
    quad_area = float(cv2.contourArea(quad))
    if quad_area < MIN_AREA_FRACTION * frame_area or quad_area > 0.97 * frame_area:
        return 0.0
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2).astype(np.float32)):
        return 0.0
    # foreshortening: a card tilted 30° away from the camera looks 1.83:1, one turned sideways 1.37:1
    aspect_score = math.exp(-(((_aspect(quad) - ID1_ASPECT) / 0.3) ** 2))
    if aspect_score < 0.1:
        return 0.0
    support = _edge_support(quad, edges)
    size = min(1.0, quad_area / (0.25 * frame_area))
    score = aspect_score * (0.3 + 0.7 * solidity) * (0.25 + 0.75 * support) * (0.5 + 0.5 * size)
    score *= _text_factor(text, quad)
    if (quad[:, 0] < 3).any() or (quad[:, 1] < 3).any() or (quad[:, 0] > w - 4).any() or (quad[:, 1] > h - 4).any():
        score *= 0.5  # the desk or a wall runs out of the frame; a card held up does not
    offset = np.linalg.norm(quad.mean(axis=0) - [w / 2, h / 2]) / (0.5 * math.hypot(w, h))
    return float(score * (1.0 - 0.4 * float(offset)))  # the screen's outline asks for the card in the middle


def _contour_quads(small: Any) -> list[tuple[Any, float]]:
    h, w = small.shape[:2]
    frame_area = float(w * h)
    out = []
    for binary in _edge_maps(small):
        contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            area = cv2.contourArea(contour)
            if area < MIN_AREA_FRACTION * frame_area or area > 0.97 * frame_area:
                continue
            quad = _quad_of(contour)
            quad_area = float(cv2.contourArea(quad))
            if quad_area > 0:
                out.append((quad, min(1.0, area / quad_area, quad_area / area)))
    return out


def _line_quads(grey: Any) -> list[tuple[Any, float]]:
    """Quads from pairs of long straight edges (a card's outline broken by a busy background or a thumb)."""
    h, w = grey.shape
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 25, 75)
    segments = cv2.HoughLinesP(edges, 1, np.pi / 180, 40, minLineLength=int(0.1 * w), maxLineGap=25)
    if segments is None:
        return []
    lines: list[list[float]] = []  # [theta, rho, length]  (normal angle, distance, summed length)
    for x1, y1, x2, y2 in segments.reshape(-1, 4).astype(float):
        theta = math.atan2(x2 - x1, -(y2 - y1)) % math.pi  # direction of the normal
        rho = x1 * math.cos(theta) + y1 * math.sin(theta)
        length = math.hypot(x2 - x1, y2 - y1)
        if theta > math.pi / 2:  # normals in [-90°, 90°): near-vertical edges stay comparable
            theta, rho = theta - math.pi, -rho
        for line in lines:
            if abs(line[0] - theta) < math.radians(4) and abs(line[1] - rho) < 6:
                line[2] += length
                break
        else:
            lines.append([theta, rho, length])
    lines = sorted(lines, key=lambda ln: -ln[2])[:20]
    pairs = []
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            if abs(a[0] - b[0]) < math.radians(12) and abs(a[1] - b[1]) > 0.12 * h:
                pairs.append((a, b))
    out = []
    for i, (a, b) in enumerate(pairs):
        for c, d in pairs[i + 1 :]:
            angle = abs(((a[0] - c[0]) + math.pi / 2) % math.pi - math.pi / 2)
            if angle < math.radians(60) or abs(abs(a[0] - c[0]) - math.pi / 2) > math.radians(35):
                continue
            corners = [_cross(a, c), _cross(c, b), _cross(b, d), _cross(d, a)]
            if any(p is None for p in corners):
                continue
            quad = order_corners(np.array(corners, np.float32))
            if (quad[:, 0] < -5).any() or (quad[:, 1] < -5).any() or (quad[:, 0] > w + 5).any() or (
                quad[:, 1] > h + 5
            ).any():
                continue
            out.append((quad, 1.0))
    return out


def _cross(a: list[float], b: list[float]) -> tuple[float, float] | None:
    det = math.cos(a[0]) * math.sin(b[0]) - math.sin(a[0]) * math.cos(b[0])
    if abs(det) < 1e-6:
        return None
    x = (a[1] * math.sin(b[0]) - b[1] * math.sin(a[0])) / det
    y = (b[1] * math.cos(a[0]) - a[1] * math.cos(b[0])) / det
    return (x, y)


def _candidates(small: Any) -> list[tuple[float, Any]]:
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = cv2.dilate(cv2.Canny(cv2.GaussianBlur(grey, (3, 3), 0), 20, 60), np.ones((7, 7), np.uint8))
    text = _text_map(grey)
    out: list[tuple[float, Any]] = []
    for quad, solidity in _contour_quads(small) + _line_quads(grey):
        score = _score(quad, solidity, edges, text)
        if score > 0:
            out.append((score, quad))
    out.sort(key=lambda item: -item[0])
    return out


def _refine(grey: Any, quad: Any) -> Any:
    """Corners from lines fitted to the strongest brightness step across each side (full resolution)."""
    h, w = grey.shape
    blurred = cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)
    centre = quad.mean(axis=0)
    side_len = max(float(np.linalg.norm(quad[1] - quad[0])), 1.0)
    reach = max(6.0, 0.03 * side_len)
    lines: list[tuple[Any, Any] | None] = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        direction = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
        normal = np.array([-direction[1], direction[0]], np.float32)
        if np.dot(normal, centre - (a + b) / 2) > 0:
            normal = -normal  # pointing outwards
        offsets = np.linspace(-reach, reach, int(2 * reach) + 1, dtype=np.float32)
        ts = np.linspace(0.12, 0.88, 40, dtype=np.float32)
        base = a[None, :] + (b - a)[None, :] * ts[:, None]  # 40 × 2
        samples = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]  # 40 × K × 2
        xs = np.clip(samples[..., 0], 0, w - 1)
        ys = np.clip(samples[..., 1], 0, h - 1)
        values = cv2.remap(blurred, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR)
        steps = np.abs(np.diff(values, axis=1))
        peak = steps.max(axis=1, keepdims=True)
        # the OUTERMOST strong step: a coloured band or a printed frame inside the card is as sharp as its edge
        strong = steps >= 0.5 * np.maximum(peak, 1e-6)
        best = steps.shape[1] - 1 - np.argmax(strong[:, ::-1], axis=1)
        strength = steps[np.arange(len(best)), best]
        keep = strength > max(4.0, 0.35 * float(np.median(strength)))
        if keep.sum() < 8:
            lines.append(None)
            continue
        offs = (offsets[best] + offsets[best + 1]) / 2
        points = base[keep] + offs[keep, None] * normal[None, :]
        vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4)
        lines.append((np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)))
    refined = quad.copy()
    for i in range(4):
        prev_line, line = lines[(i - 1) % 4], lines[i]
        if prev_line is None or line is None:
            continue
        p = _intersect(prev_line, line)
        if p is not None and np.linalg.norm(p - quad[i]) < 3 * reach:
            refined[i] = p
    return refined


def _intersect(l1: tuple[Any, Any], l2: tuple[Any, Any]) -> Any | None:
    (p, r), (q, s) = l1, l2
    cross = r[0] * s[1] - r[1] * s[0]
    if abs(cross) < 1e-6:
        return None
    t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / cross
    return (p + t * r).astype(np.float32)


def _outermost(found: list[tuple[float, Any]]) -> tuple[float, Any]:
    """The best candidate, or a larger one around it that scores nearly as well: a header band or a
    printed box inside a card makes a card-like quad too, and the card is the outermost of them."""
    best_score, best = found[0]
    best_area = float(cv2.contourArea(best))
    chosen = (best_score, best, best_area)
    for score, quad in found[1:]:
        if score < 0.55 * best_score:
            break
        area = float(cv2.contourArea(quad))
        if not (chosen[2] * 1.04 < area < best_area * 1.8):
            continue
        contour = quad.reshape(-1, 1, 2)
        if all(cv2.pointPolygonTest(contour, (float(x), float(y)), True) > -4 for x, y in best):
            chosen = (score, quad, area)
    return chosen[0], chosen[1]


def find_card(frame: Any, *, refine: bool = True) -> CardQuad | None:
    """The card's quadrilateral in a BGR (or grey) frame, or None when nothing card-like is there."""
    image = to_bgr(frame)
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_WIDTH / float(max(w, h)))
    small = image
    if scale < 1:
        small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    found = _candidates(small)
    if not found:
        return None
    score, quad = _outermost(found)
    if score < MIN_SCORE:
        return None
    corners = quad / scale
    if refine:
        corners = _refine(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), corners)
    return CardQuad(order_corners(corners), round(float(score), 3), (w, h))


def warp_card(frame: Any, quad: CardQuad, size: tuple[int, int] = WARP_SIZE) -> Any:
    """The card flattened to ``size`` (ID-1 proportions), BGR."""
    dst = np.array([[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.corners.astype(np.float32), dst)
    return cv2.warpPerspective(to_bgr(frame), matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
