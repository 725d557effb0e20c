"""NumericKeypad: big digits 0–9, Delete (backspace) and Clear, for DOB, phone, ZIP, member id.

It only reports keys: ``on_key(key)`` with ``key`` in ``"0"``…``"9"``, ``"backspace"``, ``"clear"`` (and
``extra_key`` such as ``"."`` or ``"-"`` when set). Whoever owns the entry decides what a key does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.gridlayout import GridLayout

from kiosk.i18n import N_
from kiosk.ui.widgets.basic import KioskButton

log = logging.getLogger(__name__)

DIGITS = "123456789"


class KeyButton(KioskButton):
    """One key of a keypad or keyboard. ``key`` is what it reports (a character or a command name)."""

    key = StringProperty("")
    sticky = BooleanProperty(False)
    """Drawn as pressed while True (Shift that is on)."""


class CommandKeyButton(KeyButton):
    """Delete / Clear / Shift / Space…: labelled in words (translated), coloured apart from characters."""

    def label(self, key: str, translate: Callable[[str], str]) -> str:
        """The key's caption; kv calls it with ``tr._`` so it follows the language."""
        word = translate(COMMAND_LABELS[key]) if key in COMMAND_LABELS else self.text
        symbol = COMMAND_SYMBOLS.get(key)
        return f"[font={SYMBOL_FONT}]{symbol}[/font] {word}" if symbol else word


# Words, not just symbols: older patients read "Delete" faster than they decode "⌫".
COMMAND_LABELS = {
    "backspace": N_("Delete"),
    "clear": N_("Clear"),
    "shift": N_("Shift"),
    "space": N_("Space"),
}
COMMAND_SYMBOLS = {"backspace": "\u232b", "shift": "\u21e7"}
SYMBOL_FONT = "DejaVuSans"  # bundled with Kivy; Roboto has no arrows


class NumericKeypad(GridLayout):
    """Rows 1 2 3 / 4 5 6 / 7 8 9 / [Clear | 0 | Delete]. With ``extra_key`` (``"."`` for decimals, ``"-"``)
    the last row is [extra | 0 | Delete] and there is no Clear key."""

    extra_key = StringProperty("")
    show_clear = BooleanProperty(True)

    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("extra_key", self._build)
        self.fbind("show_clear", self._build)
        self._build()

    def _build(self, *_args: Any) -> None:
        self.clear_widgets()
        for d in DIGITS:
            self._add(KeyButton(text=d, key=d))
        if self.extra_key:
            self._add(KeyButton(text=self.extra_key, key=self.extra_key))
        elif self.show_clear:
            self._add(CommandKeyButton(key="clear"))
        else:
            self._add(KeyButton(key="", disabled=True, opacity=0))
        self._add(KeyButton(text="0", key="0"))
        self._add(CommandKeyButton(key="backspace"))

    def _add(self, button: KeyButton) -> None:
        button.bind(on_press=self._pressed)
        self.add_widget(button)

    def _pressed(self, button: KeyButton) -> None:
        if button.key:
            self.dispatch("on_key", button.key)

    def key_button(self, key: str) -> KeyButton:
        """The button that reports ``key`` (tests tap it)."""
        for child in self.children:
            if isinstance(child, KeyButton) and child.key == key:
                return child
        raise KeyError(key)

    def on_key(self, key: str) -> None:
        pass
