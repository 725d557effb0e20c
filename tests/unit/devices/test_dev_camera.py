"""The simulated camera plays real image files on its own thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices import registry
from devices.camera.simulated import SimulatedCamera
from devices.errors import DeviceSetupError
from devices.health import HealthStatus

COLOURS = {"a-red.png": (0, 0, 255), "b-green.png": (0, 255, 0), "c-blue.jpg": (255, 0, 0)}


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for name, bgr in COLOURS.items():
        image = np.zeros((48, 64, 3), np.uint8)
        image[:] = bgr
        assert cv2.imwrite(str(folder / name), image)
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def camera(image_dir: Path) -> Iterator[SimulatedCamera]:
    cam = registry.create("camera", "simulated", {"images": str(image_dir), "fps": 500})
    assert isinstance(cam, SimulatedCamera)
    yield cam
    cam.stop()


def _colour(frame_image: np.ndarray) -> tuple[int, int, int]:
    b, g, r = (int(v) for v in frame_image[24, 32])
    return (b, g, r)


def _nearest(bgr: tuple[int, int, int]) -> str:
    return min(COLOURS, key=lambda n: sum(abs(a - b) for a, b in zip(COLOURS[n], bgr, strict=True)))


def test_no_frame_before_start(camera: SimulatedCamera) -> None:
    assert camera.latest_frame() is None
    assert camera.health().status is HealthStatus.OK


def test_frames_come_from_the_directory_in_order_and_loop(camera: SimulatedCamera) -> None:
    camera.start()
    seen: list[str] = []
    index = -1
    while len(seen) < 300 and (set(seen) != set(COLOURS) or index < 6):
        frame = camera.wait_for_frame(after_index=index)
        assert frame is not None, "no new frame within the deadline"
        assert frame.index > index
        index = frame.index
        assert frame.image.shape == (48, 64, 3) and frame.image.dtype == np.uint8
        seen.append(_nearest(_colour(frame.image)))
    assert set(seen) == set(COLOURS)  # every image of the folder (not notes.txt)
    assert index >= 6  # more frames than images: it loops


def test_frames_are_read_only(camera: SimulatedCamera) -> None:
    camera.start()
    frame = camera.wait_for_frame()
    assert frame is not None
    with pytest.raises(ValueError):
        frame.image[0, 0] = (1, 2, 3)


def test_unplug_and_replug_change_health_and_frames(camera: SimulatedCamera) -> None:
    camera.start()
    first = camera.wait_for_frame()
    assert first is not None
    camera.unplug()
    health = camera.health()
    assert health.status is HealthStatus.FAULT and health.detail == "unplugged"
    assert camera.latest_frame() is None
    camera.replug()
    assert camera.health().status is HealthStatus.OK
    again = camera.wait_for_frame(after_index=first.index)
    assert again is not None and again.index > first.index


def test_a_list_of_files_without_loop_stops_on_the_last_image(image_dir: Path) -> None:
    paths = [str(image_dir / "c-blue.jpg"), str(image_dir / "a-red.png")]
    cam = SimulatedCamera.from_options({"images": paths, "fps": 500, "loop": False})
    cam.start()
    try:
        last = cam.wait_for_frame(after_index=0)
        assert last is not None and last.index == 1
        assert _nearest(_colour(last.image)) == "a-red.png"
        cam.stop()
        latest = cam.latest_frame()
        assert latest is not None and latest.index == 1
    finally:
        cam.stop()


def test_without_images_it_shows_a_test_pattern() -> None:
    cam = SimulatedCamera.from_options({"width": 320, "height": 240, "fps": 500})
    cam.start()
    try:
        frame = cam.wait_for_frame()
        assert frame is not None
        assert frame.image.shape == (240, 320, 3)
        assert frame.image.std() > 10  # not a flat colour
    finally:
        cam.stop()


def test_an_unreadable_image_fails_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    cam = SimulatedCamera.from_options({"images": [str(broken)]})
    with pytest.raises(DeviceSetupError, match="cannot read image file"):
        cam.start()


def test_a_missing_file_or_empty_folder_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(DeviceSetupError, match="an existing image file"):
        SimulatedCamera.from_options({"images": [str(tmp_path / "missing.png")]})
    with pytest.raises(DeviceSetupError, match="a directory holding"):
        SimulatedCamera.from_options({"images": str(tmp_path)})
