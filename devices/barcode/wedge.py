"""USB HID keyboard-wedge scanners: tell a scanner's burst of keystrokes from a person typing, and swallow it.

A wedge scanner "types" its barcode, keys ~1–20 ms apart; people leave ≥ ~80 ms between most keys. A scan is
recognised in two ways (both on at once):

- **prefix/suffix**: scanners can be set to send a prefix (e.g. STX ``"\\x02"``) and a suffix (e.g. ETX
  ``"\\x03"``). From the prefix on every key is swallowed; the suffix completes the scan (no suffix configured:
  a pause longer than ``max_gap`` does). A configured suffix that never comes discards the incomplete scan.
- **timing**: every key is held back for up to ``max_gap``. If the next key comes sooner, it joins a burst;
  a burst of ``min_length`` keys is a scan (all its keys swallowed) that ends at the first pause longer than
  ``max_gap``. Keys held back that turn out not to be a burst are *released*: the UI types them into the
  focused field itself, in order. A person's typing is delayed by at most ``max_gap``.

Use Enter/LF for AAMVA data separators (wedges type LF and CR as Enter): the timing rule, not Enter, ends a
scan. A trailing Enter is dropped. Scanners that send AIM symbology identifiers (``"]L0"`` PDF417, ``"]Q1"``
QR, ``"]C0"`` Code 128) get their format named; otherwise the format is read from the content.

:class:`WedgeDetector` is a pure state machine fed ``(character, timestamp)``; :class:`WedgeBarcodeSource`
wraps it as a BarcodeSource (backend ``"wedge"``). Neither ever logs or keeps a scan after handing it out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devices.barcode.base import Barcode, BarcodeCallback
from devices.errors import DeviceOperationError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)

_AIM = re.compile(r"\](L|Q|C|d|z|E|A)([0-9A-Za-z])")
_AIM_FORMATS = {"L": "PDF417", "Q": "QRCode", "C": "Code128", "d": "DataMatrix", "z": "Aztec", "E": "EAN13",
                "A": "Code39"}  # fmt: skip
_AAMVA = re.compile(r"(ANSI ?|AAMVA)[0-9]{8}")
_IDLE, _HOLDING, _SCANNING = "idle", "holding", "scanning"

#: Kivy key codes of keys a wedge types that carry no text event (Enter, numpad Enter, Tab)
_SPECIAL_KEYS = {13: "\n", 271: "\n", 9: "\t"}


@dataclass(frozen=True)
class WedgeResult:
    swallow: bool = False  # this key must reach no widget
    release: str = ""  # keys held back that a person typed: type them into the focused field now, in order
    scan: str | None = field(default=None, repr=False)  # a complete scan (barcode text: personal data)


def special_key_char(key: int, modifiers: Sequence[str] = ()) -> str | None:
    """The character a wedge means by a key that has no text event (Kivy ``on_key_down``), else None.

    Enter → LF, Tab → TAB, Ctrl+@…Ctrl+_ → the control characters 0x00–0x1F (Ctrl+] is GS, Ctrl+^ is RS).
    Printable characters come from the text event (``on_textinput``) instead.
    """
    if "ctrl" in modifiers and 0 <= key < 128:
        char = chr(key).upper()
        if "@" <= char <= "_":
            return chr(ord(char) & 0x1F)
        return None
    return _SPECIAL_KEYS.get(key)


def format_of(text: str) -> tuple[str, str]:
    """(format, text without an AIM identifier): from a leading AIM identifier, else from the content."""
    aim = _AIM.match(text)
    if aim:
        return _AIM_FORMATS[aim.group(1)], text[aim.end() :]
    if _AAMVA.search(text[:64]):
        return "PDF417", text
    return "unknown", text


class WedgeDetector:
    def __init__(
        self,
        *,
        prefix: str = "",
        suffix: str = "",
        max_gap: float = 0.08,
        min_length: int = 4,
        max_length: int = 8192,
    ) -> None:
        if len(prefix) > 1:
            raise ValueError("prefix must be one character (or empty)")
        if max_gap <= 0 or min_length < 2 or max_length < min_length:
            raise ValueError("need max_gap > 0 and 2 <= min_length <= max_length")
        self.prefix, self.suffix = prefix, suffix
        self.max_gap, self.min_length, self.max_length = max_gap, min_length, max_length
        self._state = _IDLE
        self._by_prefix = False
        self._buffer: list[str] = []
        self._last = 0.0
        self._overflow = False
        self.discarded = 0  # incomplete or overlong scans thrown away (a count: never their content)

    @property
    def pending(self) -> bool:
        """True while keys are held back or a scan is in progress: call :meth:`poll` at :attr:`deadline`."""
        return self._state != _IDLE

    @property
    def deadline(self) -> float | None:
        """When :meth:`poll` must run next (same clock as the timestamps), or None when idle."""
        return self._last + self.max_gap if self._state != _IDLE else None

    def feed(self, char: str, timestamp: float) -> WedgeResult:
        """One typed character (a text event, or :func:`special_key_char` of a key event)."""
        if not char:
            return WedgeResult()
        ended = self.poll(timestamp)  # a pause before this key ends what was going on
        result = self._feed(char, timestamp)
        return WedgeResult(True, ended.release + result.release, ended.scan if ended.scan is not None else result.scan)

    def poll(self, timestamp: float) -> WedgeResult:
        """Let time pass: release held keys or complete a scan once ``max_gap`` has gone by without a key."""
        if self._state == _IDLE or timestamp - self._last <= self.max_gap:
            return WedgeResult(swallow=False)
        if self._state == _HOLDING:
            held = "".join(self._buffer)
            self._reset()
            return WedgeResult(release=held)
        if self._by_prefix and self.suffix:  # the suffix never came: the scan may be cut short
            self.discarded += 1
            self._reset()
            return WedgeResult()
        return self._complete()

    def reset(self) -> None:
        """Forget everything held (a screen change, a session wipe)."""
        self._reset()

    # -- internals ----------------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._state, self._by_prefix, self._buffer, self._overflow = _IDLE, False, [], False

    def _feed(self, char: str, timestamp: float) -> WedgeResult:
        self._last = timestamp
        if self._state == _IDLE:
            if self.prefix and char == self.prefix:
                self._state, self._by_prefix = _SCANNING, True
            else:
                self._state, self._buffer = _HOLDING, [char]
            return WedgeResult(swallow=True)
        if len(self._buffer) >= self.max_length:
            self._overflow = True
        else:
            self._buffer.append(char)
        if self._state == _HOLDING and len(self._buffer) >= self.min_length:
            self._state = _SCANNING
        if self._state == _SCANNING and self.suffix and "".join(self._buffer[-len(self.suffix) :]) == self.suffix:
            del self._buffer[-len(self.suffix) :]
            return self._complete()
        return WedgeResult(swallow=True)

    def _complete(self) -> WedgeResult:
        text = "".join(self._buffer).rstrip("\r\n")
        overflow = self._overflow
        self._reset()
        if overflow or not text:
            self.discarded += 1
            return WedgeResult(swallow=True)
        return WedgeResult(swallow=True, scan=text)


class WedgeBarcodeSource:
    """A keyboard-wedge scanner as a BarcodeSource. The UI feeds it keys (:meth:`feed`) and time (:meth:`poll`).

    Options (``[devices.barcode]`` with ``backend = "wedge"``): ``prefix``, ``suffix``, ``max_gap`` (seconds,
    default 0.08), ``min_length`` (default 4). The callback runs on the thread that feeds keys (the UI's).
    """

    backend = "wedge"

    def __init__(self, detector: WedgeDetector | None = None) -> None:
        self.detector = detector or WedgeDetector()
        self._callback: BarcodeCallback | None = None
        self._last_error = ""
        self.delivered = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WedgeBarcodeSource:
        opts = OptionReader("barcode", cls.backend, options)
        prefix = opts.get_str("prefix", "")
        suffix = opts.get_str("suffix", "")
        max_gap = opts.get_float("max_gap", 0.08, minimum=0.005, maximum=2.0)
        min_length = opts.get_int("min_length", 4, minimum=2, maximum=1000)
        opts.finish()
        if len(prefix) > 1:
            raise opts.error("prefix", prefix, "one character, e.g. \"\\u0002\"")
        return cls(WedgeDetector(prefix=prefix, suffix=suffix, max_gap=max_gap, min_length=min_length))

    def start(self, on_barcode: BarcodeCallback) -> None:
        if self._callback is not None:
            raise DeviceOperationError("barcode source already started")
        self.detector.reset()
        self._callback = on_barcode
        log.info("keyboard-wedge scanner listening")

    def stop(self) -> None:
        self._callback = None
        self.detector.reset()

    def health(self) -> DeviceHealth:
        return DeviceHealth("barcode", self.backend, HealthStatus.OK, last_error=self._last_error)

    def feed(self, char: str, timestamp: float) -> WedgeResult:
        """A typed character from the UI. ``swallow``: keep it from every widget; ``release``: type it."""
        if self._callback is None:
            return WedgeResult(release=char)
        return self._handle(self.detector.feed(char, timestamp))

    def poll(self, timestamp: float) -> WedgeResult:
        """Call at :attr:`WedgeDetector.deadline` while ``detector.pending`` (a UI clock event)."""
        return self._handle(self.detector.poll(timestamp))

    def _handle(self, result: WedgeResult) -> WedgeResult:
        if result.scan is not None:
            fmt, text = format_of(result.scan)
            callback = self._callback
            if callback is not None and text:
                try:
                    callback(Barcode(format=fmt, text=text, source=self.backend))
                    self.delivered += 1
                except Exception as exc:
                    self._last_error = type(exc).__name__
                    log.error("barcode callback failed: %s (format=%s)", type(exc).__name__, fmt)
            return WedgeResult(swallow=result.swallow, release=result.release)
        return result
