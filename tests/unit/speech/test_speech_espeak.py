"""devices.speech.espeak against the real espeak-ng (Debian's package): WAV files instead of a sound card.

Skips only when espeak-ng is not installed AND KIOSK_REQUIRE_SPEECH is unset (scripts/test sets it, so a
missing espeak-ng fails there). Nothing here waits on wall-clock time: the speaker's wait_idle() waits on
its condition with a generous deadline, and "long" utterances are made long by a player that never reads
until it is killed.
"""

from __future__ import annotations

import os
import shutil
import sys
import wave
from pathlib import Path

import pytest

from devices import registry
from devices.errors import DeviceSetupError
from devices.health import HealthStatus
from devices.speech.base import Speaker, SpeechEvent, SpeechEventKind, SpeechRate
from devices.speech.espeak import EspeakSpeaker

ESPEAK = shutil.which("espeak-ng")
if ESPEAK is None:
    if os.environ.get("KIOSK_REQUIRE_SPEECH"):
        raise RuntimeError("KIOSK_REQUIRE_SPEECH is set but espeak-ng is not installed (run scripts/setup)")
    pytest.skip("espeak-ng is not installed: run scripts/setup", allow_module_level=True)

SAMPLES = {
    "en": "Please scan your insurance card.",
    "es": "Por favor, escanee su tarjeta de seguro.",
    "zh": "请扫描您的保险卡。",
    "vi": "Vui lòng quét thẻ bảo hiểm của bạn.",
}


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        assert any(frames[i] != 0 for i in range(0, len(frames), 2)), "silence only"
        return wav.getnframes() / wav.getframerate()


def copy_player(out: Path) -> list[str]:
    """A 'player' that writes the WAV it is given to ``out`` (stands in for aplay)."""
    return [
        sys.executable,
        "-c",
        f"import shutil,sys; shutil.copyfileobj(sys.stdin.buffer, open({str(out)!r}, 'wb'))",
    ]


def test_every_language_has_a_voice_and_produces_audio(tmp_path: Path) -> None:
    speaker = EspeakSpeaker()
    assert isinstance(speaker, Speaker)
    for language, text in SAMPLES.items():
        assert speaker.supports(language), language
        out = tmp_path / f"{language}.wav"
        speaker.synthesize(text, language, out)
        assert 0.8 < wav_seconds(out) < 10.0, language
    assert speaker.health().status is HealthStatus.OK


def test_chinese_is_spoken_as_mandarin_not_spelled_pinyin(tmp_path: Path) -> None:
    """Debian's espeak-ng 1.51 'cmn' voice says "ni three hao three" for 你好: the default voice must not."""
    import subprocess

    speaker = EspeakSpeaker()
    args = [a for a in speaker.command_line("zh") if a != "--stdin"] + ["-q", "-x", "--stdin"]
    phonemes = subprocess.run(args, input="你好".encode(), capture_output=True, check=True).stdout.decode()
    assert "(en)" not in phonemes and "Tr'i:" not in phonemes  # no switch to English, no "three"
    assert "35" in phonemes or "214" in phonemes  # Mandarin tone contours


def test_slower_is_slower(tmp_path: Path) -> None:
    speaker = EspeakSpeaker()
    normal, slower = tmp_path / "normal.wav", tmp_path / "slower.wav"
    speaker.synthesize(SAMPLES["es"], "es", normal)
    speaker.synthesize(SAMPLES["es"], "es", slower, SpeechRate.SLOWER)
    assert wav_seconds(slower) > 1.2 * wav_seconds(normal)


def test_speak_queues_and_plays_through_the_player(tmp_path: Path) -> None:
    out = tmp_path / "played.wav"
    speaker = registry.create("speech", "espeak", {"player": copy_player(out)})
    assert isinstance(speaker, EspeakSpeaker)
    events: list[SpeechEvent] = []
    speaker.set_listener(events.append)
    first = speaker.speak(SAMPLES["en"], "en")
    second = speaker.speak(SAMPLES["vi"], "vi")
    assert speaker.wait_idle(timeout=60.0)
    assert not speaker.is_speaking
    assert [(e.kind, e.utterance_id) for e in events] == [
        (SpeechEventKind.STARTED, first), (SpeechEventKind.FINISHED, first),
        (SpeechEventKind.STARTED, second), (SpeechEventKind.FINISHED, second),
    ]  # fmt: skip
    assert wav_seconds(out) > 0.8  # the last utterance's audio went to the player
    assert speaker.health().status is HealthStatus.OK


