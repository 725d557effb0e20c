"""KioskTextField + OnScreenKeyboard in a real window: on-screen taps and physical typing, incl. Ñ and á."""

from __future__ import annotations

from pathlib import Path

from kiosk.ui.testing import UIHarness
from kiosk.ui.widgets.basic import KioskScreenLayout
from kiosk.ui.widgets.keyboard import OnScreenKeyboard
from kiosk.ui.widgets.text_field import KioskTextField, focus_tracker


def _mount(ui: UIHarness, *fields: KioskTextField, digits: bool = False) -> OnScreenKeyboard:
    layout = KioskScreenLayout(title="What is your name?", clinic_name="Riverside Family Clinic")
    for f in fields:
        layout.add_widget(f)
    kb = OnScreenKeyboard(digits=digits)
    layout.dock(kb)
    ui.mount(layout)
    return kb


def tap_keys(ui: UIHarness, kb: OnScreenKeyboard, keys: list[str]) -> None:
    for k in keys:
        ui.tap(kb.key_button(k))


def test_on_screen_keyboard_types_spanish_name(ui: UIHarness, shots: Path) -> None:
    field = KioskTextField(label="First name", autocapitalize="words")
    kb = _mount(ui, field)
    ui.tap(field.input)
    assert field.focus and focus_tracker.current is field.input
    tap_keys(ui, kb, ["ñ", "a", "n", "d", "ú", "space", "j", "o", "s", "é", "backspace", "é"])
    assert field.text == "Ñandú José"
    tap_keys(ui, kb, ["-", "m", "'", "a"])
    assert field.text == "Ñandú José-M'A"  # capital after hyphen and apostrophe (names)
    ui.screenshot(shots / "keyboard_text.png")


def test_shift_is_one_shot_and_shows_on_the_keys(ui: UIHarness) -> None:
    field = KioskTextField()
    kb = _mount(ui, field)
    ui.tap(field.input)
    assert kb.key_button("q").text == "Q"  # keycaps are capitals
    ui.tap(kb.key_button("shift"))
    assert kb.shift and kb.key_button("shift").sticky
    tap_keys(ui, kb, ["q", "q"])
    assert field.text == "Qq" and not kb.shift and not kb.key_button("shift").sticky


def test_physical_keyboard_types_into_the_focused_field(ui: UIHarness) -> None:
    first, last = KioskTextField(label="First name"), KioskTextField(label="Last name")
    _mount(ui, first, last)
    ui.tap(first.input)
    ui.type_text("Ñandú")
    ui.tap(last.input)
    assert not first.focus and last.focus  # only one field has the focus
    ui.type_text("Peña-Ortíz")
    ui.press_key("backspace")
    assert (first.text, last.text) == ("Ñandú", "Peña-Ortí")


def test_typing_goes_nowhere_without_focus(ui: UIHarness) -> None:
    field = KioskTextField()
    kb = _mount(ui, field)
    ui.type_text("abc")
    tap_keys(ui, kb, ["a"])
    assert field.text == ""


def test_max_length_error_and_text_mirroring(ui: UIHarness) -> None:
    field = KioskTextField(max_length=5)
    kb = _mount(ui, field)
    ui.tap(field.input)
    ui.type_text("abcdefgh")
    assert field.text == "abcde"
    field.text = "xy"
    assert field.input.text == "xy"
    tap_keys(ui, kb, ["z"])
    assert field.text == "xyz"
    field.error = "Please enter your first name."
    ui.frames()
    assert field.ids.error.height > 0 and field.input.error


def test_email_layout_follows_the_focused_field(ui: UIHarness, shots: Path) -> None:
    name = KioskTextField(label="Name")
    email = KioskTextField(label="E-mail", keyboard_layout="email")
    kb = _mount(ui, name, email)
    ui.tap(email.input)
    assert kb.layout == "email"
    tap_keys(ui, kb, ["a", "n", "a", "_", "1", "@", "x", "-", "y", ".com"])
    assert email.text == "ana_1@x-y.com"
    ui.screenshot(shots / "keyboard_email.png")
    ui.tap(name.input)
    assert kb.layout == "text"


def test_number_layout_uses_the_keypad(ui: UIHarness) -> None:
    phone = KioskTextField(label="Phone", keyboard_layout="number")
    kb = _mount(ui, phone)
    ui.tap(phone.input)
    assert kb.layout == "number"
    pad = kb.ids.rows.children[0]
    for k in "5551234":
        ui.tap(pad.key_button(k))
    ui.tap(pad.key_button("backspace"))
    assert phone.text == "555123"


def test_every_key_is_big_enough(ui: UIHarness) -> None:
    field = KioskTextField()
    kb = _mount(ui, field, digits=True)
    keys = list(kb._keys.values())
    assert len(keys) >= 45
    for b in keys:
        assert b.width >= 64 and b.height >= 64, (b.key, b.size)
