"""A speaker that records what it would say: the demo's and the tests' speech device.

Everything happens on the caller's thread, so a test can look at :attr:`SimulatedSpeaker.spoken` right after
the UI called :meth:`speak`. By default an utterance is "spoken" at once (STARTED then FINISHED). With
``auto_finish = false`` the current utterance keeps speaking until the test calls :meth:`finish` (then the
next queued one starts), which lets tests press "stop" or "repeat" in the middle of speech.

Options (``[devices.speech]`` with ``backend = "simulated"``):

- ``languages``: the languages it has a voice for (default ``["en", "es", "zh", "vi"]``).
- ``auto_finish``: finish each utterance at once (default true).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.speech.base import SpeechCallback, SpeechEvent, SpeechEventKind, SpeechRate, Utterance

log = logging.getLogger(__name__)

DEFAULT_LANGUAGES = ("en", "es", "zh", "vi")
MAX_RECORDS = 1000  # a long demo must not grow without bound


class SimulatedSpeaker:
    backend = "simulated"

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES, *, auto_finish: bool = True) -> None:
        self._languages = {_base(lang) for lang in languages}
        self.auto_finish = auto_finish
        self._lock = threading.RLock()
        self._queue: deque[Utterance] = deque()
        self._current: Utterance | None = None
        self._next_id = 1
        self._listener: SpeechCallback | None = None
        self._fault = ""
        #: every utterance that started (was heard, at least in part), oldest first
        self.utterances: deque[Utterance] = deque(maxlen=MAX_RECORDS)
        #: every event sent to the listener, oldest first
        self.events: deque[SpeechEvent] = deque(maxlen=MAX_RECORDS)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedSpeaker:
        opts = OptionReader("speech", cls.backend, options)
        languages = opts.get_str_list("languages", DEFAULT_LANGUAGES)
        auto_finish = opts.get_bool("auto_finish", True)
        opts.finish()
        return cls(languages, auto_finish=auto_finish)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        cls.from_options(options)

    # -- Speaker protocol ---------------------------------------------------------------------------------
    def speak(
        self, text: str, language: str, rate: SpeechRate = SpeechRate.NORMAL, *, interrupt: bool = False
    ) -> int:
        if interrupt:
            self.stop()
        with self._lock:
            utterance = Utterance(self._next_id, text, language, SpeechRate(rate))
            self._next_id += 1
            self._queue.append(utterance)
            if self._current is None:
                self._advance()
            return utterance.id

    def stop(self) -> None:
        with self._lock:
            dropped = ([self._current] if self._current is not None else []) + list(self._queue)
            self._current = None
            self._queue.clear()
            for utterance in dropped:
                self._emit(SpeechEventKind.STOPPED, utterance)

    @property
    def is_speaking(self) -> bool:
        with self._lock:
            return self._current is not None or bool(self._queue)

    def supports(self, language: str) -> bool:
        return _base(language) in self._languages

    def set_listener(self, callback: SpeechCallback | None) -> None:
        with self._lock:
            self._listener = callback

    def health(self) -> DeviceHealth:
        if self._fault:
            return DeviceHealth("speech", self.backend, HealthStatus.FAULT, self._fault, self._fault)
        return DeviceHealth("speech", self.backend, HealthStatus.OK)

    # -- test hooks ---------------------------------------------------------------------------------------
    @property
    def spoken(self) -> list[tuple[str, str]]:
        """(text, language) of every utterance that started, in order."""
        with self._lock:
            return [(u.text, u.language) for u in self.utterances]

    @property
    def current(self) -> Utterance | None:
        with self._lock:
            return self._current

    @property
    def queued(self) -> list[Utterance]:
        with self._lock:
            return list(self._queue)

    def finish(self) -> Utterance | None:
        """The current utterance ends (FINISHED) and the next queued one starts. Returns the one finished."""
        with self._lock:
            done = self._current
            if done is None:
                return None
            self._current = None
            self._emit(SpeechEventKind.FINISHED, done)
            self._advance()
            return done

    def fail_output(self, detail: str = "no_audio_output") -> None:
        """The audio output breaks: every later utterance FAILS with ``detail`` and health turns FAULT."""
        with self._lock:
            self._fault = detail

    def repair_output(self) -> None:
        with self._lock:
            self._fault = ""

    def clear_record(self) -> None:
        """Forget what was spoken (a new test, or a demo's session reset)."""
        with self._lock:
            self.utterances.clear()
            self.events.clear()

    # -- internals ----------------------------------------------------------------------------------------
    def _advance(self) -> None:
        """Start queued utterances until one keeps speaking (auto_finish off) or the queue is empty."""
        while self._current is None and self._queue:
            utterance = self._queue.popleft()
            if self._fault:
                self._emit(SpeechEventKind.FAILED, utterance, self._fault)
                continue
            self._current = utterance
            self.utterances.append(utterance)
            self._emit(SpeechEventKind.STARTED, utterance)
            if self.auto_finish:
                self._current = None
                self._emit(SpeechEventKind.FINISHED, utterance)

    def _emit(self, kind: SpeechEventKind, utterance: Utterance, detail: str = "") -> None:
        event = SpeechEvent(kind, utterance.id, utterance.language, detail)
        self.events.append(event)
        listener = self._listener
        if listener is None:
            return
        try:
            listener(event)
        except Exception as exc:
            log.error("speech listener failed: %s (event=%s)", type(exc).__name__, kind)


def _base(language: str) -> str:
    """ "zh-Hans" / "zh_Hans_CN" / "ZH" → "zh"."""
    return language.replace("-", "_").split("_")[0].lower()
