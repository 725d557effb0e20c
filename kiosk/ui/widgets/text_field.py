"""KioskTextField: a large text entry that never summons the operating system's on-screen keyboard.

The input is a Kivy TextInput with ``keyboard_mode = "managed"`` whose keyboard is never requested:
requesting one makes SDL start OS text input, which pops up the system keyboard on touch platforms. Instead,
while focused, the field listens to the Window's key events itself, so a physical (USB/barcode-wedge)
keyboard still types, and :class:`~kiosk.ui.widgets.keyboard.OnScreenKeyboard` types through
``insert_text`` / ``do_backspace`` on :data:`focus_tracker.current`.

Only one field is focused at a time (:data:`focus_tracker`); tapping keys of the on-screen keyboard does not
take the focus away (``unfocus_on_touch`` is off).

Physical keys reach the focused field through :data:`key_router`, the one listener of the Window's key events:
its optional ``gate`` sees every key first (the keyboard-wedge scanner's, kiosk/ui/scanning.py: a scanner's
burst never types into a field) and hands back, through :meth:`KeyRouter.type_released`, keys a person typed.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

log = logging.getLogger(__name__)

WORD_BREAKS = " -'"


class FocusTracker(EventDispatcher):
    """Which KioskTextInput receives typing (the on-screen keyboard binds to ``current``)."""

    current = ObjectProperty(None, allownone=True)

    def clear(self) -> None:
        """Unfocus whatever field has the focus (screens call it when they leave; the harness on unmount)."""
        field = self.current
        if field is not None:
            field.focus = False
        self.current = None


focus_tracker = FocusTracker()


class KeyGate(Protocol):
    """Sees every physical key before the focused field; True = swallowed (no widget gets it)."""

    def key_down(self, key: int, codepoint: str | None, modifiers: list[str]) -> bool: ...

    def textinput(self, text: str) -> bool: ...


#: Characters :meth:`KeyRouter.type_released` turns into key presses (everything else printable is text).
_RELEASED_KEYS = {"\n": (13, "enter"), "\r": (13, "enter"), "\t": (9, "tab")}


class KeyRouter:
    """The Window's key events → ``gate`` (if any) → the focused :class:`KioskTextInput`.

    One binding for all fields, made once (:meth:`attach`): a field focused later cannot get keys before the
    gate (Kivy calls the last-bound handler first)."""

    def __init__(self) -> None:
        self.gate: KeyGate | None = None
        self._window: Any = None

    def attach(self, window: Any = None) -> None:
        """Listen to ``window`` (default: Kivy's); idempotent."""
        window = window if window is not None else EventLoop.window
        if window is None or window is self._window:
            return
        if self._window is not None:
            self._window.unbind(on_key_down=self._key_down, on_key_up=self._key_up, on_textinput=self._textinput)
        window.bind(on_key_down=self._key_down, on_key_up=self._key_up, on_textinput=self._textinput)
        self._window = window

    @staticmethod
    def focused() -> KioskTextInput | None:
        field = focus_tracker.current
        return field if field is not None and field.focus else None

    def _key_down(self, window: Any, key: int, scancode: int, codepoint: str | None, modifiers: list[str]) -> bool:
        gate = self.gate
        if gate is not None and gate.key_down(key, codepoint, list(modifiers or [])):
            return True
        field = self.focused()
        return field._window_key_down(window, key, scancode, codepoint, modifiers) if field is not None else False

    def _key_up(self, window: Any, key: int, scancode: int = 0, *_args: Any) -> bool:
        field = self.focused()
        return field._window_key_up(window, key, scancode) if field is not None else False

    def _textinput(self, window: Any, text: str) -> bool:
        gate = self.gate
        if gate is not None and gate.textinput(text):
            return True
        field = self.focused()
        return field._window_textinput(window, text) if field is not None else False

    def type_released(self, text: str) -> None:
        """Keys a gate held back and hands back (a person's typing): into the focused field, in order.
        Enter and Tab act as those keys; other control characters are dropped."""
        field = self.focused()
        if field is None or not text:
            return
        window = EventLoop.window
        for ch in text:
            special = _RELEASED_KEYS.get(ch)
            if special is not None:
                field.keyboard_on_key_down(window, special, None, [])
                field.keyboard_on_key_up(window, special)
                if not field.focus:  # Enter/Tab moved the focus on: the rest goes to the next field
                    field = self.focused()
                    if field is None:
                        return
            elif ch.isprintable():
                field.keyboard_on_textinput(window, ch)


key_router = KeyRouter()


class KioskTextInput(TextInput):
    """The editable part of a :class:`KioskTextField` (use the field, not this, in screens)."""

    max_length = NumericProperty(0)
    """0 = unlimited."""
    keyboard_layout = OptionProperty("text", options=("text", "email", "number"))
    autocapitalize = OptionProperty("none", options=("none", "words"))
    error = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("keyboard_mode", "managed")
        kwargs.setdefault("unfocus_on_touch", False)
        kwargs.setdefault("use_bubble", False)
        kwargs.setdefault("use_handles", False)
        kwargs.setdefault("write_tab", False)
        kwargs.setdefault("multiline", False)
        self._viewport_args: tuple[int, int] = (0, 0)
        self._viewport_ev = Clock.create_trigger(self._adjust_viewport_now, -1)
        super().__init__(**kwargs)

    # Kivy's TextInput._adjust_viewport is decorated with kivy.clock.triggered, which keeps the arguments
    # of the last call (``self`` included) in one closure shared by every TextInput: the last field that
    # moved its cursor, with its screen, would never be freed. Here the trigger is per field.
    def _adjust_viewport(self, cc: int, cr: int) -> None:
        self._viewport_args = (cc, cr)
        self._viewport_ev()

    def _adjust_viewport_now(self, _dt: float) -> None:
        TextInput._adjust_viewport.__wrapped__(self, *self._viewport_args)

    # -- focus: exclusive, no OS keyboard ------------------------------------------------------------
    def _on_focus(self, instance: Any, value: bool, *largs: Any) -> None:
        super()._on_focus(instance, value, *largs)  # managed mode: does not request a keyboard
        if value:
            previous = focus_tracker.current
            if previous is not None and previous is not self:
                previous.focus = False
            focus_tracker.current = self
            self._bind_window()
            Clock.schedule_once(self._scroll_into_view, 0.05)  # after the layout settles
        else:
            self._unbind_window()
            if focus_tracker.current is self:
                focus_tracker.current = None

    def _scroll_into_view(self, *_args: Any) -> None:
        """Keep the field being typed into visible above a docked keyboard."""
        parent = self.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView) and parent.do_scroll_y:
                parent.scroll_to(self, padding=parent.height * 0.15, animate=False)
                return
            parent = parent.parent

    def _bind_window(self) -> None:
        key_router.attach()  # physical keys come through the router while this field is focused

    def _unbind_window(self) -> None:
        pass

    def _keycode(self, key: int) -> tuple[int, str]:
        keyboard = getattr(EventLoop.window, "_system_keyboard", None)
        name = keyboard.keycode_to_string(key) if keyboard is not None else ""
        return key, name

    def _window_key_down(
        self, window: Any, key: int, scancode: int, codepoint: str | None, modifiers: list[str]
    ) -> bool:
        if not self.focus:
            return False
        self.keyboard_on_key_down(window, self._keycode(key), codepoint, modifiers)
        return True

    def _window_key_up(self, window: Any, key: int, scancode: int) -> bool:
        if not self.focus:
            return False
        self.keyboard_on_key_up(window, self._keycode(key))
        return True

    def _window_textinput(self, window: Any, text: str) -> bool:
        if not self.focus:
            return False
        self.keyboard_on_textinput(window, text)
        return True

    # -- editing -------------------------------------------------------------------------------------
    def insert_text(self, substring: str, from_undo: bool = False) -> None:
        if not self.multiline:
            substring = substring.replace("\n", " ")
        if self.max_length:
            room = int(self.max_length) - len(self.text)
            if room <= 0:
                return
            substring = substring[:room]
        super().insert_text(substring, from_undo=from_undo)

    def wants_capital(self) -> bool:
        """Whether the on-screen keyboard should capitalize the next letter (start of a word in names)."""
        if self.autocapitalize != "words":
            return False
        before = self.text[: self.cursor_index()]
        return not before or before[-1] in WORD_BREAKS

    def on_parent(self, _instance: Any, parent: Any) -> None:
        if parent is None:
            self.focus = False


