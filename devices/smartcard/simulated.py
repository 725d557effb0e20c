"""A PC/SC reader you drive from code: insert/remove badges, unplug the reader; events on the reader's thread.

Like pyscard's monitors, :meth:`start` first reports the readers present (READER_ADDED) and any card already
inserted (INSERTED), then every change.

Options (``[devices.smartcard]`` with ``backend = "simulated"``):

- ``readers``: reader names (default ``["Simulated PC/SC Reader 00 00"]``).
- ``atr``: the ATR reported for inserted cards (default a MIFARE Classic 1K ATR as PC/SC readers report it).
"""

from __future__ import annotations

import logging
import queue
import string
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from devices.errors import DeviceOperationError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.smartcard.base import CardCallback, CardEvent, CardEventKind

log = logging.getLogger(__name__)

DEFAULT_READER = "Simulated PC/SC Reader 00 00"
MIFARE_1K_ATR = "3B8F8001804F0CA000000306030001000000006A"


class SimulatedCardReader:
    backend = "simulated"

    def __init__(self, readers: Sequence[str] = (DEFAULT_READER,), *, atr: str = MIFARE_1K_ATR) -> None:
        self._readers: list[str] = list(readers)
        self._cards: dict[str, str] = {}  # reader → uid
        self._atr = atr
        self._lock = threading.Lock()
        self._queue: queue.Queue[CardEvent | None] = queue.Queue()
        self._callback: CardCallback | None = None
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._idle = threading.Condition()
        self._last_error = ""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedCardReader:
        opts = OptionReader("smartcard", cls.backend, options)
        readers = opts.get_str_list("readers", [DEFAULT_READER])
        atr = opts.get_str("atr", MIFARE_1K_ATR)
        if not _is_hex(atr):
            raise opts.error("atr", atr, "hexadecimal digits")
        opts.finish()
        return cls(readers, atr=atr.upper())

    # -- CardReader protocol ------------------------------------------------------------------------------
    def start(self, on_event: CardCallback) -> None:
        if self._thread is not None:
            raise DeviceOperationError("card reader already started")
        self._callback = on_event
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="smartcard-simulated", daemon=True)
        self._thread.start()
        with self._lock:
            for reader in self._readers:
                self._emit(CardEvent(CardEventKind.READER_ADDED, reader))
            for reader, uid in self._cards.items():
                self._emit(CardEvent(CardEventKind.INSERTED, reader, uid, self._atr))
        log.info("simulated card reader started (%d reader(s))", len(self._readers))

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=5.0)
        self._callback = None

    def readers(self) -> list[str]:
        with self._lock:
            return list(self._readers)

    def health(self) -> DeviceHealth:
        with self._lock:
            if not self._readers:
                return DeviceHealth(
                    "smartcard", self.backend, HealthStatus.FAULT, "no_reader", self._last_error
                )
        return DeviceHealth("smartcard", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- test hooks ---------------------------------------------------------------------------------------
    def insert(self, uid: str, reader: str | None = None) -> None:
        """Put a card with this UID (hex, any case, spaces allowed) on ``reader`` (default: the first)."""
        clean = uid.replace(" ", "").replace(":", "").upper()
        if not clean or not _is_hex(clean):
            raise ValueError("card UID must be hexadecimal")
        with self._lock:
            name = self._reader(reader)
            if name in self._cards:
                self._emit(CardEvent(CardEventKind.REMOVED, name, self._cards[name], self._atr))
            self._cards[name] = clean
            self._emit(CardEvent(CardEventKind.INSERTED, name, clean, self._atr))

    def remove(self, reader: str | None = None) -> None:
        """Take the card off ``reader`` (default: the first). No event when no card is there."""
        with self._lock:
            name = self._reader(reader)
            uid = self._cards.pop(name, None)
            if uid is not None:
                self._emit(CardEvent(CardEventKind.REMOVED, name, uid, self._atr))

    def unplug_reader(self, reader: str | None = None) -> None:
        """Pull the reader's USB cable: its card goes (REMOVED), then READER_REMOVED."""
        with self._lock:
            name = self._reader(reader)
            uid = self._cards.pop(name, None)
            if uid is not None:
                self._emit(CardEvent(CardEventKind.REMOVED, name, uid, self._atr))
            self._readers.remove(name)
            self._last_error = "reader_removed"
            self._emit(CardEvent(CardEventKind.READER_REMOVED, name))
        log.warning("simulated card reader unplugged")

    def plug_reader(self, reader: str = DEFAULT_READER) -> None:
        with self._lock:
            if reader in self._readers:
                return
            self._readers.append(reader)
            self._emit(CardEvent(CardEventKind.READER_ADDED, reader))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every event so far has been handed to the callback."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    # -- internals ----------------------------------------------------------------------------------------
    def _reader(self, reader: str | None) -> str:
        if reader is None:
            if not self._readers:
                raise DeviceOperationError("no card reader connected")
            return self._readers[0]
        if reader not in self._readers:
            raise DeviceOperationError(f"no such card reader: {reader!r}")
        return reader

    def _emit(self, event: CardEvent) -> None:
        if self._thread is None:
            return  # not watching: the state changes, nobody is told (pyscard reports it at start)
        with self._idle:
            self._pending += 1
        self._queue.put(event)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                break
            callback = self._callback
            try:
                if callback is not None:
                    callback(event)
            except Exception as exc:
                self._last_error = type(exc).__name__
                log.error("card event callback failed: %s (event=%s)", type(exc).__name__, event.kind)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
        with self._idle:
            self._pending = 0
            self._idle.notify_all()


def _is_hex(text: str) -> bool:
    return all(c in string.hexdigits for c in text)
