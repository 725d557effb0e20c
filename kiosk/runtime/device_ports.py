"""The flow's printer and terminal ports, bound to whatever device ``Devices`` holds *now*.

So "restart devices" on the status screen can replace a stuck printer or terminal object without the flow
knowing. ``PrinterPort`` also remembers the last Ticket it was asked to print (in memory only, never on
disk) for "reprint last ticket"; it is forgotten when the practice's day changes.
"""

from __future__ import annotations

import threading
from datetime import tzinfo
from typing import Any

from kiosk.flow.ports import Clock, PrinterFailure
from kiosk.flow.types import PaymentRequest, PaymentResult, Ticket


class PrinterPort:
    def __init__(self, devices: Any, clock: Clock, tz: tzinfo) -> None:
        self._devices = devices
        self._clock = clock
        self._tz = tz
        self._lock = threading.Lock()
        self._last: Ticket | None = None

    def print_ticket(self, ticket: Ticket) -> None:
        with self._lock:
            self._last = ticket  # remembered even if this print fails: reprint once paper is back
        printer = self._devices.printer
        if printer is None:
            raise PrinterFailure("no printer", reason="offline")
        printer.print_ticket(ticket)

    @property
    def last_ticket(self) -> Ticket | None:
        """The last ticket of today (None after the day changed: it is dropped then)."""
        with self._lock:
            last = self._last
            if (
                last is not None
                and last.issued_at.astimezone(self._tz).date() != self._clock.now().astimezone(self._tz).date()
            ):
                self._last = last = None
            return last

    def forget(self) -> None:
        with self._lock:
            self._last = None


class TerminalPort:
    """``PaymentTerminal`` over ``devices.payment`` as it is at each call."""

    def __init__(self, devices: Any) -> None:
        self._devices = devices

    def _terminal(self) -> Any:
        terminal = self._devices.payment
        if terminal is None:
            raise RuntimeError("no payment terminal")
        return terminal

    def charge(self, request: PaymentRequest) -> PaymentResult:
        result: PaymentResult = self._terminal().charge(request)
        return result

    def cancel(self) -> None:
        self._terminal().cancel()

    def status(self, reference: str) -> PaymentResult | None:
        result: PaymentResult | None = self._terminal().status(reference)
        return result
