"""Sends the screens' intents to the flow off the UI thread and brings the results back to it.

Screens emit intents (plain dicts, kiosk/flow/STEPS.md); the controller runs ``flow.submit(intent)`` (or
``to_desk``/``back``/``reset``) on the runtime's FlowWorker, shows a busy state meanwhile, and delivers the
Result on Kivy's main thread. It holds no business logic: it never looks inside an intent.

Rules it keeps:
- one flow call at a time: a second tap while a call runs is ignored (double taps on old touch screens);
- results of a session that was reset meanwhile (idle timeout, "not me") are dropped (``generation``);
- a call that raises shows a kind generic error on the current screen; it never crashes the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kivy.clock import Clock

from kiosk.flow.results import Result

log = logging.getLogger(__name__)


class WorkerLike(Protocol):
    @property
    def busy(self) -> bool: ...

    def call(self, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None: ...


class FlowLike(Protocol):
    def submit(self, user_input: dict[str, Any]) -> Result: ...

    def back(self) -> Result: ...

    def to_desk(self, reason: str = ...) -> Result: ...

    def reset(self) -> Result: ...


class _Failed:
    """What a call that raised delivers instead of a Result (type name only: messages may hold PHI)."""

    def __init__(self, exc: BaseException) -> None:
        self.kind = type(exc).__name__


class Controller:
    """Glue between screens, the flow and the worker. Lives on Kivy's main thread."""

    def __init__(
        self,
        flow: FlowLike,
        worker: WorkerLike,
        on_result: Callable[[Result], None],
        on_busy: Callable[[bool, bool], None] = lambda busy, overlay: None,
        on_failure: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.flow = flow
        self.worker = worker
        self._on_result = on_result
        self._on_busy = on_busy
        self._on_failure = on_failure
        self.generation = 0
        self.in_flight = 0
        self.calls = 0  # how many flow calls were made (the demo's summary)
        self.last_duration_s = 0.0
        self.durations: list[tuple[str, float]] = []  # (label, seconds) of every delivered call

    # -- intents -------------------------------------------------------------------------------------
    def submit(self, intent: Mapping[str, Any], *, overlay: bool = True) -> bool:
        """Send ``intent`` for the current step. False (and nothing happens) while another call runs."""
        data = dict(intent)
        action = str(data.get("action", "?"))
        log.info("intent %s", action)  # the action name only: intents carry personal data
        return self._call(lambda: self.flow.submit(data), overlay=overlay, label=action)

    def back(self) -> bool:
        return self._call(self.flow.back, overlay=True, label="back")

    def start(self) -> None:
        """The first welcome screen (``flow.start()``)."""
        start = getattr(self.flow, "start", None) or self.flow.reset
        self._call(start, overlay=False, label="start", supersede=True)

    def to_desk(self, reason: str = "patient_request") -> bool:
        """ "I need help": always honoured, even while another call runs (that call's result is dropped)."""
        log.info("desk requested (%s)", reason)
        return self._call(lambda: self.flow.to_desk(reason), overlay=True, label="to_desk", supersede=True)

    def reset(self) -> None:
        """Start over: results still on their way belong to the old session and are dropped."""
        log.info("session reset")
        self._call(self.flow.reset, overlay=False, label="reset", supersede=True)

    # -- plumbing ------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.in_flight > 0

    def _call(self, fn: Callable[[], Result], *, overlay: bool, label: str, supersede: bool = False) -> bool:
        if self.in_flight and not supersede:
            log.debug("ignored %s: a flow call is running", label)
            return False
        if supersede:
            self.generation += 1
        generation = self.generation
        self.in_flight += 1
        self.calls += 1
        started = time.monotonic()
        self._on_busy(True, overlay)

        def run() -> Result | _Failed:
            try:
                return fn()
            except Exception as exc:
                log.error("flow call %s raised %s", label, type(exc).__name__)
                return _Failed(exc)

        def done(result: Result | _Failed) -> None:
            # On the worker thread: hand over to Kivy's main thread.
            Clock.schedule_once(lambda _dt: self._deliver(generation, result, label, started), 0)

        self.worker.call(run, done)
        return True

    def _deliver(self, generation: int, result: Result | _Failed, label: str, started: float) -> None:
        self.in_flight -= 1
        self.last_duration_s = time.monotonic() - started
        self.durations.append((label, self.last_duration_s))
        log.debug("flow call %s took %.3f s", label, self.last_duration_s)
        if not self.in_flight:
            self._on_busy(False, False)
        if generation != self.generation:
            log.info("dropped the result of a superseded call (%s)", label)
            return
        if isinstance(result, _Failed):
            self._on_failure(result.kind)
            return
        self._on_result(result)
