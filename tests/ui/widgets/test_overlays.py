"""BusyOverlay and IdleWarning in a real window; time is driven from outside (no wall clock)."""

from __future__ import annotations

from pathlib import Path

from kiosk.ui.testing import UIHarness
from kiosk.ui.widgets.basic import BodyLabel, KioskScreenLayout
from kiosk.ui.widgets.overlays import BusyOverlay, IdleWarning


def _screen(ui: UIHarness) -> KioskScreenLayout:
    layout = KioskScreenLayout(clinic_name="Riverside Family Clinic", title="Your appointment")
    layout.add_widget(BodyLabel(text="Dr. Alvarez at 9:30 AM"))
    return ui.mount(layout)  # type: ignore[return-value]


def test_busy_overlay_spins_while_shown(ui: UIHarness, shots: Path) -> None:
    _screen(ui)
    busy = BusyOverlay()
    busy.show()
    ui.frames()
    assert busy.showing and busy.parent is not None
    assert busy.ids.msg.text == "One moment…"
    before = busy.angle
    ui.advance_clock(0.3)
    assert busy.angle != before
    ui.screenshot(shots / "busy_overlay.png")
    busy.hide()
    ui.frames()
    assert not busy.showing and busy.parent is None
    stopped = busy.angle
    ui.advance_clock(0.3)
    assert busy.angle == stopped


def test_busy_overlay_blocks_taps_on_the_screen(ui: UIHarness) -> None:
    layout = _screen(ui)
    pressed: list[int] = []
    layout.bind(on_primary=lambda *_: pressed.append(1))
    busy = BusyOverlay()
    busy.show("Checking you in…")
    ui.frames()
    ui.tap(layout.ids.primary)
    assert pressed == []
    busy.hide()
    ui.frames()
    ui.tap(layout.ids.primary)
    assert pressed == [1]


def test_idle_warning_counts_down_and_times_out_once(ui: UIHarness, shots: Path) -> None:
    _screen(ui)
    warning = IdleWarning()
    events: list[str] = []
    warning.bind(on_timeout=lambda *_: events.append("timeout"), on_more_time=lambda *_: events.append("more"))
    warning.show(remaining=30)
    ui.frames()
    assert warning.ids.count.text == "30"
    warning.remaining = 12
    ui.frames()
    assert warning.ids.count.text == "12"
    ui.screenshot(shots / "idle_warning.png")
    assert warning.ids.more.height >= 64 and warning.ids.more.width >= 64
    warning.remaining = 0
    warning.remaining = -1
    ui.frames()
    assert events == ["timeout"]
    assert not warning.showing


def test_idle_warning_more_time_button(ui: UIHarness) -> None:
    _screen(ui)
    warning = IdleWarning()
    events: list[str] = []
    warning.bind(on_timeout=lambda *_: events.append("timeout"), on_more_time=lambda *_: events.append("more"))
    warning.show(remaining=10)
    ui.frames()
    ui.tap(warning.ids.more)
    assert events == ["more"] and not warning.showing
    warning.remaining = 0  # closed: no timeout any more
    assert events == ["more"]


def test_idle_warning_any_touch_means_i_am_here(ui: UIHarness) -> None:
    _screen(ui)
    warning = IdleWarning()
    events: list[str] = []
    warning.bind(on_more_time=lambda *_: events.append("more"))
    warning.show(remaining=10)
    ui.frames()
    ui.tap((20, 20))  # the dimmed area, far from the dialog
    assert events == ["more"]
    warning.show(remaining=10)
    ui.frames()
    ui.tap(warning.ids.count)  # inside the dialog, not on the button
    assert events == ["more", "more"]


def test_busy_overlay_can_offer_help(ui: UIHarness) -> None:
    _screen(ui)
    busy = BusyOverlay(help_enabled=True)
    helps: list[int] = []
    busy.bind(on_help=lambda *_: helps.append(1))
    busy.show()
    ui.frames()
    assert busy.ids.help.height >= 64
    ui.tap(busy.ids.help)
    assert helps == [1]
    busy.hide()
