"""Several barcode sources as one device (a 2D imager AND the camera), and the runtime's camera wiring."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import pytest

from devices import registry
from devices.barcode.base import Barcode
from devices.barcode.camera_source import CameraBarcodeSource
from devices.barcode.multi import MultiBarcodeSource, parts
from devices.barcode.simulated import SimulatedBarcodeSource
from devices.barcode.synthetic import render_code_frame
from devices.barcode.wedge import WedgeBarcodeSource
from devices.camera.simulated import SimulatedCamera
from devices.errors import DeviceOperationError, DeviceSetupError
from devices.health import HealthStatus
from kiosk.runtime.build import build_devices
from kiosk.settings import DEFAULT_CONFIG, load_settings


class Collect:
    def __init__(self) -> None:
        self.got: list[Barcode] = []
        self.lock = threading.Lock()

    def __call__(self, barcode: Barcode) -> None:
        with self.lock:
            self.got.append(barcode)


def test_every_part_delivers_to_the_one_callback() -> None:
    multi = registry.create(
        "barcode", "multi", {"sources": [{"backend": "wedge", "max_gap": 0.05}, {"backend": "simulated"}]}
    )
    assert isinstance(multi, MultiBarcodeSource)
    wedge, simulated = multi.sources
    assert isinstance(wedge, WedgeBarcodeSource) and isinstance(simulated, SimulatedBarcodeSource)
    assert wedge.detector.max_gap == 0.05  # each part's options reach it
    got = Collect()
    multi.start(got)
    try:
        simulated.inject("CKI1.from-the-imager", format="QRCode")
        assert simulated.wait_idle(5.0)
        for i, ch in enumerate("PAT-0001234"):
            wedge.feed(ch, 10.0 + i * 0.004)
        wedge.poll(11.0)
        assert sorted((b.source, b.text) for b in got.got) == [
            ("simulated", "CKI1.from-the-imager"),
            ("wedge", "PAT-0001234"),
        ]
        assert multi.health().status is HealthStatus.OK
        simulated.unplug()
        health = multi.health()
        assert health.status is HealthStatus.FAULT and health.detail == "simulated: unplugged"
        with pytest.raises(DeviceOperationError):
            multi.start(got)  # already started
    finally:
        multi.stop()
    assert wedge.feed("x", 20.0).release == "x"  # stopped: a wedge hands every key back


def test_a_part_that_cannot_start_stops_the_others() -> None:
    wedge = WedgeBarcodeSource()
    no_camera = CameraBarcodeSource()  # nothing attached: start() refuses
    multi = MultiBarcodeSource([wedge, no_camera])
    with pytest.raises(DeviceOperationError):
        multi.start(Collect())
    assert wedge.feed("x", 1.0).release == "x"  # the wedge was stopped again
    multi.stop()  # harmless


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "sources"),
        ({"sources": []}, "sources"),
        ({"sources": "wedge"}, "sources"),
        ({"sources": [{"max_gap": 0.1}]}, "sources"),
        ({"sources": [{"backend": "multi", "sources": []}]}, "cannot hold another"),
        ({"sources": [{"backend": "laser"}]}, "unknown barcode backend 'laser'"),
        ({"sources": [{"backend": "wedge", "max_gap": "fast"}]}, "max_gap"),
        ({"sources": [{"backend": "wedge"}], "extra": 1}, "extra"),
    ],
)
def test_bad_options_are_refused_loudly(options: dict[str, Any], expected: str) -> None:
    with pytest.raises(DeviceSetupError, match=expected):
        registry.create("barcode", "multi", options)


def test_config_check_checks_each_part() -> None:
    registry.check_options("barcode", "multi", {"sources": [{"backend": "wedge"}, {"backend": "camera"}]})
    with pytest.raises(DeviceSetupError, match="laser"):
        registry.check_options("barcode", "multi", {"sources": [{"backend": "laser"}]})


def test_parts() -> None:
    wedge, simulated = WedgeBarcodeSource(), SimulatedBarcodeSource()
    assert parts(None) == [] and parts(wedge) == [wedge]
    assert parts(MultiBarcodeSource([wedge, simulated])) == [wedge, simulated]


# -- the runtime: the camera barcode source decodes the kiosk's camera -------------------------------------
def settings_with(devices: dict[str, Any]) -> Any:
    return load_settings(DEFAULT_CONFIG).with_overrides(devices=devices)


def test_camera_barcode_source_is_attached_to_the_kiosk_camera(tmp_path: Path) -> None:
    frame = render_code_frame("https://example.org/not-a-reminder", "QRCode", seed=3, level=0)
    image = tmp_path / "qr.png"
    cv2.imwrite(str(image), frame.image)
    settings = settings_with(
        {
            "camera": {"backend": "simulated", "images": [str(image)], "fps": 30},
            "barcode": {"backend": "multi", "sources": [{"backend": "wedge"}, {"backend": "camera"}]},
        }
    )
    devices = build_devices(settings)
    try:
        assert devices.scan_camera is devices.camera and isinstance(devices.camera, SimulatedCamera)
        camera_part = parts(devices.barcode)[1]
        got = Collect()
        devices.barcode.start(got)
        devices.camera.start()  # the identify screen's job: decoding runs while the camera does
        assert camera_part.wait_decoded(0, timeout=20.0)
        assert [(b.format, b.text) for b in got.got] == [("QRCode", "https://example.org/not-a-reminder")]
    finally:
        devices.stop()


def test_no_scan_camera_without_a_camera_barcode_source() -> None:
    devices = build_devices(settings_with({"barcode": {"backend": "wedge"}}))
    try:
        assert devices.scan_camera is None and devices.camera is not None  # a camera for other uses
    finally:
        devices.stop()


def test_camera_barcode_source_without_any_camera_fails_at_start_up() -> None:
    settings = settings_with({"camera": {"enabled": False}, "barcode": {"backend": "camera"}})
    with pytest.raises(DeviceSetupError, match=r"enable \[devices.camera\]"):
        build_devices(settings)
