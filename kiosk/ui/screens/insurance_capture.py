"""The insurance step's capture stage: the live camera picture with a card-shaped outline, guidance in big
words that follows the quality gates, a bar that fills while the card is held well, automatic capture,
"Take picture" (the screen's primary button) always there; the front, then the back (or "My card has
nothing on the back"). "Type in my card instead", "I will pay for this visit myself" and "I do not have my
card with me" stay on screen the whole time: a blurred, glared or absent card never blocks.

Device side: :class:`devices.insurance.capture.CardCapture` (auto-capture on a worker thread) over the
kiosk's camera and card reader; its events are marshalled onto Kivy's main thread here and dropped if they
belong to a capture that has ended. Starting/stopping the camera and joining the capture worker happen on
the camera-switch thread (never on the UI thread).

Turning the card over: after the front is read, the same card is often still in front of the camera. The
:class:`FlipGate` (wrapped around the reader) holds the back's auto-capture until the camera has seen the
card move or leave; until then the words say "Now turn your card over".

Events: ``on_read(sides)`` (the CardSide of the front, and of the back when taken), ``on_type_in``,
``on_self_pay``, ``on_no_card``. Nothing read from the card is logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from devices.insurance.base import CardSide, Guidance, Quality
from devices.insurance.capture import (
    CapturingEvent,
    CardCapture,
    GuidanceEvent,
    SideFailedEvent,
    SideReadEvent,
)
from kiosk.i18n import N_
from kiosk.ui.i18n_kv import _
from kiosk.ui.widgets import card_guide, option_row  # noqa: F401  (registers their widget classes)
from kiosk.ui.widgets.camera_preview import switch_camera

log = logging.getLogger(__name__)

#: The words for each guidance key of the gates (devices.insurance.base.Guidance).
GUIDANCE: dict[str, str] = {
    "card_not_found": N_("Hold your card inside the frame"),
    "move_closer": N_("Move your card a little closer"),
    "hold_still": N_("Hold your card still"),
    "tilt_for_glare": N_("Tilt your card a little. There is a shine on it."),
    "ok": N_("Good. Hold it there…"),
}
TURN_OVER = N_("Now turn your card over")
READING = N_("Got it. Reading your card…")
STARTING = N_("Starting the camera…")
HINT_FRONT = N_("Having trouble? Tap “Take picture”, or “Type in my card instead”.")
HINT_BACK = N_("Having trouble? Tap “Take picture”, or “My card has nothing on the back”.")
NOT_FOUND = N_("We could not see your card in that picture. Please hold it inside the frame and try again.")
FAILED = N_("That picture did not work. Please try again.")
NO_CAMERA = N_("The camera is not working right now. Please tap “Type in my card instead”.")


class FlipGate:
    """A card reader whose ``assess`` holds auto-capture (guidance not OK) after :meth:`expect_flip` until
    the card has moved (corners by more than ``change`` × its width) or left the picture. Everything else is
    the wrapped reader's. ``assess`` runs on the capture worker; :meth:`expect_flip` on the UI thread while
    the worker is idle (between two sides)."""

    def __init__(self, reader: Any, change: float = 0.08) -> None:
        self.reader = reader
        self.change = change
        self.waiting = False
        self._reference: tuple[tuple[float, float], ...] | None = None

    def expect_flip(self, corners: Sequence[Sequence[float]] | None) -> None:
        self._reference = tuple((float(x), float(y)) for x, y in corners) if corners else None
        self.waiting = True

    def assess(self, frame: Any) -> Quality:
        quality: Quality = self.reader.assess(frame)
        if not self.waiting:
            return quality
        reference = self._reference
        if quality.guidance is not Guidance.OK or quality.corners is None or reference is None:
            self.waiting = False  # the card left, moved fast, or never had a place: what comes now is new
            return quality
        width = math.dist(reference[0], reference[1]) or 1.0
        moved = max(math.dist(a, b) for a, b in zip(reference, quality.corners, strict=True))
        if moved > self.change * width:
            self.waiting = False
            return quality
        return replace(quality, guidance=Guidance.HOLD_STILL)  # still the side just taken

    def read_side(self, side: str, frames: Sequence[Any]) -> CardSide:
        result: CardSide = self.reader.read_side(side, frames)
        return result

    def health(self) -> Any:
        return self.reader.health()

    def stop(self) -> None:
        """The kiosk's reader is the runtime's: it is not stopped with a capture."""


class CaptureStage(BoxLayout):
    side = OptionProperty("front", options=("front", "back"))
    guidance = StringProperty("")
    """The big words: what to do now."""
    hint = StringProperty("")
    message = StringProperty("")
    """A kind message after a picture that did not work (shown in the ErrorBanner)."""
    steady = NumericProperty(0.0)
    good = BooleanProperty(False)
    manual_hint = BooleanProperty(False)
    """No capture for a while (or no camera picture): point at the other ways."""
    reading = BooleanProperty(False)
    turn_over = BooleanProperty(False)
    running = BooleanProperty(False)

    __events__ = ("on_read", "on_type_in", "on_self_pay", "on_no_card")

    def __init__(self, **kwargs: Any) -> None:
        self._capture: CardCapture | None = None
        self._gate: FlipGate | None = None
        self._generation = 0
        self._guidance_key = ""
        self._last_corners: Any = None
        self.sides: dict[str, CardSide] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget: Any) -> None:
        self.ids.preview.fbind("status", self._preview_status)
        self.ids.preview.no_signal_text = NO_CAMERA
        # ids hold weak proxies: keep the buttons themselves (off the tree while not shown).
        self._options = {n: getattr(self.ids[n], "__self__", self.ids[n])
                         for n in ("type_in", "skip_back", "self_pay", "no_card")}
        self.fbind("side", self._show_options)
        self._show_options()

    def _show_options(self, *_args: Any) -> None:
        first = "skip_back" if self.side == "back" else "type_in"
        self.ids.options.show([self._options[n] for n in (first, "self_pay", "no_card")])

    # -- running ---------------------------------------------------------------------------------------
    def begin(self, camera: Any, reader: Any, clock: Callable[[], float]) -> None:
        """Start the camera and the capture of the front (main thread)."""
        self.end()
        self._generation += 1
        generation = self._generation
        self._gate = FlipGate(reader)
        self._capture = CardCapture(camera, self._gate, lambda event: self._from_worker(generation, event),
                                    clock=clock)
        self.sides = {}
        self.running = True
        self.ids.preview.start(camera)
        self._start_side("front")
        log.info("card capture started")

    def end(self) -> None:
        """Stop the capture and the camera (joins happen off the UI thread); forget the pictures."""
        capture, self._capture = self._capture, None
        self._generation += 1  # events still on their way are dropped
        if capture is not None:
            switch_camera("stop", capture)  # before the camera's stop, on the same thread
            log.info("card capture stopped")
        self.ids.preview.stop()
        self._gate = None
        self.sides = {}
        self.running = False
        self._reset_words()
        self.message = ""
        self.manual_hint = False

    def _start_side(self, side: str) -> None:
        self.side = side
        self._reset_words()
        if self._capture is not None:
            self._capture.start(side)

    def _reset_words(self) -> None:
        self.reading = False
        self.turn_over = False
        self.steady = 0.0
        self.good = False
        self._guidance_key = ""
        self._last_corners = None
        preview = self.ids.preview
        preview.looks = "looking"
        preview.show_corners(None, (0, 0))
        self._words()

    # -- the patient's buttons -------------------------------------------------------------------------
    def take_picture(self) -> None:
        """ "Take picture": read what the camera sees now, whatever the gates say."""
        if self._capture is None or self.reading:
            return
        self.message = ""
        self._capture.capture_now()

    def skip_back(self) -> None:
        """ "My card has nothing on the back"."""
        if self.side == "back" and "front" in self.sides and not self.reading:
            self._finish()

    def on_read(self, sides: list[CardSide]) -> None:
        pass

    def on_type_in(self) -> None:
        pass

    def on_self_pay(self) -> None:
        pass

    def on_no_card(self) -> None:
        pass

    # -- events (worker thread → main thread) ----------------------------------------------------------
    def _from_worker(self, generation: int, event: Any) -> None:
        Clock.schedule_once(lambda _dt: self._on_event(generation, event), 0)

    def _on_event(self, generation: int, event: Any) -> None:
        if generation != self._generation or self._capture is None:
            return
        if isinstance(event, GuidanceEvent):
            self._on_guidance(event)
        elif isinstance(event, CapturingEvent):
            if event.side == self.side:
                self.reading = True
                self.ids.preview.looks = "done"
                self._words()
        elif isinstance(event, SideReadEvent):
            self._on_side_read(event.side, event.result)
        elif isinstance(event, SideFailedEvent):
            log.info("card side %s: no picture (%s)", event.side, event.reason)
            self.message = _(FAILED)
            self._start_side(event.side)

    def _on_guidance(self, event: GuidanceEvent) -> None:
        if event.side != self.side or self.reading:
            return
        quality, step = event.quality, event.step
        gate = self._gate
        self.turn_over = self.side == "back" and gate is not None and gate.waiting
        self._guidance_key = str(quality.guidance)
        self.good = quality.guidance is Guidance.OK and not self.turn_over
        self.steady = min(1.0, step.steady / step.needed) if self.good and step.needed else 0.0
        if step.manual_hint:
            self.manual_hint = True  # stays on for this card: the patient has had trouble
        if quality.corners is not None:
            self._last_corners = quality.corners
        preview = self.ids.preview
        preview.looks = "good" if self.good else "looking"
        preview.show_corners(quality.corners, quality.frame_size)
        self._words()

    def _on_side_read(self, side: str, result: CardSide) -> None:
        if side != self.side:
            return
        self.reading = False
        if not result.found:
            log.info("card side %s: no card in the picture", side)
            self.message = _(NOT_FOUND)
            self.manual_hint = True
            self._start_side(side)
            return
        self.message = ""
        self.sides[side] = result
        if side == "front":
            if self._gate is not None:
                self._gate.expect_flip(self._last_corners)
            self._start_side("back")
            self.turn_over = True
            self._words()
        else:
            self._finish()

    def _finish(self) -> None:
        sides = [self.sides[s] for s in ("front", "back") if s in self.sides]
        self.dispatch("on_read", sides)

    # -- words -----------------------------------------------------------------------------------------
    def _preview_status(self, *_args: Any) -> None:
        if self.ids.preview.status == "no_signal":
            self.manual_hint = True
        self._words()

    def on_manual_hint(self, *_args: Any) -> None:
        self._words()

    def _words(self) -> None:
        status = self.ids.preview.status
        if self.reading:
            text = READING
        elif self.turn_over:
            text = TURN_OVER
        elif status in ("starting", "off") and not self._guidance_key:
            text = STARTING if self.running else ""
        else:
            text = GUIDANCE.get(self._guidance_key, GUIDANCE["card_not_found"])
        self.guidance = _(text) if text else ""
        hint = HINT_BACK if self.side == "back" else HINT_FRONT
        self.hint = _(hint) if self.manual_hint else ""

    def refresh(self) -> None:
        """Re-translate (language switch)."""
        self._words()
        if self.message:
            self.message = ""
