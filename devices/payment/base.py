"""Payment terminals implement kiosk.flow.ports.PaymentTerminal plus health()."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from devices.health import DeviceHealth
from kiosk.flow.types import PaymentRequest, PaymentResult


@runtime_checkable
class PaymentDevice(Protocol):
    def charge(self, request: PaymentRequest) -> PaymentResult: ...

    def cancel(self) -> None: ...

    def status(self, reference: str) -> PaymentResult | None:
        """What the terminal knows about a reference (used after a timeout, before any retry)."""
        ...

    def health(self) -> DeviceHealth: ...
