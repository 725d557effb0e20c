"""Full-screen modals: BusyOverlay ("One moment…" while the flow works) and IdleWarning ("Are you still
there?" with a countdown and a big "I need more time" button, as Section 508 asks before a timeout).

Both are driven from outside: the screen/controller opens and closes BusyOverlay; the app's idle timer sets
``IdleWarning.remaining`` every second (tests set it directly: no wall clock here). IdleWarning fires
``on_timeout`` once when ``remaining`` reaches 0 while shown, and ``on_more_time`` when the patient taps the
button or anywhere on the warning (any touch means "I am here").
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

log = logging.getLogger(__name__)

SPIN_SECONDS = 1.2  # one turn of the spinner


class BusyOverlay(ModalView):
    message = StringProperty("")
    """Empty → "One moment…" (translated)."""
    angle = NumericProperty(0.0)
    showing = BooleanProperty(False)
    help_enabled = BooleanProperty(False)
    """Show "I need help" on the overlay too (the header's button is covered while busy)."""

    __events__ = ("on_help",)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("auto_dismiss", False)
        super().__init__(**kwargs)
        self._spin_ev: Any = None

    def on_help(self) -> None:
        log.info("help pressed while busy")

    def show(self, message: str = "") -> None:
        self.message = message
        if not self.showing:
            self.open(animation=False)

    def hide(self) -> None:
        if self.showing:
            self.dismiss(animation=False)

    def on_open(self) -> None:
        self.showing = True
        if self._spin_ev is None:
            self._spin_ev = Clock.schedule_interval(self._spin, 1 / 30.0)

    def on_dismiss(self) -> None:
        self.showing = False
        if self._spin_ev is not None:
            self._spin_ev.cancel()
            self._spin_ev = None

    def _spin(self, dt: float) -> None:
        self.angle = (self.angle + 360.0 * dt / SPIN_SECONDS) % 360.0


class IdleWarning(ModalView):
    remaining = NumericProperty(30)
    """Seconds left; set from outside. Reaching 0 while shown fires ``on_timeout`` once and closes."""
    showing = BooleanProperty(False)

    __events__ = ("on_more_time", "on_timeout")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("auto_dismiss", False)
        super().__init__(**kwargs)
        self._fired = False

    def show(self, remaining: float | None = None) -> None:
        if remaining is not None:
            self.remaining = remaining
        self._fired = False
        if not self.showing:
            self.open(animation=False)

    def hide(self) -> None:
        if self.showing:
            self.dismiss(animation=False)

    def on_open(self) -> None:
        self.showing = True
        log.info("idle warning shown")

    def on_dismiss(self) -> None:
        self.showing = False

    def on_remaining(self, _instance: Any, value: float) -> None:
        if self.showing and value <= 0 and not self._fired:
            self._fired = True
            log.info("idle timeout")
            self.hide()
            self.dispatch("on_timeout")

    def more_time(self) -> None:
        if self._fired:
            return
        log.info("more time requested")
        self.hide()
        self.dispatch("on_more_time")

    def on_touch_down(self, touch: MotionEvent) -> bool:
        if not self.showing:
            return False
        if self.ids.more.collide_point(*self.ids.more.to_widget(*touch.pos)):
            return super().on_touch_down(touch)  # the button handles it (pressed state, then more_time)
        self.more_time()
        return True

    def on_more_time(self) -> None:
        pass

    def on_timeout(self) -> None:
        pass