class KioskTextField(BoxLayout):
    """Caption + big single-line (or multi-line) input + an error message under it.

    ``text`` mirrors the input both ways. ``error`` non-empty → red border and the message below.
    ``keyboard_layout`` tells the on-screen keyboard which keys to show ("text", "email", "number").
    """

    text = StringProperty("")
    label = StringProperty("")
    hint_text = StringProperty("")
    error = StringProperty("")
    multiline = BooleanProperty(False)
    max_length = NumericProperty(0)
    keyboard_layout = OptionProperty("text", options=("text", "email", "number"))
    autocapitalize = OptionProperty("none", options=("none", "words"))
    focus = BooleanProperty(False)
    read_only = BooleanProperty(False)

    __events__ = ("on_text_validate",)

    def on_kv_post(self, _base_widget: Any) -> None:
        field: KioskTextInput = self.ids.input
        field.text = self.text
        field.bind(text=self._from_input, focus=self._focus_from_input)
        field.bind(on_text_validate=lambda *_: self.dispatch("on_text_validate"))

    @property
    def input(self) -> KioskTextInput:
        """The TextInput itself (not kv's weak proxy: ``field.input is focus_tracker.current`` holds)."""
        return self.ids.input.__self__

    def _from_input(self, _field: Any, value: str) -> None:
        if self.text != value:
            self.text = value

    def on_text(self, _instance: Any, value: str) -> None:
        field = self.ids.get("input")
        if field is not None and field.text != value:
            field.text = value
            field.cursor = field.get_cursor_from_index(len(value))

    def _focus_from_input(self, _field: Any, value: bool) -> None:
        self.focus = value

    def on_focus(self, _instance: Any, value: bool) -> None:
        field = self.ids.get("input")
        if field is not None and field.focus != value:
            field.focus = value

    def on_text_validate(self) -> None:
        pass
