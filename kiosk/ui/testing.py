"""Drive a real Kivy window without a screen: for UI tests, screenshots and the headless demo.

Import this module BEFORE anything imports kivy (top of ``tests/ui/conftest.py``): on import it sets the
environment RECIPES §2 asks for (``SDL_VIDEODRIVER=offscreen``, ``KIVY_WINDOW=sdl2`` — without it a failed
window falls back to x11 and exit(102) kills pytest —, a private ``KIVY_HOME``, no console/file log,
default config, density 1, dummy audio). Values already in the environment win (``SDL_VIDEODRIVER=x11``
under Xvfb works too). One Window per process.

API (stable; the screens' tests and the demo use it)::

    from kiosk.ui.testing import harness         # harness() -> UIHarness (creates the window once)
    ui = harness()                               # 1280×800 window, kv rules loaded (theme.load_kv())
    w = ui.mount(widget)                         # replace the window's content with widget (fills it)
    ui.unmount()                                 # empty window, no focused text field (mount() does it too)
    ui.frames(n=3)                               # run n frames (EventLoop.idle())
    ui.tap(widget_or_xy)                         # down + up at the widget's centre; scrolls it into view first
    ui.long_press(widget_or_xy, seconds=1.0)     # down, Kivy time passes, up
    ui.drag(widget, [(x, y), ...], local=True)   # one stroke; local = widget-local px, (0, 0) bottom-left
    ui.type_text("Ñandú")                        # physical keyboard: on_key_down + on_textinput per char
    ui.press_key("backspace" | "enter" | "tab" | "escape" | "left" | "right" | keycode_int)
    ui.type_as_scanner(payload, tick=clock_step)  # a keyboard-wedge scanner's burst (Shift, Enter, Ctrl+^)
    ui.screenshot("/tmp/widgets/keypad.png")     # -> Path of the PNG written (Kivy's counter suffix removed)
    ui.advance_clock(31.0)                       # Kivy's clock jumps ahead (idle timeouts) + frames
    ui.scroll_into_view(widget)                  # what tap() does first
    ui.find(root, cls=PrimaryButton, text="Next", id="primary")  # widgets under root matching all given

Notes: widgets must be built after ``harness()`` (kv rules are loaded then); tests/ui/conftest.py starts the
harness for the whole session. Taps go through Kivy's real input path (UnitTestTouch), so disabled or
covered widgets (under a ModalView) do not get them.

Time: ``advance_clock`` makes Kivy's clock source "real time + offset" and only ever grows the offset, so
scheduled callbacks fire in order and time never runs backwards (RECIPES §2).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

WINDOW_SIZE = (1280, 800)

_ENV = {
    "KIVY_NO_ARGS": "1",
    "KIVY_WINDOW": "sdl2",
    "KIVY_NO_CONSOLELOG": "1",
    "KIVY_NO_FILELOG": "1",
    "KIVY_USE_DEFAULTCONFIG": "1",
    "KIVY_METRICS_DENSITY": "1",
    "SDL_VIDEODRIVER": "offscreen",
    "SDL_AUDIODRIVER": "dummy",
}


def configure_environment() -> None:
    """Set the headless-Kivy environment (idempotent; existing values win). Must run before ``import kivy``."""
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    if "KIVY_HOME" not in os.environ:
        os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")


configure_environment()

# Only now import kivy.
from kivy.config import Config  # noqa: E402 - the environment above must be set first

Config.set("graphics", "width", str(WINDOW_SIZE[0]))
Config.set("graphics", "height", str(WINDOW_SIZE[1]))
Config.set("kivy", "exit_on_escape", "0")
Config.set("input", "mouse", "mouse,disable_multitouch")

from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

# Named keys for press_key (SDL keycodes as Kivy reports them).
KEYCODES: dict[str, int] = {
    "backspace": 8,
    "tab": 9,
    "enter": 13,
    "escape": 27,
    "spacebar": 32,
    "delete": 127,
    "left": 276,
    "right": 275,
    "up": 273,
    "down": 274,
    "home": 278,
    "end": 279,
    "shift": 304,
    "ctrl": 305,
}
#: Characters typed with Shift on a US keyboard (besides capitals).
SHIFTED = '~!@#$%^&*()_+{}|:"<>?'


class _ClockOffset:
    """Kivy's clock source as real time + a growing offset."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._source = Clock.time

    def __call__(self) -> float:
        return float(self._source()) + self.offset


