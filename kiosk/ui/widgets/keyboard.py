"""OnScreenKeyboard: big QWERTY keys with Ñ, a row of Spanish accents, space, hyphen, apostrophe, Delete and
a one-shot Shift; an e-mail layout (@ . _ - .com) and a number layout. It types into
:data:`~kiosk.ui.widgets.text_field.focus_tracker.current` (the focused KioskTextField) unless ``target``
is set, and follows that field's ``keyboard_layout``.

Accents are keys of their own (no long-press: older patients do not discover hidden gestures).
Keycaps show capitals, as on a typewriter. Letters are typed in lower case except after Shift (one letter)
or at the start of a word when the field asks for it (names), so patients rarely need Shift.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, OptionProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.ui.widgets.keypad import CommandKeyButton, KeyButton, NumericKeypad
from kiosk.ui.widgets.text_field import KioskTextInput, focus_tracker

log = logging.getLogger(__name__)

# A row is a list of (key, width in units). Keys longer than one character are commands or literal chunks.
Row = list[tuple[str, float]]


def _chars(chars: str) -> Row:
    return [(c, 1.0) for c in chars]


LAYOUTS: dict[str, list[Row]] = {
    "text": [
        _chars("qwertyuiop"),
        _chars("asdfghjklñ"),
        [("shift", 1.5), *_chars("zxcvbnm"), ("'", 1.0), ("-", 1.0)],
        [*_chars("áéíóúü"), ("space", 3.0), ("backspace", 2.0)],
    ],
    "text_digits": [
        _chars("1234567890"),
        _chars("qwertyuiop"),
        _chars("asdfghjklñ"),
        [("shift", 1.5), *_chars("zxcvbnm"), ("'", 1.0), ("-", 1.0)],
        [*_chars("áéíóúü"), ("space", 3.0), ("backspace", 2.0)],
    ],
    "email": [
        _chars("1234567890"),
        _chars("qwertyuiop"),
        [*_chars("asdfghjkl"), ("_", 1.0)],
        [("shift", 1.5), *_chars("zxcvbnm"), ("-", 1.0), (".", 1.0)],
        [("@", 1.5), (".com", 2.0), ("backspace", 2.0)],
    ],
}
UNITS = 11.0  # the widest row; a unit is width / UNITS
COMMANDS = {"shift", "space", "backspace", "clear"}
KEY_ROW_HEIGHT = 72  # px (≥ the 64 px touch minimum; five rows fit under a field at 1280×800)


class OnScreenKeyboard(BoxLayout):
    layout = OptionProperty("text", options=("text", "text_digits", "email", "number"))
    target = ObjectProperty(None, allownone=True)
    """The KioskTextInput to type into; None → the focused one (focus_tracker.current)."""
    follow_target = BooleanProperty(True)
    """Switch ``layout`` to the focused field's ``keyboard_layout`` (keeping digits if shown)."""
    digits = BooleanProperty(False)
    """Show the 1–0 row on the text layout (addresses); names do not need it."""
    shift = BooleanProperty(False)

    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        self._keys: dict[str, KeyButton] = {}
        self._cache: dict[str, tuple[list[Widget], dict[str, KeyButton]]] = {}
        super().__init__(**kwargs)
        for name in ("layout", "digits"):
            self.fbind(name, self._build)
        self.fbind("shift", self._relabel)
        focus_tracker.bind(current=self._follow)  # weak (bind, not fbind): keyboards die with their screen
        self._build()
        self._follow()

    # -- target --------------------------------------------------------------------------------------
    def current_target(self) -> KioskTextInput | None:
        return self.target if self.target is not None else focus_tracker.current

    def _follow(self, *_args: Any) -> None:
        field = self.current_target()
        if self.follow_target and field is not None:
            self.layout = field.keyboard_layout
        self._relabel()

    # -- keys ----------------------------------------------------------------------------------------
    def _build(self, *_args: Any) -> None:
        rows_box = self.ids.get("rows")
        if rows_box is None:
            return
        name = "text_digits" if self.layout == "text" and self.digits else self.layout
        if name not in self._cache:
            self._cache[name] = self._make(name)  # built once per layout: switching fields stays instant
        lines, keys = self._cache[name]
        rows_box.clear_widgets()
        for line in lines:
            rows_box.add_widget(line)
        self._keys = keys
        self._relabel()

    def _make(self, name: str) -> tuple[list[Widget], dict[str, KeyButton]]:
        if name == "number":
            pad = NumericKeypad(pos_hint={"center_x": 0.5})
            pad.bind(on_key=lambda _pad, key: self.press(key))
            return [pad], {}
        lines: list[Widget] = []
        keys: dict[str, KeyButton] = {}
        for row in LAYOUTS[name]:
            units = sum(width for _, width in row)
            line = KeyboardRow(units=units)
            for key, width in row:
                button: KeyButton
                if key in COMMANDS:
                    button = CommandKeyButton(key=key)
                else:
                    button = KeyButton(key=key, text=key.upper() if key.isalpha() else key)
                button.size_hint_x = width / units
                button.min_height = KEY_ROW_HEIGHT
                button.bind(on_press=self._pressed)
                keys[key] = button
                line.add_widget(button)
            lines.append(line)
        return lines, keys

    def on_kv_post(self, _base_widget: Any) -> None:
        self._build()

    def _capital(self) -> bool:
        field = self.current_target()
        return self.shift or (field is not None and field.wants_capital())

    def _relabel(self, *_args: Any) -> None:
        # Keycaps stay capitals (like a typewriter; re-rendering 40 captions on every case change is slow on
        # a Raspberry Pi). Shift shows its state; the field shows what was typed.
        shift = self._keys.get("shift")
        if shift is not None:
            shift.sticky = self.shift

    def key_button(self, key: str) -> KeyButton:
        """The button for ``key`` (lower-case letter, "space", "backspace", "shift", "@", …)."""
        return self._keys[key]

    def _pressed(self, button: KeyButton) -> None:
        self.press(button.key)

    def press(self, key: str) -> None:
        """Type ``key`` into the target field (what a tap on that key does)."""
        field = self.current_target()
        if key == "shift":
            self.shift = not self.shift
            return
        if field is None or field.readonly or field.disabled:
            return
        if key == "backspace":
            field.do_backspace()
        elif key == "clear":
            field.text = ""
        elif key == "space":
            field.insert_text(" ")
        else:
            text = key.upper() if (len(key) == 1 and key.isalpha() and self._capital()) else key
            field.insert_text(text)
            self.shift = False
        self.dispatch("on_key", key)
        self._relabel()

    def on_key(self, key: str) -> None:
        pass


class KeyboardRow(BoxLayout):
    units = ObjectProperty(10.0)
