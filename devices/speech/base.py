"""Speech output: read prompts, buttons and messages aloud in the patient's language (headphones assumed).

A :class:`Speaker` queues utterances and speaks them one after another on its own thread: :meth:`speak`
returns at once. :meth:`stop` silences the current utterance and drops the queue (the patient pressed
"stop", or the screen changed). Listeners get :class:`SpeechEvent` on the speaker's thread; a UI marshals
them onto its main thread before touching widgets.

The text spoken may name the patient ("Thank you, Maria"): it is never logged, never put on a command line
(other users can read those), and never written to disk by a kiosk backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from devices.health import DeviceHealth


class SpeechRate(StrEnum):
    NORMAL = "normal"
    SLOWER = "slower"  # the patient asked for slower speech


class SpeechEventKind(StrEnum):
    STARTED = "started"
    FINISHED = "finished"  # spoken to the end
    STOPPED = "stopped"  # cut short or dropped from the queue by stop()
    FAILED = "failed"  # the engine or the audio output failed (detail: a key such as "no_audio_output")


@dataclass(frozen=True)
class Utterance:
    id: int  # increasing per speaker: what speak() returned
    text: str = field(repr=False)
    language: str = "en"
    rate: SpeechRate = SpeechRate.NORMAL


@dataclass(frozen=True)
class SpeechEvent:
    kind: SpeechEventKind
    utterance_id: int
    language: str
    detail: str = ""


SpeechCallback = Callable[[SpeechEvent], None]


@runtime_checkable
class Speaker(Protocol):
    def speak(
        self, text: str, language: str, rate: SpeechRate = SpeechRate.NORMAL, *, interrupt: bool = False
    ) -> int:
        """Queue ``text`` to be spoken in ``language`` ("en", "es", "zh", ...); returns the utterance id at
        once. ``interrupt=True`` first does what :meth:`stop` does (a new screen replaces the old one)."""
        ...

    def stop(self) -> None:
        """Silence the current utterance now and drop every queued one (each gets a STOPPED event)."""
        ...

    @property
    def is_speaking(self) -> bool:
        """True while an utterance is being spoken or waits in the queue."""
        ...

    def supports(self, language: str) -> bool:
        """Whether a voice for ``language`` is installed (the UI offers speech only then)."""
        ...

    def set_listener(self, callback: SpeechCallback | None) -> None:
        """Receive every SpeechEvent (on the speaker's thread); None removes the listener."""
        ...

    def health(self) -> DeviceHealth: ...
