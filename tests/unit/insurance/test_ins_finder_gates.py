"""Card finder, warp and quality gates on generated photos (tests/fixtures/insurance)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from ins_photos import photo

from devices.insurance.base import Guidance
from devices.insurance.finder import WARP_SIZE, find_card, order_corners, warp_card
from devices.insurance.gates import GateLimits, assess


def corner_error(found: np.ndarray, true: list[list[float]]) -> float:
    return float(np.abs(found - np.array(true, np.float32)).max())


@pytest.mark.parametrize(("number", "level"), [(1, "mild"), (2, "medium"), (5, "hard"), (13, "mild"), (19, "medium")])
def test_finds_the_card_corners(manifest: dict, number: int, level: str) -> None:
    image, true = photo(manifest, number, level)
    quad = find_card(image)
    assert quad is not None
    assert corner_error(quad.corners, true) < 12  # pixels in a 1280×720 frame
    flat = warp_card(image, quad)
    assert flat.shape == (WARP_SIZE[1], WARP_SIZE[0], 3)


def test_a_bare_desk_has_no_card() -> None:
    rng = np.random.default_rng(3)
    desk = np.clip(rng.normal(95, 6, (720, 1280, 3)), 0, 255).astype(np.uint8)
    assert find_card(desk) is None
    assert assess(desk).guidance is Guidance.CARD_NOT_FOUND


def test_corner_order_puts_the_long_side_on_top() -> None:
    portrait = np.array([[100, 100], [154, 100], [154, 185], [100, 185]], np.float32)  # card held upright
    ordered = order_corners(portrait)
    assert np.linalg.norm(ordered[1] - ordered[0]) > np.linalg.norm(ordered[2] - ordered[1])


def test_gates_ok_on_a_steady_card(manifest: dict) -> None:
    image, _ = photo(manifest, 1, "mild")
    quality = assess(image)
    assert quality.guidance is Guidance.OK and quality.found
    assert quality.fill > 0.5 and quality.sharpness > 150 and quality.glare < 0.01


def test_gates_guidance_for_far_blurred_and_glared_cards(manifest: dict) -> None:
    image, _ = photo(manifest, 1, "mild")
    far = np.full_like(image, 60)
    small = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    far[180:180 + small.shape[0], 320:320 + small.shape[1]] = small
    assert assess(far).guidance is Guidance.MOVE_CLOSER
    blurred = cv2.GaussianBlur(image, (0, 0), 4)
    assert assess(blurred).guidance is Guidance.HOLD_STILL
    quad = find_card(image)
    assert quad is not None
    glared = image.astype(np.float32)
    centre = quad.corners.mean(axis=0)
    yy, xx = np.mgrid[0:720, 0:1280].astype(np.float32)
    glared += (220 * np.exp(-(((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * 45.0**2))))[:, :, None]
    assert assess(np.clip(glared, 0, 255).astype(np.uint8), quad=quad).guidance is Guidance.TILT_FOR_GLARE
    with pytest.raises(ValueError):
        GateLimits(min_fill=2.0)
