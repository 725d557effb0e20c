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


def _wait_colour(cam: SimulatedCamera, bgr: tuple[int, int, int]) -> int:
    index = -1
    for _ in range(200):
        frame = cam.wait_for_frame(index, timeout=5.0)
        assert frame is not None
        index = frame.index
        if tuple(int(c) for c in frame.image[0, 0]) == bgr:
            return index
    raise AssertionError(f"never saw {bgr}")


def test_play_switches_the_replayed_images_and_keeps_the_last_one(tmp_path: Path) -> None:
    red = tmp_path / "red.png"
    assert cv2.imwrite(str(red), _solid((0, 0, 255)))
    cam = SimulatedCamera([red], fps=200)
    cam.start()
    try:
        _wait_colour(cam, (0, 0, 255))
        cam.play([_solid((0, 255, 0)), red, _solid((255, 0, 0))])  # arrays and paths; no loop
        _wait_colour(cam, (0, 255, 0))
        last = _wait_colour(cam, (255, 0, 0))
        assert cam.wait_for_frame(last, timeout=0.2) is None  # the last image stays the latest: no new frame
        latest = cam.latest_frame()
        assert latest is not None and latest.index == last and not latest.image.flags.writeable
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
