"""Auto-capture: successive preview frames → guidance → a capture when the card has been good long enough.

:class:`AutoCapture` is the pure state machine (clock injected): feed it each frame's :class:`Quality` and
it answers with a :class:`CaptureStep`. Gates must pass on ``steady_frames`` frames in a row, and the card's
corners must not move more than ``max_motion`` × its width between two of them (else ``hold_still``).
After ``hint_after`` seconds without a capture, ``manual_hint`` turns on: the screen then points at "type it
in" and "continue without insurance" (they are always there; a bad card never blocks).

:class:`CardCapture` runs that on a worker thread for the capture screen: it polls the camera's latest frame
(at most ``max_rate`` per second), publishes a :class:`GuidanceEvent` per judged frame, and when the machine
captures (or :meth:`CardCapture.capture_now` is pressed) it reads the side with the reader and publishes
:class:`SideReadEvent` (or :class:`SideFailedEvent`). Callbacks run on the worker thread: the UI marshals
them onto its main thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices.camera.base import Camera
from devices.insurance.base import CardReader, CardSide, Guidance, Quality

log = logging.getLogger(__name__)
SIDES = ("front", "back")


@dataclass(frozen=True)
class CapturePolicy:
    steady_frames: int = 4  # gates passed this many frames in a row → capture (~0.3 s at 15 fps)
    max_motion: float = 0.02  # corner movement between two frames, as a share of the card's width
    hint_after: float = 12.0  # seconds on one side without a capture → manual_hint
    keep_frames: int = 3  # the last good frames handed to OCR (voting over frames)

    def __post_init__(self) -> None:
        if self.steady_frames < 1 or self.keep_frames < 1 or self.max_motion <= 0 or self.hint_after <= 0:
            raise ValueError("capture policy out of range")


@dataclass(frozen=True)
class CaptureStep:
    guidance: Guidance
    steady: int  # good frames in a row so far
    needed: int  # policy.steady_frames
    manual_hint: bool
    frames: tuple[Any, ...] | None = field(default=None, repr=False)  # set once: the frames to read


class AutoCapture:
    def __init__(self, policy: CapturePolicy = CapturePolicy(), clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self._started = self._clock()
        self._steady = 0
        self._good: deque[Any] = deque(maxlen=self.policy.keep_frames)
        self._last_corners: tuple[tuple[float, float], ...] | None = None
        self.captured = False

    def _moved(self, corners: tuple[tuple[float, float], ...]) -> bool:
        last, self._last_corners = self._last_corners, corners
        if last is None:
            return False
        width = math.dist(corners[0], corners[1]) or 1.0
        return max(math.dist(a, b) for a, b in zip(last, corners, strict=True)) > self.policy.max_motion * width

    def feed(self, frame: Any, quality: Quality) -> CaptureStep:
        """One judged frame → guidance, and (once) the frames to read."""
        hint = self._clock() - self._started >= self.policy.hint_after
        if self.captured:
            return CaptureStep(Guidance.OK, self._steady, self.policy.steady_frames, hint)
        guidance = quality.guidance
        if quality.corners is None:
            self._last_corners = None
        elif self._moved(quality.corners) and guidance is Guidance.OK:
            guidance = Guidance.HOLD_STILL
        if guidance is Guidance.OK:
            self._steady += 1
            self._good.append(frame)
        else:
            self._steady = 0
            self._good.clear()
        frames = None
        if self._steady >= self.policy.steady_frames:
            self.captured = True
            frames = tuple(reversed(self._good))  # newest first
        return CaptureStep(guidance, self._steady, self.policy.steady_frames, hint, frames)


# -- events -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GuidanceEvent:
    side: str
    quality: Quality
    step: CaptureStep


@dataclass(frozen=True)
class CapturingEvent:
    """Frames taken: OCR is running (the screen shows "reading your card…")."""

    side: str
    manual: bool  # the patient pressed the button (gates may not have passed)


@dataclass(frozen=True)
class SideReadEvent:
    side: str
    result: CardSide = field(repr=False)


@dataclass(frozen=True)
class SideFailedEvent:
    side: str
    reason: str  # "no_frame" | "reader_error"


CaptureEvent = GuidanceEvent | CapturingEvent | SideReadEvent | SideFailedEvent


class CardCapture:
    """One side at a time: ``start("front")`` … SideReadEvent … ``start("back")`` … ``stop()``."""

    def __init__(
        self,
        camera: Camera,
        reader: CardReader,
        on_event: Callable[[CaptureEvent], None],
        *,
        policy: CapturePolicy = CapturePolicy(),
        clock: Callable[[], float] = time.monotonic,
        max_rate: float = 15.0,
    ) -> None:
        if max_rate <= 0:
            raise ValueError("max_rate must be > 0")
        self._camera, self._reader, self._on_event = camera, reader, on_event
        self._machine = AutoCapture(policy, clock)
        self._interval = 1.0 / max_rate
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._side: str | None = None
        self._manual = False
        self._last_index = -1
        self._recent: deque[Any] = deque(maxlen=policy.keep_frames)

    @property
    def side(self) -> str | None:
        return self._side

    def start(self, side: str) -> None:
        """Begin (or restart) judging frames for ``side``; starts the worker on first use."""
        if side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}")
        with self._lock:
            self._side, self._manual = side, False
            self._machine.reset()
            self._recent.clear()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="insurance-capture", daemon=True)
            self._thread.start()
        self._wake.set()

    def capture_now(self) -> None:
        """The manual button: read the latest frame(s) of the current side whatever the gates say."""
        with self._lock:
            self._manual = True
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10.0)
        with self._lock:
            self._side = None
            self._recent.clear()

    # -- worker -------------------------------------------------------------------------------------------
    def _publish(self, event: CaptureEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("insurance capture listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                side, manual = self._side, self._manual
            if side is None:
                self._wake.wait()
                self._wake.clear()
                continue
            if manual:
                self._read(side, tuple(reversed(self._recent)), manual=True)
                continue
            frame = self._camera.latest_frame()
            if frame is None or frame.index == self._last_index:
                self._wake.wait(self._interval / 2)
                self._wake.clear()
                continue
            self._last_index = frame.index
            started = time.monotonic()
            try:
                quality = self._reader.assess(frame.image)
            except Exception:
                log.exception("card quality check failed")
                self._stop.wait(self._interval)
                continue
            self._recent.append(frame.image)
            step = self._machine.feed(frame.image, quality)
            self._publish(GuidanceEvent(side, quality, step))
            if step.frames:
                self._read(side, step.frames, manual=False)
                continue
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))

    def _read(self, side: str, frames: tuple[Any, ...], *, manual: bool) -> None:
        with self._lock:
            if self._side != side:
                return
            self._side, self._manual = None, False  # one reading per start(); start() again to retake
        if not frames:
            latest = self._camera.latest_frame()
            frames = (latest.image,) if latest is not None else ()
        if not frames:
            self._publish(SideFailedEvent(side, "no_frame"))
            return
        self._publish(CapturingEvent(side, manual))
        try:
            result = self._reader.read_side(side, frames)
        except Exception as exc:
            log.warning("card side %s could not be read (%s)", side, type(exc).__name__)
            self._publish(SideFailedEvent(side, "reader_error"))
            return
        log.info("card side %s read: found=%s fields=%d in %.0f ms", side, result.found, len(result.fields),
                 result.seconds * 1000)
        self._publish(SideReadEvent(side, result))
