"""NumericKeypad and DateOfBirthField in a real window: taps on keys become an ISO date."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.ui.i18n_kv import set_language
from kiosk.ui.testing import UIHarness
from kiosk.ui.widgets.basic import KioskScreenLayout
from kiosk.ui.widgets.date_field import DateOfBirthField
from kiosk.ui.widgets.keypad import KeyButton, NumericKeypad


def tap_keys(ui: UIHarness, pad: NumericKeypad, keys: list[str]) -> None:
    for key in keys:
        ui.tap(pad.key_button(key))


def test_keypad_reports_every_key(ui: UIHarness) -> None:
    pad = NumericKeypad()
    layout = KioskScreenLayout(title="Keypad")
    layout.add_widget(pad)
    ui.mount(layout)
    got: list[str] = []
    pad.bind(on_key=lambda _w, k: got.append(k))
    keys = [*"0123456789", "backspace", "clear"]
    tap_keys(ui, pad, keys)
    assert got == keys
    for b in pad.children:
        assert isinstance(b, KeyButton)
        assert b.width >= 64 and b.height >= 64


def test_keypad_extra_key_replaces_clear() -> None:
    pad = NumericKeypad(extra_key=".")
    keys = {b.key for b in pad.children}
    assert "." in keys and "clear" not in keys and "backspace" in keys


def _mount_dob(ui: UIHarness, **kwargs: object) -> DateOfBirthField:
    field = DateOfBirthField(**kwargs)
    layout = KioskScreenLayout(title="What is your date of birth?", clinic_name="Riverside Family Clinic")
    layout.add_widget(field)
    ui.mount(layout)
    return field


def test_keypad_entry_gives_iso_date_and_readback(ui: UIHarness, shots: Path) -> None:
    field = _mount_dob(ui)
    pad = field.ids.pad
    tap_keys(ui, pad, list("0304195"))
    assert field.iso_date == ""  # year incomplete
    assert field.raw_iso == "0195-03-04"
    tap_keys(ui, pad, ["0"])
    assert (field.month, field.day, field.year) == ("03", "04", "1950")
    assert field.iso_date == "1950-03-04"
    ui.frames()
    assert field.ids.readback.text == "March 4, 1950"
    ui.screenshot(shots / "date_of_birth.png")


def test_single_digit_month_and_day_advance(ui: UIHarness) -> None:
    field = _mount_dob(ui)
    tap_keys(ui, field.ids.pad, list("79") + list("1948"))
    assert field.iso_date == "1948-07-09"


def test_backspace_walks_back_across_parts_and_clear_empties(ui: UIHarness) -> None:
    field = _mount_dob(ui)
    pad = field.ids.pad
    tap_keys(ui, pad, list("1231"))
    assert field.active == "Y"
    tap_keys(ui, pad, ["backspace"])
    assert (field.day, field.active) == ("3", "D")
    tap_keys(ui, pad, ["clear"])
    assert (field.month, field.day, field.year, field.active) == ("", "", "", "M")


def test_tapping_a_box_selects_that_part(ui: UIHarness) -> None:
    field = _mount_dob(ui)
    ui.tap(field.ids.third)
    assert field.active == "Y"
    tap_keys(ui, field.ids.pad, list("1960"))
    assert field.year == "1960" and field.month == ""


@pytest.mark.parametrize(
    ("typed", "iso"),
    [("02301990", ""), ("02291992", "1992-02-29"), ("13011990", ""), ("00011990", "")],
)
def test_only_real_calendar_dates_are_iso(typed: str, iso: str) -> None:
    field = DateOfBirthField()
    for k in typed:
        field.press(k)
    assert field.iso_date == iso
    assert field.raw_iso  # what was typed is still available


def test_day_month_year_order_for_spanish(ui: UIHarness, shots: Path) -> None:
    set_language("es")
    field = _mount_dob(ui, order="DMY")
    assert field.ids.first.part == "D" and field.ids.third.part == "Y"
    tap_keys(ui, field.ids.pad, list("25121949"))
    assert field.iso_date == "1949-12-25"
    ui.frames()
    assert "1949" in field.ids.readback.text and "diciembre" in field.ids.readback.text
    ui.screenshot(shots / "date_of_birth_es.png")


def test_set_iso_prefills_and_error_shows(ui: UIHarness) -> None:
    field = _mount_dob(ui)
    field.set_iso("1950-03-04")
    assert (field.month, field.day, field.year) == ("03", "04", "1950")
    field.error = "Please check the date."
    ui.frames()
    assert field.ids.error.height > 0 and field.ids.first.error
