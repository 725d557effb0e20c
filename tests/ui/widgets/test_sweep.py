"""Sweeps over every widget: touch sizes, contrast of what is drawn, large text, live language switch."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from pathlib import Path

import pytest
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui import i18n_kv
from kiosk.ui.testing import UIHarness
from kiosk.ui.theme import LARGE_TEXT_SCALE, contrast_ratio, theme
from kiosk.ui.widgets.basic import (
    BodyLabel,
    Card,
    ChoiceButton,
    ErrorBanner,
    KioskButton,
    KioskFooter,
    KioskHeader,
    KioskScreenLayout,
)
from kiosk.ui.widgets.date_field import DateOfBirthField
from kiosk.ui.widgets.keyboard import OnScreenKeyboard
from kiosk.ui.widgets.keypad import NumericKeypad
from kiosk.ui.widgets.questions import build_item_widget
from kiosk.ui.widgets.signature import SignaturePad
from kiosk.ui.widgets.text_field import KioskTextField

OPTIONS = [{"key": "a", "display": "Once a week"}, {"key": "b", "display": "Every day"}]


def _item(type_: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "link_id": type_,
        "text": f"A {type_} question",
        "type": type_,
        "required": True,
    }
    base.update(extra)
    return base


BUILDERS: dict[str, Callable[[], list[Widget]]] = {
    "keypad": lambda: [NumericKeypad()],
    "date": lambda: [DateOfBirthField()],
    "text": lambda: [KioskTextField(label="First name", error="Please enter your first name.")],
    "signature": lambda: [SignaturePad()],
    "choice": lambda: [build_item_widget(_item("choice", options=OPTIONS, repeats=True))],
    "boolean": lambda: [build_item_widget(_item("boolean"))],
    "open-choice": lambda: [build_item_widget(_item("open-choice", options=OPTIONS))],
    "group": lambda: [build_item_widget(_item("group", items=[_item("boolean"), _item("integer")]))],
    "banner": lambda: [ErrorBanner(text="We could not find you."), Card()],
}


def _mount(ui: UIHarness, name: str, keyboard: bool = False) -> KioskScreenLayout:
    layout = KioskScreenLayout(clinic_name="Clinic", title=name.title(), progress_count=4, progress_index=1)
    for w in BUILDERS[name]():
        layout.add_widget(w)
    if keyboard:
        layout.dock(OnScreenKeyboard(digits=True))
    ui.mount(layout)
    return layout


def _visible(w: Widget) -> bool:
    while w is not None and w is not w.parent:
        if w.opacity == 0:
            return False
        w = w.parent
    return True


def _background(w: Widget) -> list[float]:
    """The colour a label is drawn on: its own button colour, else the nearest ancestor that paints one."""
    node = w
    while node is not None:
        if isinstance(node, KioskButton):
            if node.disabled:
                return list(theme.disabled)
            return list(node.bg_pressed_color if node.state == "down" else node.bg_color)
        if isinstance(node, ErrorBanner):
            return list(theme.error_background)
        if isinstance(node, Card):
            return list(node.bg_color)
        if isinstance(node, KioskHeader):
            return list(theme.header)
        if isinstance(node, (KioskFooter, OnScreenKeyboard)):
            return list(theme.surface)
        node = node.parent if node.parent is not node else None  # the Window is its own parent
    return list(theme.background)


def _text_colour(w: Label) -> list[float]:
    return list(w.disabled_color if w.disabled else w.color)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_control_is_64px_and_every_text_is_readable(ui: UIHarness, name: str, large: bool) -> None:
    theme.large_text = large
    layout = _mount(ui, name, keyboard=name in ("text", "open-choice"))
    if name == "boolean":  # a selected button is in the sweep too
        next(w for w in layout.walk() if isinstance(w, ChoiceButton)).state = "down"
    ui.frames(3)
    controls = [w for w in layout.walk(restrict=True) if isinstance(w, ButtonBehavior) and _visible(w)]
    assert controls
    for c in controls:
        assert c.width >= 64 and c.height >= 64, (name, type(c).__name__, getattr(c, "text", ""), c.size)
    labels = [w for w in layout.walk(restrict=True) if isinstance(w, Label) and w.text and _visible(w)]
    assert labels
    for label in labels:
        ratio = contrast_ratio(_text_colour(label), _background(label))
        assert ratio >= 4.5, (name, type(label).__name__, label.text, round(ratio, 2))


def test_large_text_grows_widget_text(ui: UIHarness, shots: Path) -> None:
    layout = _mount(ui, "group")
    sizes = {id(w): w.font_size for w in layout.walk(restrict=True) if isinstance(w, Label)}
    ui.tap(layout.ids.large_text)
    assert theme.large_text
    ui.frames(3)
    grown = [w for w in layout.walk(restrict=True) if isinstance(w, Label) and id(w) in sizes]
    assert grown
    for w in grown:
        assert w.font_size == pytest.approx(sizes[id(w)] * LARGE_TEXT_SCALE, abs=1.01), (
            type(w).__name__,
            w.text,
        )
    ui.screenshot(shots / "large_text_group.png")


@pytest.mark.parametrize("name", ["date", "text", "choice", "keypad"])
def test_large_text_screenshots(ui: UIHarness, shots: Path, name: str) -> None:
    theme.large_text = True
    _mount(ui, name, keyboard=name == "text")
    ui.screenshot(shots / f"large_text_{name}.png")


class _Catalog(gettext.NullTranslations):
    def __init__(self, table: dict[str, str]) -> None:
        super().__init__()
        self.table = table

    def gettext(self, message: str) -> str:
        return self.table.get(message, message)


def test_language_switch_retranslates_kv_and_python_bound_text(ui: UIHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """kv rules written as tr._('...') re-evaluate on set_language (the catalog is a stand-in here)."""
    fake = {"xx": _Catalog({"Back": "Atrás", "Next": "Siguiente", "I need help": "Necesito ayuda", "Yes": "Sí"})}
    real = i18n_kv.translator
    monkeypatch.setattr(i18n_kv, "translator", lambda lang: fake.get(lang) or real(lang))
    layout = _mount(ui, "boolean")
    yes = next(w for w in layout.walk() if isinstance(w, ChoiceButton))
    assert (layout.ids.back.text, layout.ids.help.text, yes.text) == ("Back", "I need help", "Yes")
    i18n_kv.set_language("xx")
    ui.frames()
    assert (layout.ids.back.text, layout.ids.primary.text) == ("Atrás", "Siguiente")
    assert layout.ids.help.text == "Necesito ayuda"
    assert yes.text == "Sí"  # set from Python, bound to the language
    i18n_kv.set_language("en")
    ui.frames()
    assert layout.ids.back.text == "Back" and yes.text == "Yes"


def test_language_button_shows_endonyms() -> None:
    assert i18n_kv.languages_label(["en", "es"]) == "English · Español"


def test_body_text_wraps_at_large_size(ui: UIHarness) -> None:
    theme.large_text = True
    layout = _mount(ui, "banner")
    long = BodyLabel(text="Please bring your insurance card and a photo ID to the front desk. " * 4)
    layout.add_widget(long)
    ui.frames(3)
    assert long.texture_size[0] <= long.width + 1 and long.height >= long.texture_size[1]
