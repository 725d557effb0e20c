"""Receipt printers implement kiosk.flow.ports.TicketPrinter plus health()."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from devices.health import DeviceHealth
from kiosk.flow.types import Ticket


@runtime_checkable
class PrinterDevice(Protocol):
    def print_ticket(self, ticket: Ticket) -> None:
        """Raises kiosk.flow.ports.PrinterFailure(reason=...) when it cannot print."""
        ...

    def health(self) -> DeviceHealth: ...
