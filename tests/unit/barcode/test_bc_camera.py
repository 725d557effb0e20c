"""The OpenCV camera on real files (video, image), unplugged and plugged back; the decoding worker on top of it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from devices import registry
from devices.barcode.base import Barcode
from devices.barcode.camera_source import CameraBarcodeSource
from devices.barcode.samples import aamva_payload
from devices.barcode.synthetic import render_card_frame, render_code_frame
from devices.camera.opencv import READ_FAILURES_BEFORE_RECONNECT, OpenCVCamera
from devices.camera.simulated import SimulatedCamera
from devices.errors import DeviceOperationError, DeviceSetupError
from devices.health import HealthStatus
from kiosk.flow import aamva

COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 255)]


def write_video(path: Path, frames: list[Any], fps: float = 30.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def colour_frames() -> list[Any]:
    frames = []
    for bgr in COLOURS:
        image = np.zeros((120, 160, 3), np.uint8)
        image[:] = bgr
        frames.append(image)
    return frames


def dominant(frame_image: Any) -> int:
    """Index in COLOURS of the frame's colour (MJPEG is lossy: nearest match)."""
    pixel = frame_image[60, 80].astype(int)
    return int(np.argmin([np.abs(pixel - np.array(c)).sum() for c in COLOURS]))


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "colours.avi", colour_frames())


@pytest.fixture
def camera(video: Path) -> Iterator[OpenCVCamera]:
    cam = registry.create("camera", "opencv", {"source": str(video), "fps": 200, "reconnect_interval": 0.01})
    assert isinstance(cam, OpenCVCamera)
    yield cam
    cam.stop()


def test_a_video_file_plays_in_order_and_loops(camera: OpenCVCamera) -> None:
    assert camera.latest_frame() is None
    camera.start()
    seen: list[int] = []
    indices: list[int] = []
    after = -1
    while len(seen) < 12:
        frame = camera.wait_for_frame(after)
        assert frame is not None
        assert frame.image.shape == (120, 160, 3) and not frame.image.flags.writeable
        seen.append(dominant(frame.image))
        indices.append(frame.index)
        after = frame.index
    assert indices == sorted(set(indices))  # newest frames only, never one twice
    assert indices[-1] >= 11 > len(COLOURS)  # more frames than the file holds: it looped
    assert len(set(seen)) >= 3  # its frames, not one frozen picture
    assert camera.health().status is HealthStatus.OK


def test_the_camera_vanishes_and_comes_back(camera: OpenCVCamera, video: Path) -> None:
    camera.start()
    assert camera.wait_for_frame() is not None
    away = video.with_suffix(".away")
    video.rename(away)  # unplugged: the next reopen (end of the file) fails
    assert camera.wait_for_health(HealthStatus.FAULT)
    health = camera.health()
    assert (health.detail, health.last_error) == ("unplugged", "open_failed")
    assert camera.latest_frame() is None and camera.wait_for_frame(timeout=0.05) is None
    away.rename(video)  # plugged back in
    assert camera.wait_for_health(HealthStatus.OK)
    frame = camera.wait_for_frame()
    assert frame is not None and camera.reconnects == 1


def test_an_image_file_is_a_camera_that_always_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), colour_frames()[1])
    cam = OpenCVCamera(path, fps=100, reconnect_interval=0.01)
    cam.start()
    try:
        first = cam.wait_for_frame()
        assert first is not None and dominant(first.image) == 1
        second = cam.wait_for_frame(first.index)
        assert second is not None and second.index > first.index
    finally:
        cam.stop()


class FakeDevice:
    """A capture device (no webcam on this machine): delivers frames, then fails reads (USB unplugged)."""

    def __init__(self, good_reads: int) -> None:
        self.good_reads = good_reads
        self.released = False

    def isOpened(self) -> bool:  # OpenCV spells it this way
        return True

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 0.0

    def read(self) -> tuple[bool, Any]:
        if self.good_reads <= 0:
            return False, None
        self.good_reads -= 1
        return True, np.full((48, 64, 3), 128, np.uint8)

    def release(self) -> None:
        self.released = True


