"""Quality gates for one live frame: is there a card, is it big enough, sharp, and free of glare?

Measured on the card flattened to a small copy (``GATE_SIZE``), so the numbers do not depend on how far
away the card is: sharpness = variance of the Laplacian, glare = the largest blob of clipped pixels
(≥ 250 after a light blur) as a share of the card. Guidance, first failing gate wins:
``card_not_found`` → ``move_closer`` (fill) → ``hold_still`` (blur) → ``tilt_for_glare`` → ``ok``.
Motion between frames is judged by :mod:`devices.insurance.capture` (it sees successive frames).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from devices.insurance.base import Guidance, Quality
from devices.insurance.finder import CardQuad, find_card, warp_card

GATE_SIZE = (428, 270)


@dataclass(frozen=True)
class GateLimits:
    min_fill: float = 0.42  # card width / frame width: smaller reads badly at 720p
    min_sharpness: float = 60.0  # variance of the Laplacian on GATE_SIZE (bench: sharp cards 150–900)
    max_glare: float = 0.012  # share of the card in one washed-out spot

    def __post_init__(self) -> None:
        if not (0 < self.min_fill < 1 and self.min_sharpness >= 0 and 0 <= self.max_glare <= 1):
            raise ValueError("gate limits out of range")


def sharpness(card_grey: Any) -> float:
    return float(cv2.Laplacian(card_grey, cv2.CV_32F).var())


def glare(card_grey: Any) -> float:
    clipped = (cv2.GaussianBlur(card_grey, (5, 5), 0) >= 250).astype(np.uint8)
    if not clipped.any():
        return 0.0
    count, _, stats, _ = cv2.connectedComponentsWithStats(clipped, connectivity=8)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if count > 1 else 0
    return largest / float(card_grey.size)


def assess(frame: Any, limits: GateLimits = GateLimits(), quad: CardQuad | None = None) -> Quality:
    """Judge one frame (BGR or grey). ``quad`` skips the search when the caller already has one."""
    array = np.asarray(frame)
    h, w = array.shape[:2]
    quad = quad or find_card(array)
    if quad is None or quad.touches_border():
        return Quality(Guidance.CARD_NOT_FOUND, frame_size=(w, h))
    small = warp_card(array, quad, GATE_SIZE)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    fill, sharp, shine = quad.width_fraction, sharpness(grey), glare(grey)
    if fill < limits.min_fill:
        guidance = Guidance.MOVE_CLOSER
    elif sharp < limits.min_sharpness:
        guidance = Guidance.HOLD_STILL
    elif shine > limits.max_glare:
        guidance = Guidance.TILT_FOR_GLARE
    else:
        guidance = Guidance.OK
    corners = tuple((round(float(x), 1), round(float(y), 1)) for x, y in quad.corners)
    return Quality(guidance, corners, round(fill, 3), round(sharp, 1), round(shine, 4), (w, h))
