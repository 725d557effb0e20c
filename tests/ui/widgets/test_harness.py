"""The shared UI test harness (kiosk/ui/testing.py) does what its docstring promises."""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from PIL import Image

from kiosk.ui.testing import WINDOW_SIZE, UIHarness
from kiosk.ui.widgets.basic import KioskScreenLayout, PrimaryButton, SecondaryButton


def test_find_by_class_text_and_id(ui: UIHarness) -> None:
    layout = ui.mount(KioskScreenLayout(primary_text="Check in"))
    assert ui.find(layout, cls=PrimaryButton, text="Check in") == [layout.ids.primary.__self__]
    assert ui.find(layout, id="back") == [layout.ids.back.__self__]
    assert ui.find(layout, cls=SecondaryButton, text="nope") == []


def test_screenshot_is_the_whole_window(ui: UIHarness, tmp_path: Path) -> None:
    ui.mount(KioskScreenLayout(title="Hello"))
    path = ui.screenshot(tmp_path / "sub" / "shot.png")
    assert path == tmp_path / "sub" / "shot.png" and path.exists()
    with Image.open(path) as img:
        assert img.size == WINDOW_SIZE
        top_left = img.convert("RGB").getpixel((5, 5))
    assert top_left == (0x0B, 0x3D, 0x91)  # the header colour, exactly


def test_advance_clock_fires_scheduled_events_in_order(ui: UIHarness) -> None:
    fired: list[str] = []
    Clock.schedule_once(lambda _dt: fired.append("10s"), 10)
    Clock.schedule_once(lambda _dt: fired.append("30s"), 30)
    ui.advance_clock(11)
    assert fired == ["10s"]
    ui.advance_clock(20)
    assert fired == ["10s", "30s"]


def test_long_press_holds_the_button_down(ui: UIHarness) -> None:
    layout = ui.mount(KioskScreenLayout())
    states: list[str] = []
    layout.ids.primary.bind(state=lambda _w, s: states.append(s))
    ui.long_press(layout.ids.primary, seconds=2.0)
    assert states[:1] == ["down"] and states[-1] == "normal"
