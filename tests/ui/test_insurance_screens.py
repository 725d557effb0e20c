"""The insurance screen's camera stages on their own, in a real window: the simulated camera replaying a card
photo and the simulated card reader (real finder and gates, canned fields), a stand-in for the app that only
records the intents the screen sends. No back-end.

- choose → capture → the front read → "My card has nothing on the back" → confirm → the ``camera`` intent
  with the front picture; "Take new pictures", Back; a refused field comes back on its row.
- Every stage in English and Spanish, normal and large text: no text leaves its box, touch sizes, one
  primary action; at normal size the capture and confirm stages fit without scrolling.
- A screen that ran the camera is freed once let go (the capture worker and the camera hold nothing of it).

Screenshots land in /tmp/ui-insurance.
"""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from kivy.clock import Clock
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, ScreenManager

from devices.camera.simulated import SimulatedCamera
from devices.insurance.simulated import DEMO_CARD, SimulatedCardReader
from kiosk.ui.i18n_kv import set_language
from kiosk.ui.screens import SCREEN_CLASSES, load_all_kv
from kiosk.ui.testing import UIHarness
from kiosk.ui.theme import theme
from kiosk.ui.widgets.basic import KioskButton, PrimaryButton

pytestmark = pytest.mark.ui

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "insurance" / "photos"
FRONT = PHOTOS / "card-00-front-mild.jpg"
SHOTS = Path("/tmp/ui-insurance")
WALL = np.full((720, 1280, 3), 96, np.uint8)  # nothing in front of the camera
ON_FILE = {"payer_name": "Blue Harbor Health", "member_id_masked": "•••• 1935", "group_number": "GRP-20417"}


class FakeApp:
    """What the screen asks of the app: devices, the clock, and a controller that records intents."""

    def __init__(self, camera: Any, reader: Any) -> None:
        self.runtime = SimpleNamespace(devices=SimpleNamespace(camera=camera, insurance=reader))
        self.intents: list[dict[str, Any]] = []
        self.controller = SimpleNamespace(submit=self._submit)

    def _submit(self, intent: dict[str, Any], overlay: bool = True) -> bool:
        self.intents.append(dict(intent))
        return True

    @staticmethod
    def now() -> float:
        return float(Clock.time())

    def ask_help(self) -> None:
        pass


@pytest.fixture(scope="module", autouse=True)
def kv() -> None:
    load_all_kv()


@pytest.fixture
def screen_with_camera(ui: UIHarness) -> Iterator[Callable[..., Any]]:
    cameras: list[SimulatedCamera] = []
    screens: list[Any] = []

    def make(confidence: float = 0.95) -> Any:
        camera = SimulatedCamera([FRONT], fps=15)
        cameras.append(camera)
        reader = SimulatedCardReader(dict(DEMO_CARD), confidence=confidence)
        manager = ScreenManager(transition=NoTransition())
        screen = SCREEN_CLASSES["insurance"](clinic_name="Riverside Family Medicine", kiosk=FakeApp(camera, reader))
        screen.progress_count, screen.progress_index = 8, 3
        manager.add_widget(screen)
        ui.mount(manager)
        screens.append(screen)
        return screen

    yield make
    for screen in screens:
        screen.clear()
    for camera in cameras:
        camera.stop()