def test_stop_cuts_the_current_utterance_and_drops_the_queue(tmp_path: Path) -> None:
    # A player that never reads its stdin: espeak-ng blocks on the full pipe, the utterance never ends alone.
    stuck = [sys.executable, "-c", "import time; time.sleep(600)"]
    speaker = EspeakSpeaker(player=stuck)
    events: list[SpeechEvent] = []
    speaker.set_listener(events.append)
    long_text = " ".join([SAMPLES["en"]] * 40)
    first = speaker.speak(long_text, "en")
    second = speaker.speak("Next", "en")
    assert speaker.is_speaking
    speaker.stop()
    assert speaker.wait_idle(timeout=60.0)
    kinds = {(e.kind, e.utterance_id) for e in events}
    assert (SpeechEventKind.STOPPED, second) in kinds
    assert (SpeechEventKind.STOPPED, first) in kinds or (SpeechEventKind.STARTED, first) not in kinds
    assert not any(e.kind is SpeechEventKind.FINISHED for e in events)
    assert not speaker.is_speaking

    # interrupt=True: the new utterance replaces whatever is being said
    events.clear()
    speaker.player = copy_player(tmp_path / "after.wav")
    speaker.speak(long_text, "en")
    replaced = speaker.speak(SAMPLES["es"], "es", interrupt=True)
    assert speaker.wait_idle(timeout=60.0)
    assert events[-1].kind is SpeechEventKind.FINISHED and events[-1].utterance_id == replaced


def test_no_audio_output_is_a_fault_with_a_key(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.exit(3)"]
    speaker = EspeakSpeaker(player=failing)
    events: list[SpeechEvent] = []
    speaker.set_listener(events.append)
    speaker.speak("Hello", "en")
    assert speaker.wait_idle(timeout=60.0)
    assert events[-1].kind is SpeechEventKind.FAILED and events[-1].detail == "player_failed"
    health = speaker.health()
    assert health.status is HealthStatus.FAULT and health.detail == "player_failed"


def test_missing_engine_voice_and_player(tmp_path: Path) -> None:
    gone = EspeakSpeaker(command=str(tmp_path / "no-espeak"))
    assert gone.health().detail == "speech_engine_missing" and gone.health().status is HealthStatus.FAULT
    assert not gone.supports("en")
    events: list[SpeechEvent] = []
    gone.set_listener(events.append)
    gone.speak("Hello", "en")
    assert gone.wait_idle(timeout=60.0)
    assert events[-1].kind is SpeechEventKind.FAILED

    odd = EspeakSpeaker(voices={"es": "xx-nonexistent"})
    assert not odd.supports("es") and odd.supports("en")
    health = odd.health()
    assert health.status is HealthStatus.DEGRADED and health.detail == "voice_missing"

    no_player = EspeakSpeaker(player=[str(tmp_path / "no-aplay")])
    assert no_player.health().detail == "player_missing"


def test_options_are_checked() -> None:
    registry.check_options("speech", "espeak", {"voices": {"zh": "cmn"}, "words_per_minute": 170})
    speaker = registry.create("speech", "espeak", {"voices": {"zh": "cmn"}, "slower_words_per_minute": 90})
    assert isinstance(speaker, EspeakSpeaker)
    assert speaker.voice_for("zh") == "cmn" and speaker.voice_for("es-US") == "es-419"
    assert speaker.command_line("es", SpeechRate.SLOWER)[:5] == ["espeak-ng", "-v", "es-419", "-s", "90"]
    for bad in ({"voices": ["en"]}, {"words_per_minute": 20}, {"slower_words_per_minute": 200},
                {"amplitude": 300}, {"player": "aplay"}, {"speed": 1}):  # fmt: skip
        with pytest.raises(DeviceSetupError):
            registry.check_options("speech", "espeak", bad)


def test_the_text_is_not_on_the_command_line() -> None:
    speaker = EspeakSpeaker()
    assert "Maria" not in " ".join(speaker.command_line("en"))
    assert "--stdin" in speaker.command_line("en")
