"""Runs flow calls off the UI thread, one at a time (DESIGN §10.3: no network or sleep on the main thread)."""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
_STOP = object()


class FlowWorker:
    """One background thread; jobs run in submission order. ``on_done`` runs on the worker thread:
    UI callers marshal it to their main thread themselves."""

    def __init__(self, name: str = "flow-worker") -> None:
        self._jobs: queue.Queue[object] = queue.Queue()
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy.is_set() or not self._jobs.empty()

    def call(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._jobs.put((fn, on_done, on_error))

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            fn, on_done, on_error = job  # type: ignore[misc]
            self._busy.set()
            try:
                try:
                    result = fn()
                except BaseException as exc:
                    log.error("flow call failed: %s at %s", type(exc).__name__, _where(exc))
                    if on_error is not None:
                        on_error(exc)
                    continue
                on_done(result)
            except BaseException as exc:
                log.error("flow callback failed: %s at %s", type(exc).__name__, _where(exc))
            finally:
                self._busy.clear()

    def join_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued job has run (tests and shutdown)."""
        done = threading.Event()
        self._jobs.put((lambda: None, lambda _r: done.set(), None))
        return done.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._jobs.put(_STOP)
        self._thread.join(timeout)


def _where(exc: BaseException) -> str:
    """Where an exception was raised (file:line of each frame), without its message: messages and locals
    can hold personal data, so they never reach the log (DESIGN §9)."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames)) or "?"