def test_a_device_that_stops_delivering_is_released_and_reopened() -> None:
    opened: list[FakeDevice] = []
    reopened = threading.Event()

    def factory(source: Any) -> FakeDevice:
        device = FakeDevice(good_reads=3 if not opened else 10**9)
        opened.append(device)
        if len(opened) == 2:
            reopened.set()
        return device

    cam = OpenCVCamera(0, reconnect_interval=0.01, capture_factory=factory)
    cam.start()
    try:
        assert reopened.wait(10)
        assert opened[0].released
        assert cam.wait_for_health(HealthStatus.OK) and cam.wait_for_frame() is not None
        assert cam.reconnects == 1 and READ_FAILURES_BEFORE_RECONNECT > 1
    finally:
        cam.stop()


def test_a_missing_device_is_a_fault_not_a_crash() -> None:
    cam = OpenCVCamera("/dev/video-not-here", reconnect_interval=0.01)
    cam.start()
    try:
        assert cam.wait_for_health(HealthStatus.FAULT)
        assert cam.health().detail == "unplugged"
    finally:
        cam.stop()


def test_camera_options() -> None:
    with pytest.raises(DeviceSetupError, match="existing video or image file"):
        registry.create("camera", "opencv", {"source": "/nonexistent/clip.avi"})
    with pytest.raises(DeviceSetupError, match="device index"):
        registry.create("camera", "opencv", {"source": -1})
    cam = registry.create("camera", "opencv", {"source": "/dev/video0", "width": 1920, "height": 1080})
    assert isinstance(cam, OpenCVCamera)


# -- the decoding worker ---------------------------------------------------------------------------------
class Collector:
    def __init__(self) -> None:
        self.items: list[tuple[Barcode, str]] = []
        self.event = threading.Event()

    def __call__(self, barcode: Barcode) -> None:
        self.items.append((barcode, threading.current_thread().name))
        self.event.set()


def test_an_id_card_filmed_by_the_camera_is_one_scan(tmp_path: Path) -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28), middle="LUZ")
    empty = render_card_frame(payload, seed=1, level=1).image.copy()
    empty[:] = 90  # a frame without the card
    cards = [render_card_frame(payload, seed=s, level=2).image for s in (11, 12)]
    clip = write_video(tmp_path / "card.avi", [empty, *cards, empty], fps=30)
    source = registry.create(
        "barcode", "camera",
        {"camera": {"backend": "opencv", "source": str(clip), "fps": 60, "loop": False}, "repeat_after": 60},
    )  # fmt: skip
    assert isinstance(source, CameraBarcodeSource)
    got = Collector()
    source.start(got)
    try:
        assert got.event.wait(20)
        assert source.wait_decoded(3)  # every frame up to the last one has been looked at
        barcode, thread = got.items[0]
        assert (barcode.format, barcode.source, thread) == ("PDF417", "camera", "barcode-camera")
        assert barcode.text == payload and aamva.parse(barcode.text).middle == "LUZ"
        assert len(got.items) == 1  # the same card in two frames: one scan
        assert source.health().status is HealthStatus.OK
    finally:
        source.stop()


def test_the_kiosk_camera_is_shared_by_attaching_it(tmp_path: Path) -> None:
    token = "CKI1.eyJhIjoiYXBwdC0xIn0.c2lnbmF0dXJl"
    path = tmp_path / "qr.png"
    cv2.imwrite(str(path), render_code_frame(token, "QRCode", seed=5, level=1).image)
    camera = SimulatedCamera([path], fps=50)
    source = registry.create("barcode", "camera", {"formats": ["QRCode"], "roi": [0.1, 0.0, 0.9, 1.0]})
    assert isinstance(source, CameraBarcodeSource)
    with pytest.raises(DeviceOperationError, match="no camera"):
        source.start(Collector())
    source.attach_camera(camera)
    got = Collector()
    source.start(got)
    try:
        assert not got.event.wait(0.05)  # the camera is not running: nothing is decoded
        camera.start()  # the identify screen starts its preview
        assert got.event.wait(20)
        assert got.items[0][0] == Barcode(format="QRCode", text=token, source="camera")
    finally:
        source.stop()
        camera.stop()


def test_barcode_camera_options() -> None:
    with pytest.raises(DeviceSetupError, match="formats"):
        registry.create("barcode", "camera", {"formats": ["EAN13"]})
    with pytest.raises(DeviceSetupError, match="roi"):
        registry.create("barcode", "camera", {"roi": [0.5, 0.0, 0.2, 1.0]})
