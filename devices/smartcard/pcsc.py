"""Smart-card readers through PC/SC (pcscd) with pyscard: readers, card insert/remove, badge UIDs.

- Card events come from pyscard's ``CardMonitor``: its thread calls our observer, which reads the card's UID
  (``FF CA 00 00 00``: PC/SC part 3 "get data", answered by contactless readers themselves) and calls the
  ``on_event`` given to :meth:`start` **on pyscard's thread**. The UI marshals (``kivy.clock.mainthread``).
- Readers come and go (USB unplugged, pcscd restarted): a watcher thread of ours lists them every
  ``poll_interval`` seconds and reports READER_ADDED / READER_REMOVED (a card on a reader that vanished is
  reported REMOVED first). pyscard's monitor thread ends for good when pcscd goes away (and is a
  process-wide singleton); the watcher starts a fresh one once pcscd answers again.
- Health: FAULT "pcscd_unavailable" (no PC/SC service), FAULT "no_reader", else OK.

Options (``[devices.smartcard]`` with ``backend = "pcsc"``):

- ``readers``: reader names to use, or parts of them (default: every reader), e.g. ``["ACR122"]``.
- ``poll_interval``: seconds between reader scans (default 1.0).

pyscard pitfalls this module avoids (RECIPES §4): ``CardRequest`` on an absent reader spins; a card pulled
mid-exchange raises (treated as "UID unreadable", the REMOVED follows); an exception escaping an observer
would end pyscard's monitor thread (the observer catches everything).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from smartcard import CardMonitoring
from smartcard.System import readers as list_pcsc_readers

from devices.errors import DeviceOperationError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.smartcard.base import CardCallback, CardEvent, CardEventKind

log = logging.getLogger(__name__)

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
UID_RETRY_S = 0.1


class _Observer(CardMonitoring.CardObserver):  # type: ignore[misc]
    def __init__(self, owner: PcscCardReader) -> None:
        self.owner = owner

    def update(self, observable: Any, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        try:
            self.owner._cards_changed(added, removed)
        except Exception as exc:  # an exception here would end pyscard's monitor thread
            log.error("card event handling failed: %s", type(exc).__name__)


class PcscCardReader:
    backend = "pcsc"

    def __init__(self, *, readers: Sequence[str] = (), poll_interval: float = 1.0) -> None:
        self._filters = [r for r in readers if r]
        self._poll = poll_interval
        self._lock = threading.RLock()  # state + callback order across pyscard's thread and the watcher
        self._callback: CardCallback | None = None
        self._known: list[str] = []  # readers reported READER_ADDED
        self._cards: dict[str, tuple[str, str]] = {}  # reader → (uid, atr) reported INSERTED
        self._observer: _Observer | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._service_up = False
        self._last_error = ""
        self.monitor_starts = 0

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> tuple[list[str], float]:
        opts = OptionReader("smartcard", cls.backend, options)
        names = opts.get_str_list("readers", [])
        poll = opts.get_float("poll_interval", 1.0, minimum=0.01, maximum=60.0)
        opts.finish()
        return names, poll

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PcscCardReader:
        names, poll = cls.check_options(options)
        return cls(readers=names, poll_interval=poll)

    # -- CardReader protocol ------------------------------------------------------------------------------
    def start(self, on_event: CardCallback) -> None:
        if self._watcher is not None:
            raise DeviceOperationError("card reader already started")
        self._callback = on_event
        self._stop.clear()
        self._scan()  # readers present now are reported before start() returns
        self._watcher = threading.Thread(target=self._watch, name="smartcard-pcsc-watch", daemon=True)
        self._watcher.start()
        log.info("PC/SC card reader started (%d reader(s))", len(self._known))

    def stop(self) -> None:
        self._stop.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.join(timeout=5.0)
        with self._lock:
            observer, self._observer = self._observer, None
            self._callback = None
        if observer is not None:
            with contextlib.suppress(Exception):
                CardMonitoring.CardMonitor().deleteObserver(observer)

    def readers(self) -> list[str]:
        try:
            return self._list()
        except Exception:
            return []

    def health(self) -> DeviceHealth:
        try:
            names = self._list()
        except Exception:
            return DeviceHealth("smartcard", self.backend, HealthStatus.FAULT, "pcscd_unavailable",
                                self._last_error)
        if not names:
            return DeviceHealth("smartcard", self.backend, HealthStatus.FAULT, "no_reader", self._last_error)
        return DeviceHealth("smartcard", self.backend, HealthStatus.OK, "", self._last_error)

    # -- readers ------------------------------------------------------------------------------------------
    def _list(self) -> list[str]:
        names = [str(r) for r in list_pcsc_readers()]
        return [n for n in names if self._wanted(n)]

    def _wanted(self, name: str) -> bool:
        return not self._filters or any(f in name for f in self._filters)

    def _watch(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                self._scan()
            except Exception as exc:  # the watcher must outlive anything pcscd does
                log.error("reader scan failed: %s", type(exc).__name__)

    def _scan(self) -> None:
        try:
            names = self._list()
            up = True
        except Exception as exc:
            names, up = [], False
            if self._service_up or not self._last_error:
                log.warning("PC/SC service unavailable (%s)", type(exc).__name__)
            self._last_error = "pcscd_unavailable"
        with self._lock:
            if self._callback is None:
                return
            self._service_up = up
            for name in [n for n in self._known if n not in names]:
                self._known.remove(name)
                gone = self._cards.pop(name, None)
                if gone is not None:
                    self._emit(CardEvent(CardEventKind.REMOVED, name, gone[0], gone[1]))
                self._last_error = "reader_removed"
                self._emit(CardEvent(CardEventKind.READER_REMOVED, name))
                log.warning("card reader removed")
            for name in [n for n in names if n not in self._known]:
                self._known.append(name)
                self._emit(CardEvent(CardEventKind.READER_ADDED, name))
                log.info("card reader added")
            if up and names and not _monitor_running(self._observer):
                self._start_monitor()

    def _start_monitor(self) -> None:
        """(Re)attach to pyscard's CardMonitor, replacing its thread when pcscd went away under it."""
        old = self._observer
        if old is not None:
            with contextlib.suppress(Exception):
                CardMonitoring.CardMonitor().deleteObserver(old)
        thread = CardMonitoring.CardMonitoringThread.instance
        if thread is not None and not thread.is_alive():
            # pyscard 2.x keeps a dead singleton after SCARD_E_NO_SERVICE: drop it so a new one starts.
            CardMonitoring.CardMonitoringThread.instance = None
            CardMonitoring.CardMonitor.instance = None
        self._observer = _Observer(self)
        self.monitor_starts += 1
        CardMonitoring.CardMonitor().addObserver(self._observer)

    # -- cards (pyscard's thread) -------------------------------------------------------------------------
    def _cards_changed(self, added: list[Any], removed: list[Any]) -> None:
        for card in removed:
            name = str(card.reader)
            with self._lock:
                gone = self._cards.pop(name, None)
                if gone is not None:
                    self._emit(CardEvent(CardEventKind.REMOVED, name, gone[0], gone[1]))
        for card in added:
            name = str(card.reader)
            if not self._wanted(name):
                continue
            atr = bytes(card.atr).hex().upper()
            uid = self._read_uid(card)
            with self._lock:
                if self._cards.get(name) == (uid, atr):
                    continue  # reported already (monitor restarted with the card still there)
                if name in self._cards:
                    old_uid, old_atr = self._cards.pop(name)
                    self._emit(CardEvent(CardEventKind.REMOVED, name, old_uid, old_atr))
                self._cards[name] = (uid, atr)
                self._emit(CardEvent(CardEventKind.INSERTED, name, uid, atr))

    def _read_uid(self, card: Any) -> str:
        """The UID, or "" when the card has none to give. A card that is still settling (just placed, being
        powered) gets two more tries, ``UID_RETRY_S`` apart."""
        for attempt in range(3):
            connection = None
            try:
                connection = card.createConnection()
                connection.connect()
                data, sw1, sw2 = connection.transmit(GET_UID)
                break
            except Exception as exc:  # pulled mid-exchange, mute card, reader gone
                log.info("card UID unreadable (%s, attempt %d)", type(exc).__name__, attempt + 1)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.disconnect()
                    with contextlib.suppress(Exception):
                        connection.release()
            if self._stop.wait(UID_RETRY_S):
                return ""
        else:
            return ""
        if (sw1, sw2) != (0x90, 0x00) or not data:
            log.info("card has no UID to read (SW %02X%02X)", sw1, sw2)
            return ""
        return bytes(data).hex().upper()

    def _emit(self, event: CardEvent) -> None:
        """Call the callback (under the lock: events reach it in the order the state changed)."""
        callback = self._callback
        if callback is None:
            return
        try:
            callback(event)
        except Exception as exc:
            self._last_error = type(exc).__name__
            log.error("card event callback failed: %s (event=%s)", type(exc).__name__, event.kind)


def _monitor_running(observer: _Observer | None) -> bool:
    if observer is None:
        return False
    thread = CardMonitoring.CardMonitoringThread.instance
    return thread is not None and thread.is_alive()