class UIHarness:
    """One real window; see the module docstring for the API."""

    def __init__(self) -> None:
        from kivy.core.window import Window

        from kiosk.ui.theme import load_kv

        self.window = Window
        Window.size = WINDOW_SIZE
        load_kv()
        self._root = Widget()
        from kivy.base import runTouchApp

        runTouchApp(self._root, embedded=True)
        self._clock = _ClockOffset()
        Clock.time = self._clock  # type: ignore[method-assign]
        self.frames(2)

    # -- content -------------------------------------------------------------------------------------
    def mount(self, widget: Widget, size: tuple[int, int] | None = None) -> Widget:
        """Show ``widget`` alone in the window, at (0, 0) with the window's size (or ``size``)."""
        self.unmount()
        widget.size_hint = (None, None)
        widget.size = size or tuple(self.window.size)
        widget.pos = (0, 0)
        self.window.add_widget(widget)
        self.frames(3)
        return widget

    def unmount(self) -> None:
        from kiosk.ui.widgets.text_field import focus_tracker

        focus_tracker.clear()
        for child in list(self.window.children):
            if child is not self._root:
                self.window.remove_widget(child)
        self.frames(1)

    # -- time ----------------------------------------------------------------------------------------
    def frames(self, n: int = 3) -> None:
        for _ in range(n):
            EventLoop.idle()

    def advance_clock(self, seconds: float, frames: int = 3) -> None:
        """Jump Kivy's clock ahead by ``seconds`` (never backwards), then run frames so due events fire."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._clock.offset += seconds
        self.frames(frames)

    # -- touch ---------------------------------------------------------------------------------------
    def _window_xy(self, target: Widget | tuple[float, float]) -> tuple[float, float]:
        if isinstance(target, Widget):
            return target.to_window(*target.center)
        return float(target[0]), float(target[1])

    def scroll_into_view(self, widget: Widget) -> None:
        """Scroll every ScrollView around ``widget`` so it is visible (what a patient would do first)."""
        from kivy.uix.scrollview import ScrollView

        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                parent.scroll_to(widget, padding=10, animate=False)
                self.frames(2)
            parent = parent.parent

    def tap(self, target: Widget | tuple[float, float], frames: int = 2) -> None:
        """Touch down and up at a widget's centre (or at window coordinates); scrolls it into view first."""
        if isinstance(target, Widget):
            self.scroll_into_view(target)
        x, y = self._window_xy(target)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(frames)

    def long_press(self, target: Widget | tuple[float, float], seconds: float = 1.0) -> None:
        """Touch down, let ``seconds`` of Kivy time pass, touch up (long-press alternates)."""
        x, y = self._window_xy(target)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.advance_clock(seconds)
        touch.touch_up()
        self.frames(2)

    def drag(self, widget: Widget, points: Iterable[tuple[float, float]], local: bool = True) -> None:
        """One continuous stroke: down at the first point, move through the rest, up at the last."""
        # widget-local (0, 0) is the widget's bottom-left corner; to_window() takes parent coordinates
        pts = [widget.to_window(widget.x + x, widget.y + y) if local else (x, y) for x, y in points]
        if not pts:
            return
        touch = UnitTestTouch(*pts[0])
        touch.touch_down()
        self.frames(1)
        for x, y in pts[1:]:
            touch.touch_move(x, y)
        self.frames(1)
        touch.touch_up()
        self.frames(2)

    # -- keyboard ------------------------------------------------------------------------------------
    def press_key(self, key: str | int, text: str | None = None, modifiers: list[str] | None = None) -> None:
        """A physical key press (down + up) through the Window, as SDL delivers it."""
        code = KEYCODES[key] if isinstance(key, str) else key
        self.window.dispatch("on_key_down", code, 0, text, modifiers or [])
        self.window.dispatch("on_key_up", code, 0)
        self.frames(1)

    def type_text(self, text: str) -> None:
        """Type characters as a physical keyboard does: key down (with the char), then on_textinput."""
        for ch in text:
            code = ord(ch.lower()) if ord(ch) < 256 else 0
            mods = ["shift"] if ch.isupper() else []
            self.window.dispatch("on_key_down", code, 0, ch, mods)
            self.window.dispatch("on_textinput", ch)
            self.window.dispatch("on_key_up", code, 0)
        self.frames(1)

    def type_as_scanner(self, text: str, tick: Callable[[], None] | None = None) -> None:
        """Keys as a USB keyboard-wedge scanner sends them, with no frame in between: Shift for capitals and
        shifted symbols, Enter for LF/CR, Ctrl+<key> for other control characters (Ctrl+^ = RS, Ctrl+] = GS).
        ``tick()`` runs before each character (a test advances the scanner gate's clock)."""
        window = self.window
        for ch in text:
            if tick is not None:
                tick()
            if ch in "\r\n":
                window.dispatch("on_key_down", KEYCODES["enter"], 40, None, [])
                window.dispatch("on_key_up", KEYCODES["enter"], 40)
            elif ord(ch) < 0x20:
                key = ord(chr(ord(ch) + 0x40).lower())
                window.dispatch("on_key_down", KEYCODES["ctrl"], 0, None, ["ctrl"])
                window.dispatch("on_key_down", key, 0, None, ["ctrl"])
                window.dispatch("on_key_up", key, 0)
                window.dispatch("on_key_up", KEYCODES["ctrl"], 0)
            else:
                shifted = ch.isupper() or ch in SHIFTED
                mods = ["shift"] if shifted else []
                code = ord(ch.lower()) if ord(ch) < 256 else 0
                if shifted:
                    window.dispatch("on_key_down", KEYCODES["shift"], 0, None, mods)
                window.dispatch("on_key_down", code, 0, ch, mods)
                window.dispatch("on_textinput", ch)
                window.dispatch("on_key_up", code, 0)
                if shifted:
                    window.dispatch("on_key_up", KEYCODES["shift"], 0)

    # -- looking -------------------------------------------------------------------------------------
    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Write the window to ``path`` (a .png); returns the path written (Kivy adds a counter: renamed)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.frames(2)
        written = self.window.screenshot(name=str(target.with_suffix("")) + ".png")
        if not written:
            raise RuntimeError("screenshot failed")
        Path(written).replace(target)
        return target

    @staticmethod
    def walk(root: Widget) -> Iterator[Widget]:
        yield from root.walk(restrict=True)

    def find(
        self, root: Widget, cls: type | None = None, text: str | None = None, id: str | None = None
    ) -> list[Widget]:
        """Widgets under ``root`` (itself included) that match every criterion given."""
        found = []
        ids = {v.__self__ if hasattr(v, "__self__") else v: k for k, v in getattr(root, "ids", {}).items()}
        for w in root.walk(restrict=True):
            if cls is not None and not isinstance(w, cls):
                continue
            if text is not None and getattr(w, "text", None) != text:
                continue
            if id is not None and ids.get(w) != id:
                continue
            found.append(w)
        return found


_harness: UIHarness | None = None


def harness() -> UIHarness:
    """The process's one harness (the window is created on first call)."""
    global _harness
    if _harness is None:
        _harness = UIHarness()
    return _harness


def iter_widgets(root: Widget) -> Iterator[Widget]:
    return root.walk(restrict=True)


def clickable(widget: Any) -> bool:
    """Whether a widget reacts to taps (buttons, toggles, fields)."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.textinput import TextInput

    return isinstance(widget, (ButtonBehavior, TextInput))