def wait_until(ui: UIHarness, condition: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        ui.frames(1)


def button(screen: Any, text: str) -> Any:
    found = [w for w in screen.walk(restrict=True) if isinstance(w, KioskButton) and w.text == text]
    assert found, f"no button {text!r}"
    return found[0]


def to_confirm(ui: UIHarness, screen: Any) -> None:
    """Photograph the front (auto-capture), then "My card has nothing on the back"."""
    ui.tap(screen.ids.layout.ids.primary)  # "Take a picture of my card" (nothing on file)
    capture = screen.ids.capture
    wait_until(ui, lambda: "front" in capture.sides, "the front to be read")
    assert capture.side == "back" and capture.turn_over
    ui.tap(button(screen, "My card has nothing on the back"))
    assert screen.stage == "confirm"


# -- the stages ----------------------------------------------------------------------------------------------
def test_front_only_confirmed_sends_the_camera_intent(ui: UIHarness, screen_with_camera: Any) -> None:
    screen = screen_with_camera(confidence=0.6)  # read, but not sure: every row asks to be checked
    screen.render({"on_file": None}, {})
    screen.on_enter_step()
    ui.frames(2)
    layout = screen.ids.layout
    assert screen.has_camera and layout.ids.primary.text == "Take a picture of my card"
    assert [b.text for b in reversed(screen.ids.alternatives.children)] == [
        "Type in my card instead", "I will pay for this visit myself", "I do not have my card with me"]
    to_confirm(ui, screen)
    capture, confirm = screen.ids.capture, screen.ids.confirm
    assert not capture.running and capture.ids.preview.status == "off"
    assert layout.title == "Please check your card details" and layout.ids.back.text == "Take new pictures"
    rows = confirm._rows
    assert rows["member_id"].value == "•••• 6789" and rows["payer_name"].value == DEMO_CARD["payer_name"]
    assert all(rows[n].check and rows[n].note == "Please check this." for n in ("payer_name", "group_number"))
    assert "rx_bin" not in rows  # Rx numbers are sent as read, shown only when refused

    ui.tap(layout.ids.primary)  # Yes, this is correct
    intent = screen.kiosk.intents[-1]
    assert intent["action"] == "camera" and intent["member_id"] == DEMO_CARD["member_id"]
    assert intent["rx_bin"] == DEMO_CARD["rx_bin"] and intent["plan_name"] == DEMO_CARD["plan_name"]
    assert [i["side"] for i in intent["images"]] == ["front"] and intent["images"][0]["data"][:2] == b"\xff\xd8"

    # The flow refuses the RxBIN: its row appears with the words; correcting it clears the error.
    screen.render({"on_file": None}, {"rx_bin": "invalid_rx_bin"})
    ui.frames(2)
    assert screen.stage == "confirm" and rows["rx_bin"].error.startswith("The RxBIN has 6 digits.")
    ui.tap(rows["rx_bin"].ids.change)
    assert screen.stage == "manual" and screen.correcting and layout.ids.primary.text == "Done"
    ui.tap(screen.ids.wizard.field.input)  # the error stays readable until the field is tapped
    pad = screen.keyboard.ids.rows.children[0]  # the number layout of the on-screen keyboard: a keypad
    ui.tap(pad.key_button("clear"))
    for digit in "610014":
        ui.tap(pad.key_button(digit))
    assert screen.ids.wizard.field.text == "610014"
    ui.tap(layout.ids.primary)  # Done
    assert screen.stage == "confirm" and confirm._rows["rx_bin"].parent is None  # no longer refused: hidden
    ui.tap(layout.ids.primary)
    assert screen.kiosk.intents[-1]["rx_bin"] == "610014"

    camera = screen.kiosk.runtime.devices.camera
    camera.play([WALL])  # the card put away
    ui.tap(layout.ids.back)  # "Take new pictures": the camera again, from the front
    assert screen.stage == "capture" and capture.side == "front" and capture.running and not capture.sides
    camera.play([FRONT])
    wait_until(ui, lambda: "front" in capture.sides, "the front again")
    camera.play([WALL])
    ui.tap(layout.ids.back)  # on the back: Back is the front again
    assert screen.stage == "capture" and capture.side == "front" and not capture.sides
    ui.tap(layout.ids.back)  # on the front: back to the choices, camera off
    assert screen.stage == "choose" and not capture.running


def test_self_pay_and_no_card_from_every_camera_stage(ui: UIHarness, screen_with_camera: Any) -> None:
    screen = screen_with_camera()
    screen.render({"on_file": ON_FILE}, {})
    ui.frames(2)
    assert [b.text for b in reversed(screen.ids.alternatives.children)] == [
        "Take a picture of my new card", "My insurance has changed",
        "I will pay for this visit myself", "I do not have my card with me"]
    ui.tap(button(screen, "Take a picture of my new card"))
    ui.tap(button(screen, "I will pay for this visit myself"))
    assert screen.kiosk.intents[-1] == {"action": "self_pay"}
    to_confirm_from_choose = screen.ids.capture
    wait_until(ui, lambda: "front" in to_confirm_from_choose.sides, "the front to be read")
    ui.tap(button(screen, "My card has nothing on the back"))
    ui.tap(button(screen, "I do not have my card with me"))
    assert screen.kiosk.intents[-1] == {"action": "no_card"}


# -- how every stage looks ------------------------------------------------------------------------------------
def _check_layout(ui: UIHarness, screen: Any, name: str) -> None:
    width = ui.window.width
    for w in screen.walk(restrict=True):
        if not isinstance(w, Label) or not w.text or getattr(w, "shorten", False) or w.opacity == 0:
            continue
        left, _ = w.to_window(w.x, w.y)
        right, _ = w.to_window(w.right, w.y)
        assert left >= -1 and right <= width + 1, f"{name}: {w.text[:30]!r} leaves the screen"
        assert w.texture_size[0] <= w.width + 2, f"{name}: {w.text[:30]!r} is wider than its box"
        if isinstance(w, KioskButton):
            assert w.height >= theme.touch_min and w.width >= theme.touch_min, f"{name}: {w.text}"
    primaries = [w for w in screen.walk(restrict=True) if isinstance(w, PrimaryButton) and not w.disabled]
    assert len(primaries) <= 1, f"{len(primaries)} primary actions on {name}"


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_camera_stages_render_in_every_language_and_size(
    ui: UIHarness, screen_with_camera: Any, lang: str, large: bool
) -> None:
    set_language(lang)
    theme.large_text = large
    suffix = f"{lang}{'-large' if large else ''}"
    screen = screen_with_camera()
    screen.render({"on_file": ON_FILE}, {})
    ui.frames(3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    _check_layout(ui, screen, "choose")
    ui.screenshot(SHOTS / f"screen-choose-{suffix}.png")

    screen.start_capture()
    capture = screen.ids.capture
    wait_until(ui, lambda: capture.ids.preview.status == "live" and capture.guidance, "the live picture")
    ui.frames(3)
    _check_layout(ui, screen, "capture")
    body = screen.ids.layout.ids
    if not large:
        assert body.body.minimum_height <= body.scroller.height + 1, "the capture stage scrolls"
    ui.screenshot(SHOTS / f"screen-capture-{suffix}.png")
    wait_until(ui, lambda: "front" in capture.sides, "the front to be read")
    capture.skip_back()
    ui.frames(3)
    assert screen.stage == "confirm"
    _check_layout(ui, screen, "confirm")
    if not large:
        assert body.body.minimum_height <= body.scroller.height + 1, "the confirm stage scrolls"
    ui.screenshot(SHOTS / f"screen-confirm-{suffix}.png")
    if lang == "es":
        assert screen.ids.layout.title == "Por favor, revise los datos de su tarjeta"
        assert screen.ids.confirm._rows["member_id"].note == "Toque para ver el número completo."


# -- nothing kept alive ---------------------------------------------------------------------------------------
def test_a_screen_that_ran_the_camera_is_freed(ui: UIHarness) -> None:
    camera = SimulatedCamera([FRONT], fps=15)
    manager = ScreenManager(transition=NoTransition())
    screen = SCREEN_CLASSES["insurance"](clinic_name="Riverside", kiosk=FakeApp(camera, SimulatedCardReader()))
    manager.add_widget(screen)
    ui.mount(manager)
    screen.render({"on_file": None}, {})
    screen.start_capture()
    capture = screen.ids.capture
    wait_until(ui, lambda c=capture: "front" in c.sides, "the front to be read")
    preview = capture.ids.preview
    screen.on_leave_step()  # the camera and the capture worker stop (off the UI thread)
    preview.last_switch.result(timeout=15)
    refs = [weakref.ref(w) for root in (screen, *screen._stages.values()) for w in root.walk(restrict=True)]
    del screen, capture, preview, manager
    ui.unmount()
    for _ in range(3):
        ui.advance_clock(1.0)
    gc.collect()
    alive = sorted({type(w).__name__ for w in (r() for r in refs) if w is not None})
    assert alive == [], f"still referenced after the insurance screen was let go: {alive}"
    camera.stop()
