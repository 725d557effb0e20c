"""devices.speech.simulated: the speaker the demo and the UI tests use (records what it would say)."""

from __future__ import annotations

import pytest

from devices import registry
from devices.errors import DeviceSetupError
from devices.health import HealthStatus
from devices.speech.base import Speaker, SpeechEvent, SpeechEventKind, SpeechRate
from devices.speech.simulated import SimulatedSpeaker


def test_is_a_speaker_built_from_config() -> None:
    speaker = registry.create("speech", "simulated", {"languages": ["en", "es"], "auto_finish": False})
    assert isinstance(speaker, SimulatedSpeaker) and isinstance(speaker, Speaker)
    assert speaker.supports("es") and speaker.supports("es-US") and not speaker.supports("zh")
    assert not speaker.auto_finish


def test_unknown_options_are_refused() -> None:
    with pytest.raises(DeviceSetupError, match="unknown option.*'voice'"):
        registry.create("speech", "simulated", {"voice": "en-us"})
    with pytest.raises(DeviceSetupError, match="auto_finish"):
        registry.check_options("speech", "simulated", {"auto_finish": "yes"})


def test_records_the_sequence_of_texts_and_languages() -> None:
    speaker = SimulatedSpeaker()
    events: list[SpeechEvent] = []
    speaker.set_listener(events.append)
    first = speaker.speak("Welcome", "en")
    second = speaker.speak("Bienvenido", "es", SpeechRate.SLOWER)
    assert second == first + 1
    assert speaker.spoken == [("Welcome", "en"), ("Bienvenido", "es")]
    assert speaker.utterances[1].rate is SpeechRate.SLOWER
    assert [(e.kind, e.utterance_id) for e in events] == [
        (SpeechEventKind.STARTED, first), (SpeechEventKind.FINISHED, first),
        (SpeechEventKind.STARTED, second), (SpeechEventKind.FINISHED, second),
    ]  # fmt: skip
    assert not speaker.is_speaking
    speaker.clear_record()
    assert speaker.spoken == [] and list(speaker.events) == []


def test_queue_stop_and_interrupt_while_speaking() -> None:
    speaker = SimulatedSpeaker(auto_finish=False)
    events: list[SpeechEvent] = []
    speaker.set_listener(events.append)
    a = speaker.speak("Scan your card", "en")
    b = speaker.speak("Or type your name", "en")
    assert speaker.is_speaking
    assert speaker.current is not None and speaker.current.id == a
    assert [u.id for u in speaker.queued] == [b]
    assert speaker.spoken == [("Scan your card", "en")]  # the second one has not started

    assert speaker.finish() is not None
    assert speaker.current is not None and speaker.current.id == b

    c = speaker.speak("Next", "en")
    speaker.stop()  # the patient pressed "stop": the current one and the queue go
    assert not speaker.is_speaking and speaker.finish() is None
    stopped = [e.utterance_id for e in events if e.kind is SpeechEventKind.STOPPED]
    assert stopped == [b, c]
    assert speaker.spoken == [("Scan your card", "en"), ("Or type your name", "en")]

    speaker.speak("Page one", "es")
    speaker.speak("Página dos", "es", interrupt=True)  # a new screen replaces the old one
    assert speaker.current is not None and speaker.current.text == "Página dos"
    assert events[-2].kind is SpeechEventKind.STOPPED and events[-1].kind is SpeechEventKind.STARTED


def test_a_broken_output_fails_utterances_and_faults_health() -> None:
    speaker = SimulatedSpeaker()
    assert speaker.health().status is HealthStatus.OK
    events: list[SpeechEvent] = []
    speaker.set_listener(events.append)
    speaker.fail_output()
    speaker.speak("Hello", "en")
    assert speaker.spoken == []
    assert events[-1].kind is SpeechEventKind.FAILED and events[-1].detail == "no_audio_output"
    health = speaker.health()
    assert (
        health.kind == "speech" and health.status is HealthStatus.FAULT and health.detail == "no_audio_output"
    )
    speaker.repair_output()
    speaker.speak("Hello", "en")
    assert speaker.spoken == [("Hello", "en")] and speaker.health().status is HealthStatus.OK


def test_a_failing_listener_does_not_stop_speech() -> None:
    speaker = SimulatedSpeaker()

    def boom(event: SpeechEvent) -> None:
        raise RuntimeError("listener bug")

    speaker.set_listener(boom)
    speaker.speak("One", "en")
    speaker.speak("Two", "en")
    assert speaker.spoken == [("One", "en"), ("Two", "en")]


def test_utterance_repr_hides_the_text() -> None:
    speaker = SimulatedSpeaker()
    speaker.speak("Thank you, Maria", "en")
    assert "Maria" not in repr(speaker.utterances[0])
