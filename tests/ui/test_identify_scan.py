"""Scanning on the identify screen, end to end: the real runtime (config/default.toml with a keyboard-wedge
scanner or the OpenCV camera on files), the real KioskApp in the offscreen window, the real FHIR sandbox.

- Keyboard wedge: a scanner's burst typed through Kivy's key events while a name field has the focus lands in
  no field and identifies the patient; a person typing slowly still types. The wedge gate's clock is a test
  clock stepped per key (no wall-clock timing); Kivy's clock is advanced to fire the gate's poll.
- Camera: an OpenCV video/image file source; the identify screen starts the camera and shows its frames (a
  texture filled on the main thread, the guide frame at the decoder's region of interest); the barcode source
  decodes the same frames on its worker thread.

Screenshots land in /tmp/ui-identify for a human to look at.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from kiosk_env import runtime_for, walker_for

from devices.barcode.samples import aamva_payload
from devices.barcode.synthetic import render_card_frame, render_code_frame
from kiosk.ui import messages
from kiosk.ui.walker import Walker
from portal_client.sandbox.seed import DEMO_RETURNING

pytestmark = [pytest.mark.ui, pytest.mark.sandbox]

SHOTS = Path("/tmp/ui-identify")
ROI = [0.12, 0.1, 0.88, 0.9]  # the camera's guide frame (fractions of the frame)


class StepClock:
    """The wedge gate's clock: moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_until(w: Walker, condition: Any, timeout: float = 20.0, what: str = "") -> None:
    """Run frames until ``condition()`` (a real camera thread and decoder are involved: poll, never sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition} on {w.step}")
        w.ui.frames(1)


def returning_payload() -> str:
    p = DEMO_RETURNING
    return aamva_payload(given=p.given.upper(), family=p.family.upper(), dob=p.birth_date)


# -- keyboard wedge ----------------------------------------------------------------------------------------
@pytest.fixture
def wedge_kiosk(sandbox_seed: Any, tmp_path: Path, ui: Any) -> Iterator[Walker]:
    for runtime in runtime_for(sandbox_seed, tmp_path, devices={"barcode": {"backend": "wedge"}}):
        yield from walker_for(runtime, ui)


def test_wedge_scan_never_types_into_the_focused_field_and_identifies(wedge_kiosk: Walker) -> None:
    w = wedge_kiosk
    app, ui = w.app, w.ui
    gate = app.wedge_gate
    assert gate is not None
    clock = StepClock()
    gate.clock = clock
    w.start()
    screen = w.expect("identify")
    assert screen.has_scanner and not screen.has_camera
    w.tap(w.primary())  # "Type my name instead": the first-name field has the focus
    field = screen.ids.given
    assert screen.stage == "name" and field.focus

    # A person types slowly: each key is held back for a moment (≤ 80 ms), then typed, in order.
    for ch in "Ann":
        clock.advance(0.25)
        ui.type_text(ch)
    clock.advance(0.25)
    ui.advance_clock(0.2)  # the gate's poll fires: the last key is handed back too
    assert field.text == "Ann"
    ui.press_key("backspace")  # editing keys act at once
    assert field.text == "An"
    clock.advance(0.3)
    ui.type_text("a")
    clock.advance(0.01)
    ui.press_key("backspace")  # a quick correction: the held "a" is typed first, then erased
    assert field.text == "An"
    clock.advance(0.3)
    ui.press_key("enter")  # Enter is held back too (a scanner may send it), then acts: on to the last name
    assert field.focus
    clock.advance(0.3)
    ui.advance_clock(0.2)
    assert screen.ids.family.focus and not field.focus
    w.tap(field.input)  # back to the first name

    # The scanner's burst: ~300 keys 4 ms apart (Shift for capitals, Enter for LF/CR, Ctrl+^ for RS).
    changes: list[str] = []
    field.input.bind(text=lambda _input, value: changes.append(value))
    swallowed = gate.swallowed
    payload = returning_payload()
    ui.type_as_scanner(payload, tick=lambda: clock.advance(0.004))
    ui.frames(2)
    assert changes == [] and field.text == "An" and w.step == "identify"  # still scanning: nothing typed
    assert gate.swallowed - swallowed >= len(payload)
    clock.advance(0.5)
    ui.advance_clock(0.2)  # the pause ends the scan
    w.settle()
    w.expect("confirm_appointment")
    assert changes == []  # not one key of the scan reached the field
    assert app.runtime.flow.session.patient.id == DEMO_RETURNING.patient_id


def test_wedge_scan_of_a_code_that_is_not_ours_gets_a_kind_message(wedge_kiosk: Walker) -> None:
    w = wedge_kiosk
    clock = StepClock()
    w.app.wedge_gate.clock = clock
    w.start()
    screen = w.expect("identify")
    assert screen.stage == "scan"
    w.ui.type_as_scanner("https://example.org/coupon/2025?id=123\n", tick=lambda: clock.advance(0.004))
    clock.advance(0.5)
    w.ui.advance_clock(0.2)
    w.settle()
    screen = w.expect("identify")
    assert screen.errors == {"base": "barcode_not_recognized"}
    assert screen.base_error == messages.error_text("barcode_not_recognized")
    assert "Type my name instead" in screen.base_error and screen.stage == "scan"
    assert screen.data["attempts_left"] == 3  # a wrong code uses no attempt
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.ui.screenshot(SHOTS / "identify-scanner-not-our-code.png")
    w.tap(screen.ids.target)  # "Scan your reminder"
    assert screen.scan_target == "reminder" and screen.ids.layout.title == "Scan your reminder"
    w.ui.screenshot(SHOTS / "identify-scanner-reminder.png")


# -- camera ------------------------------------------------------------------------------------------------
@pytest.fixture
def camera_kiosk(sandbox_seed: Any, tmp_path: Path, ui: Any) -> Iterator[Callable[[Path], Walker]]:
    """``camera_kiosk(file, with_wedge=False)``: the kiosk with the OpenCV camera playing ``file`` and a camera
    barcode source (with a keyboard-wedge scanner too: backend "multi")."""
    opened: list[Iterator[Any]] = []

    def make(source: Path, with_wedge: bool = False) -> Walker:
        camera_source = {"backend": "camera", "roi": ROI}
        barcode = (
            {"backend": "multi", "sources": [{"backend": "wedge"}, camera_source]} if with_wedge else camera_source
        )
        devices = {"camera": {"backend": "opencv", "source": str(source), "fps": 10}, "barcode": barcode}
        runtimes = runtime_for(sandbox_seed, tmp_path, devices=devices)
        runtime = next(runtimes)
        walkers = walker_for(runtime, ui)
        opened.extend([runtimes, walkers])
        return next(walkers)

    yield make
    for generator in reversed(opened):
        generator.close()  # app shut down, then the runtime stopped


def write_video(path: Path, frames: list[Any], fps: float = 10.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def find_label(root: Any, text: str) -> list[Any]:
    return [w for w in root.walk(restrict=True) if getattr(w, "text", None) == text]


def shown_like(shot: Path, preview: Any, frame: Any) -> float:
    """Mean difference (grey levels) between the screenshot inside the guide frame and the same part of
    ``frame``: the camera's picture is on screen upright, unmirrored, in its own colours."""
    screen = cv2.imread(str(shot))
    window_h = screen.shape[0]
    gx, gy, gw, gh = (int(v) for v in preview.to_window(*preview.guide_rect[:2]) + tuple(preview.guide_rect[2:]))
    ix, iy, iw, ih = preview.image_rect
    inset = 12  # the guide frame's line
    shown = screen[window_h - (gy + gh) + inset : window_h - gy - inset, gx + inset : gx + gw - inset]
    scaled = cv2.resize(frame, (round(iw), round(ih)), interpolation=cv2.INTER_AREA)
    ox, oy = preview.to_window(ix, iy)
    top = round(ih - (gy - oy + gh)) + inset
    left = round(gx - ox) + inset
    expected = scaled[top : top + shown.shape[0], left : left + shown.shape[1]]
    # compared at a quarter of the size: sub-pixel placement blurs fine barcode modules differently
    small = (max(1, shown.shape[1] // 4), max(1, shown.shape[0] // 4))
    shown, expected = (cv2.resize(i, small, interpolation=cv2.INTER_AREA).astype(int) for i in (shown, expected))
    return float(np.abs(shown - expected).mean())


def test_camera_scan_of_an_id_card_identifies(camera_kiosk: Any, tmp_path: Path) -> None:
    payload = returning_payload()
    empty = render_card_frame(payload, seed=1, level=1).image.copy()
    empty[:] = 90  # a frame without the card, then the card held up
    cards = [render_card_frame(payload, seed=s, level=1).image for s in (21, 22, 23)]
    w = camera_kiosk(write_video(tmp_path / "card.avi", [empty, *cards]))
    runtime = w.app.runtime
    assert runtime.devices.scan_camera is runtime.devices.camera
    welcome = w.expect("welcome")
    assert not welcome.has_scanner  # the camera only reads on the identify screen: no "scan to start"
    assert runtime.devices.camera.latest_frame() is None  # the camera is off while nobody scans
    w.start()
    screen = w.screen
    preview = screen.ids.preview
    if w.step == "identify":
        assert screen.has_camera and preview.parent is not None and list(preview.roi) == ROI
        assert preview.status in ("starting", "live")
    wait_until(w, lambda: w.step != "identify", what="the ID card to be read")
    w.settle()
    w.expect("confirm_appointment")
    assert runtime.flow.session.patient.id == DEMO_RETURNING.patient_id
    assert preview.status == "off"  # left the identify screen: the camera is stopped
    preview.last_switch.result(timeout=10)
    assert runtime.devices.camera.latest_frame() is None


@pytest.mark.parametrize(
    ("name", "error"),
    [("not-our-code", "barcode_not_recognized"), ("id-born-tomorrow", "id_unreadable")],
)
def test_camera_preview_and_a_kind_message(
    camera_kiosk: Any, sandbox_seed: Any, tmp_path: Path, name: str, error: str
) -> None:
    if name == "not-our-code":
        frame = render_code_frame("https://example.org/loyalty/88123", "QRCode", seed=4, level=1).image
    else:  # an ID card whose date of birth is after the practice's "today": unreadable, not a lookup
        tomorrow = sandbox_seed.now.date().toordinal() + 1
        payload = aamva_payload(given="ANA", family="GARCIA", dob=date.fromordinal(tomorrow))
        frame = render_card_frame(payload, seed=7, level=1).image
    still = tmp_path / f"{name}.png"
    cv2.imwrite(str(still), frame)
    both = name == "id-born-tomorrow"  # a 2D imager AND the camera
    w = camera_kiosk(still, with_wedge=both)
    w.start()
    screen = w.expect("identify")
    assert screen.has_camera and screen.has_scanner == both
    assert (w.app.wedge_gate is not None) == both
    assert bool(find_label(screen, "You can also hold it under the scanner.")) == both
    preview = screen.ids.preview
    wait_until(w, lambda: bool(screen.errors), what="the code to be read")
    w.settle()
    assert w.step == "identify" and screen.errors == {"base": error}
    assert screen.base_error == messages.error_text(error) and screen.stage == "scan"
    assert screen.data["attempts_left"] == 3
    wait_until(w, lambda: preview.status == "live" and preview.frames_shown > 1, what="the preview")
    width, height = preview.texture.size  # scaled to the widget (a 1080p frame is not blitted whole)
    assert width == int(preview.width) and abs(width / height - 16 / 9) < 0.01
    gx, gy, gw, gh = preview.guide_rect  # the guide frame sits at the decoder's region of interest
    ix, iy, iw, ih = preview.image_rect
    assert abs(gx - (ix + ROI[0] * iw)) < 1 and abs(gw - (ROI[2] - ROI[0]) * iw) < 1
    assert abs(gy - (iy + (1 - ROI[3]) * ih)) < 1 and abs(gh - (ROI[3] - ROI[1]) * ih) < 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = w.ui.screenshot(SHOTS / f"identify-camera-{name}.png")
    assert shown_like(shot, preview, frame) < 12  # the camera's picture, upright, in its colours
    body = screen.ids.layout.ids
    assert body.body.minimum_height <= body.scroller.height  # preview, message and words fit: no scrolling
    w.tap(w.primary())  # "Type my name instead": the camera stops
    assert screen.stage == "name" and preview.status == "off"


def test_without_anything_to_scan_with_the_patient_types_their_name(sandbox_seed: Any, tmp_path: Path, ui: Any) -> None:
    for runtime in runtime_for(sandbox_seed, tmp_path, devices={"barcode": {"enabled": False}}):
        for w in walker_for(runtime, ui):
            assert not w.expect("welcome").has_scanner
            w.start()
            screen = w.expect("identify")
            assert screen.stage == "name" and screen.ids.given.focus  # straight to typing
            w.tap(w.back_button())  # no scan stage to go back to: the welcome screen
            w.settle()
            w.expect("welcome")
