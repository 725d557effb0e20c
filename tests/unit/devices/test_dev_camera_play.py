"""SimulatedCamera.play(): other images from the next frame on (a card turned over in front of the camera)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.simulated import SimulatedCamera


def _solid(bgr: tuple[int, int, int]) -> np.ndarray:
    image = np.zeros((48, 64, 3), np.uint8)
    image[:] = bgr
    return image


def _colour(image: np.ndarray) -> tuple[int, int, int]:
    b, g, r = (int(c) for c in image[0, 0])
    return (b, g, r)


def _wait_colour(cam: SimulatedCamera, bgr: tuple[int, int, int]) -> int:
    index = -1
    for _ in range(200):
        frame = cam.wait_for_frame(index, timeout=5.0)
        assert frame is not None
        index = frame.index
        if _colour(frame.image) == bgr:
            return index
    raise AssertionError(f"never saw {bgr}")


def test_play_switches_the_replayed_images_then_holds_the_last_one(tmp_path: Path) -> None:
    red = tmp_path / "red.png"
    assert cv2.imwrite(str(red), _solid((0, 0, 255)))
    cam = SimulatedCamera([red], fps=200)
    cam.start()
    try:
        _wait_colour(cam, (0, 0, 255))
        cam.play([_solid((0, 255, 0)), red, _solid((255, 0, 0))])  # arrays and paths; no loop
        _wait_colour(cam, (0, 255, 0))
        last = _wait_colour(cam, (255, 0, 0))
        for _ in range(3):  # then the last image again and again, as new frames (a card held still)
            frame = cam.wait_for_frame(last, timeout=5.0)
            assert frame is not None and _colour(frame.image) == (255, 0, 0) and not frame.image.flags.writeable
            last = frame.index
        cam.play([red], loop=True)
        first = _wait_colour(cam, (0, 0, 255))
        assert cam.wait_for_frame(first, timeout=5.0) is not None  # looping: new frames keep coming
    finally:
        cam.stop()


def test_play_before_start_is_what_start_plays() -> None:
    cam = SimulatedCamera(fps=200)  # a grey test pattern otherwise
    cam.play([_solid((0, 255, 0))])
    cam.start()
    try:
        _wait_colour(cam, (0, 255, 0))
    finally:
        cam.stop()
    with pytest.raises(ValueError):
        cam.play([])
