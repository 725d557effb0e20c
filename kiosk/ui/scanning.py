"""What the kiosk scans with, and the keyboard-wedge scanner's keys kept out of every form field.

- :func:`scan_setup`: from the runtime's devices, what the identify screen offers: a camera preview with a
  guide frame (a barcode source decodes the kiosk's camera), a dedicated scanner (wedge, serial, ...), both,
  or neither (then patients type their name).
- :class:`WedgeKeyGate`: the :data:`~kiosk.ui.widgets.text_field.key_router`'s gate for a USB HID
  keyboard-wedge scanner (devices/barcode/wedge.py). Every physical key goes to the scanner's detector first:
  a scanner's burst is swallowed and delivered as a Barcode (the app's usual callback); keys a person typed
  are handed back to the focused field in order, at most ``max_gap`` (80 ms) later. The detector is polled on
  Kivy's clock at its deadline; keys are timed by a :class:`FrameClock` (a long frame does not split a scan).
  Runs on the main thread only (Window events); logs no key and no text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kivy.clock import Clock, ClockEvent

from devices.barcode.multi import parts
from devices.barcode.wedge import special_key_char
from kiosk.ui.widgets.text_field import KeyRouter, key_router

log = logging.getLogger(__name__)

#: Keys a person edits with and a scanner never sends (SDL keycodes): while keys are held back, they first
#: hand the held keys to the field, then act (a quick "x, Backspace" must not lose the Backspace).
EDITING_KEYS = frozenset({8, 127, 27, 273, 274, 275, 276, 278, 279})
FULL_FRAME = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class ScanSetup:
    camera: Any = None  # the camera to preview while the identify screen asks for a scan (None: no preview)
    roi: tuple[float, float, float, float] = FULL_FRAME  # the decoder's region of interest: the guide frame
    scanner: bool = True  # a dedicated scanner is connected (wedge, serial, a camera scanner of its own)
    wedge: Any = None  # the keyboard-wedge source, fed by :class:`WedgeKeyGate`

    @property
    def any(self) -> bool:
        return self.scanner or self.camera is not None


def scan_setup(devices: Any) -> ScanSetup:
    """What the identify screen offers with these devices (``kiosk.runtime.build.Devices``)."""
    camera = getattr(devices, "scan_camera", None)
    roi = FULL_FRAME
    scanner = False
    wedge = None
    for part in parts(getattr(devices, "barcode", None)):
        backend = str(getattr(part, "backend", ""))
        if backend == "camera":
            if camera is not None and not getattr(part, "_owns_camera", False):
                decoder = getattr(part, "decoder", None)
                roi = tuple(getattr(decoder, "roi", FULL_FRAME))  # type: ignore[assignment]
            else:
                scanner = True  # a camera of its own, always decoding: used like a scanner
            continue
        scanner = True  # wedge, serial, simulated, a plug-in: hardware that reads the code itself
        if backend == "wedge" and wedge is None:
            wedge = part
    return ScanSetup(camera=camera, roi=roi, scanner=scanner, wedge=wedge)


class FrameClock:
    """``time.monotonic()`` with the main thread's stalls taken out, for the keys' timestamps.

    Kivy reads SDL's key events once per frame and the kiosk cannot see when a key really came. Keys that
    arrive while a frame takes long (a garbage collection, a screen being built) are handled together, late:
    timed when handled, a scanner's burst would show a pause in its middle and split in two. So each frame
    counts for at most ``allowance`` seconds (well under the detector's ``max_gap``): a person's pauses (many
    normal frames) keep their length, a stall shrinks to ``allowance``. :meth:`tick` runs once per frame.
    """

    def __init__(self, source: Callable[[], float] = time.monotonic, allowance: float = 0.05) -> None:
        self._source = source
        self.allowance = allowance
        self._last_tick = source()
        self._stalled = 0.0  # seconds of long frames left out so far

    def tick(self, *_args: Any) -> None:
        now = self._source()
        frame = now - self._last_tick
        if frame > self.allowance:
            self._stalled += frame - self.allowance
        self._last_tick = now

    def __call__(self) -> float:
        since_tick = self._source() - self._last_tick
        return self._last_tick - self._stalled + min(max(since_tick, 0.0), self.allowance)


class WedgeKeyGate:
    """See the module docstring. ``clock`` gives the keys' timestamps (default a :class:`FrameClock`, ticked
    by Kivy's clock while installed; tests inject their own)."""

    def __init__(
        self, source: Any, *, clock: Callable[[], float] | None = None, router: KeyRouter = key_router
    ) -> None:
        self.source = source
        self.frame_clock = FrameClock() if clock is None else None
        self.clock: Callable[[], float] = clock or self.frame_clock or time.monotonic
        self.router = router
        self._event: ClockEvent | None = None
        self._ticker: ClockEvent | None = None
        self.swallowed = 0  # keys kept from the widgets (a count, never the keys)

    def install(self) -> None:
        self.router.attach()
        self.router.gate = self
        if self.frame_clock is not None and self._ticker is None:
            self._ticker = Clock.schedule_interval(self.frame_clock.tick, 0)  # every frame

    def uninstall(self) -> None:
        if self.router.gate is self:
            self.router.gate = None
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.reset()

    def reset(self) -> None:
        """Forget keys held back and any scan in progress (session wipe)."""
        self._cancel()
        self.source.detector.reset()

    # -- KeyGate --------------------------------------------------------------------------------------
    def key_down(self, key: int, codepoint: str | None, modifiers: list[str]) -> bool:
        char = special_key_char(key, modifiers)
        if char is not None:
            return self._feed(char)
        if not self.source.detector.pending:
            return False
        if key in EDITING_KEYS:
            self._flush()
            return False
        # A key of a burst (Shift, Ctrl, the key-down of a character whose text comes as on_textinput).
        self.swallowed += 1
        return True

    def textinput(self, text: str) -> bool:
        swallowed = False
        for ch in text:
            swallowed = self._feed(ch) or swallowed
        return swallowed

    # -- internals ------------------------------------------------------------------------------------
    def _feed(self, char: str) -> bool:
        result = self.source.feed(char, self.clock())
        if not result.swallow:
            return False  # the scanner is not listening: the key is the field's
        self.swallowed += 1
        self._after(result.release)
        return True

    def _flush(self) -> None:
        deadline = self.source.detector.deadline
        if deadline is not None:
            self._after(self.source.poll(deadline + 1e-6).release)

    def poll(self, _dt: float = 0.0) -> None:
        """Let the detector see the time (Kivy calls it at the deadline): held keys or a finished scan."""
        self._after(self.source.poll(self.clock()).release)

    def _after(self, release: str) -> None:
        if release:
            self.router.type_released(release)
        self._cancel()
        deadline = self.source.detector.deadline
        if deadline is not None:
            # Kivy's clock fires the poll; the detector decides on its own clock (a poll too early does nothing
            # and schedules the next one).
            self._event = Clock.schedule_once(self.poll, max(0.0, deadline - self.clock()) + 0.005)

    def _cancel(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
