"""Speech through eSpeak NG (Debian's ``espeak-ng``): one subprocess per utterance, on a worker thread.

The text goes to espeak-ng on stdin (``--stdin``, UTF-8), never on its command line, where other users of
the machine could read it. espeak-ng plays through the default audio output itself, or, with ``player``,
writes a WAV to a pipe into that command (e.g. ``aplay -D`` the headphone jack). The worker thread exists
only while there is something to say.

Voices: a kiosk language maps to an espeak-ng voice (``en`` → ``en-us``, ``es`` → ``es-419``, ``vi`` →
``vi``, ``zh`` → ``cmn-latn-pinyin``). Debian 12's espeak-ng 1.51 reads Chinese characters with the ``cmn``
voice as pinyin spelled out in English ("ni three hao three", espeak-ng issue #1236); ``cmn-latn-pinyin``
speaks them as Mandarin. Newer espeak-ng fixed ``cmn``: set ``voices = { zh = "cmn" }`` there.

Options (``[devices.speech]`` with ``backend = "espeak"``):

- ``command``: the espeak-ng executable (default ``"espeak-ng"``).
- ``voices``: language → voice, merged over the defaults above (e.g. ``{ es = "es" }`` for Spain's Spanish).
- ``words_per_minute`` (default 150) and ``slower_words_per_minute`` (default 110): espeak-ng's ``-s``.
- ``amplitude`` (0–200, default 100) and ``pitch`` (0–99, default 50).
- ``player``: a command that plays a WAV read from stdin, e.g. ``["aplay", "-q", "-D", "plughw:1,0"]``;
  empty (the default): espeak-ng plays it.
- ``max_seconds``: an utterance still running after this long is cut off (default 120).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.speech.base import SpeechCallback, SpeechEvent, SpeechEventKind, SpeechRate, Utterance

log = logging.getLogger(__name__)

DEFAULT_VOICES: dict[str, str] = {"en": "en-us", "es": "es-419", "zh": "cmn-latn-pinyin", "vi": "vi"}
PROBE_TIMEOUT_S = 10.0
# a failed utterance with one of these keys means the patient hears nothing: the device is at fault until one
# is spoken again
FAULTS = ("no_audio_output", "engine_failed", "player_failed", "player_missing", "speech_engine_missing")


class EspeakSpeaker:
    backend = "espeak"

    def __init__(
        self,
        *,
        command: str = "espeak-ng",
        voices: Mapping[str, str] | None = None,
        words_per_minute: int = 150,
        slower_words_per_minute: int = 110,
        amplitude: int = 100,
        pitch: int = 50,
        player: Sequence[str] = (),
        max_seconds: float = 120.0,
    ) -> None:
        self.command = command
        self.voices = {**DEFAULT_VOICES, **{_base(k): v for k, v in (voices or {}).items()}}
        self.words_per_minute = {
            SpeechRate.NORMAL: words_per_minute,
            SpeechRate.SLOWER: slower_words_per_minute,
        }
        self.amplitude = amplitude
        self.pitch = pitch
        self.player = list(player)
        self.max_seconds = max_seconds
        self._cond = threading.Condition()
        self._queue: deque[Utterance] = deque()
        self._current: Utterance | None = None
        self._cancel_current = False
        self._procs: list[subprocess.Popen[bytes]] = []
        self._worker: threading.Thread | None = None
        self._next_id = 1
        self._listener: SpeechCallback | None = None
        self._last_error = ""
        self._installed: frozenset[str] | None = None  # voice names espeak-ng knows (probed once)
        self._probe_lock = threading.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> EspeakSpeaker:
        opts = OptionReader("speech", cls.backend, options)
        command = opts.get_str("command", "espeak-ng")
        found, voices = opts.get_raw("voices")
        if found and (
            not isinstance(voices, Mapping) or not all(isinstance(v, str) and v for v in voices.values())
        ):
            raise opts.error("voices", voices, 'a table of language = "voice", e.g. { zh = "cmn" }')
        wpm = opts.get_int("words_per_minute", 150, minimum=80, maximum=450)
        slower = opts.get_int("slower_words_per_minute", 110, minimum=80, maximum=450)
        if slower > wpm:
            raise opts.error("slower_words_per_minute", slower, f"at most words_per_minute ({wpm})")
        amplitude = opts.get_int("amplitude", 100, minimum=0, maximum=200)
        pitch = opts.get_int("pitch", 50, minimum=0, maximum=99)
        player = opts.get_str_list("player", [])
        max_seconds = opts.get_float("max_seconds", 120.0, minimum=1.0)
        opts.finish()
        return cls(command=command, voices=dict(voices) if found else None, words_per_minute=wpm,
                   slower_words_per_minute=slower, amplitude=amplitude, pitch=pitch, player=player,
                   max_seconds=max_seconds)  # fmt: skip

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        cls.from_options(options)

    def describe(self) -> str:
        return f"{self.command} → {self.player[0] if self.player else 'default audio output'}"

    # -- Speaker protocol ---------------------------------------------------------------------------------
    def speak(
        self, text: str, language: str, rate: SpeechRate = SpeechRate.NORMAL, *, interrupt: bool = False
    ) -> int:
        if interrupt:
            self.stop()
        with self._cond:
            utterance = Utterance(self._next_id, text, language, SpeechRate(rate))
            self._next_id += 1
            self._queue.append(utterance)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="speech-espeak", daemon=True)
                self._worker.start()
            return utterance.id

    def stop(self) -> None:
        with self._cond:
            dropped = list(self._queue)
            self._queue.clear()
            procs = list(self._procs)
            if self._current is not None:
                self._cancel_current = True
        for proc in procs:
            _kill(proc)
        for utterance in dropped:
            self._emit(SpeechEventKind.STOPPED, utterance)

    @property
    def is_speaking(self) -> bool:
        with self._cond:
            return self._current is not None or bool(self._queue)

    def supports(self, language: str) -> bool:
        voice = self.voices.get(_base(language))
        return voice is not None and _voice_base(voice) in self.installed_voices()

    def set_listener(self, callback: SpeechCallback | None) -> None:
        with self._cond:
            self._listener = callback

    def health(self) -> DeviceHealth:
        """FAULT when espeak-ng, the player or every voice is missing, or the last utterance could not be
        heard; DEGRADED when some configured language has no voice."""
        fault = ""
        if shutil.which(self.command) is None:
            fault = "speech_engine_missing"
        elif self.player and shutil.which(self.player[0]) is None:
            fault = "player_missing"
        elif self._last_error in FAULTS:
            fault = self._last_error
        if fault:
            return DeviceHealth("speech", self.backend, HealthStatus.FAULT, fault, self._last_error)
        missing = [lang for lang in sorted(self.voices) if not self.supports(lang)]
        if missing:
            status = HealthStatus.FAULT if len(missing) == len(self.voices) else HealthStatus.DEGRADED
            return DeviceHealth("speech", self.backend, status, "voice_missing", self._last_error)
        return DeviceHealth("speech", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- beyond the protocol ------------------------------------------------------------------------------
    def installed_voices(self) -> frozenset[str]:
        """Voice names espeak-ng accepts (``--voices``: languages, voice files; lower case); probed once."""
        with self._probe_lock:
            if self._installed is None:
                self._installed = _probe_voices(self.command)
            return self._installed

    def voice_for(self, language: str) -> str | None:
        return self.voices.get(_base(language))

    def command_line(self, language: str, rate: SpeechRate = SpeechRate.NORMAL) -> list[str]:
        """espeak-ng's arguments for one utterance (the text goes on stdin)."""
        voice = self.voice_for(language)
        if voice is None:
            raise ValueError(f"no voice configured for language {language!r}")
        return [
            self.command, "-v", voice, "-s", str(self.words_per_minute[SpeechRate(rate)]),
            "-a", str(self.amplitude), "-p", str(self.pitch), "-b", "1", "--stdin",
        ]  # fmt: skip

    def synthesize(self, text: str, language: str, path: Path, rate: SpeechRate = SpeechRate.NORMAL) -> None:
        """Write the utterance as a WAV file instead of playing it (``-w``): tests and set-up checks. Raises
        OSError when espeak-ng fails. Never point it at a persistent folder with a patient's words."""
        args = [*self.command_line(language, rate), "-w", str(path)]
        result = subprocess.run(
            args, input=text.encode("utf-8"), capture_output=True, timeout=self.max_seconds
        )
        if result.returncode != 0 or b"error" in result.stderr.lower():
            raise OSError(f"espeak-ng failed (exit {result.returncode})")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once nothing is queued or being spoken (tests; polls nothing, waits on a condition)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._worker is None, timeout=timeout)

    # -- the worker ---------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._worker = None
                    self._current = None
                    self._cond.notify_all()
                    return
                utterance = self._queue.popleft()
                self._current = utterance
                self._cancel_current = False
            self._emit(SpeechEventKind.STARTED, utterance)
            kind, detail = self._say(utterance)
            with self._cond:
                self._current = None
                self._procs = []
            if kind is SpeechEventKind.FAILED:
                self._last_error = detail
                log.warning(
                    "speech failed: %s (utterance=%d language=%s)", detail, utterance.id, utterance.language
                )
            elif kind is SpeechEventKind.FINISHED:
                self._last_error = ""
            self._emit(kind, utterance, detail)

    def _say(self, utterance: Utterance) -> tuple[SpeechEventKind, str]:
        if not self.supports(utterance.language):
            return SpeechEventKind.FAILED, "voice_missing"
        args = self.command_line(utterance.language, utterance.rate)
        with self._cond:
            if self._cancel_current:
                return SpeechEventKind.STOPPED, ""
            try:
                engine, player = self._start(args)
            except OSError:
                if self.player and shutil.which(self.player[0]) is None:
                    return SpeechEventKind.FAILED, "player_missing"
                return SpeechEventKind.FAILED, "speech_engine_missing"
            self._procs = [p for p in (engine, player) if p is not None]
        try:
            _, stderr = engine.communicate(utterance.text.encode("utf-8"), timeout=self.max_seconds)
            player_rc = player.wait(timeout=self.max_seconds) if player is not None else 0
        except subprocess.TimeoutExpired:
            for proc in (engine, player):
                if proc is not None:
                    _kill(proc)
            return SpeechEventKind.FAILED, "timeout"
        with self._cond:
            if self._cancel_current:
                return SpeechEventKind.STOPPED, ""
        if engine.returncode != 0:
            return SpeechEventKind.FAILED, "engine_failed"
        if b"error" in (stderr or b"").lower():
            # espeak-ng exits 0 when it cannot open the audio device, and says so on stderr
            return SpeechEventKind.FAILED, "engine_failed" if player is not None else "no_audio_output"
        if player_rc != 0:
            return SpeechEventKind.FAILED, "player_failed"
        return SpeechEventKind.FINISHED, ""

    def _start(self, args: list[str]) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes] | None]:
        if not self.player:
            engine = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            return engine, None
        read_fd, write_fd = os.pipe()
        try:
            player = subprocess.Popen(self.player, stdin=read_fd, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                engine = subprocess.Popen([*args, "--stdout"], stdin=subprocess.PIPE, stdout=write_fd,
                                          stderr=subprocess.PIPE)  # fmt: skip
            except OSError:
                _kill(player)
                raise
        finally:
            os.close(read_fd)
            os.close(write_fd)
        return engine, player

    def _emit(self, kind: SpeechEventKind, utterance: Utterance, detail: str = "") -> None:
        with self._cond:
            listener = self._listener
        if listener is None:
            return
        try:
            listener(SpeechEvent(kind, utterance.id, utterance.language, detail))
        except Exception as exc:
            log.error("speech listener failed: %s (event=%s)", type(exc).__name__, kind)


def _probe_voices(command: str) -> frozenset[str]:
    try:
        result = subprocess.run(
            [command, "--voices"], capture_output=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("espeak-ng voices unknown: %s", type(exc).__name__)
        return frozenset()
    names: set[str] = set()
    for line in result.stdout.decode("utf-8", "replace").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5:  # Pty Language Age/Gender VoiceName File Other-languages
            names.add(parts[1].lower())
            names.add(parts[4].lower())  # "gmw/en-us": -v takes voice files too
            names.add(parts[4].rsplit("/", 1)[-1].lower())
    return frozenset(names)


def _voice_base(voice: str) -> str:
    """ "en-us+f3" (a voice with a variant) → "en-us"."""
    return voice.split("+", 1)[0].lower()


def _base(language: str) -> str:
    return language.replace("-", "_").split("_")[0].lower()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):  # ProcessLookupError: it ended already
        proc.kill()
