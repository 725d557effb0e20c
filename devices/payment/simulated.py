"""A semi-integrated card terminal in software: amount + reference in, result out; no card data, ever.

Options (``[devices.payment]`` with ``backend = "simulated"``):

- ``outcome``: what every charge does unless a test scripted otherwise (default "approve"); one of
  :data:`OUTCOMES`.
- ``delay``: seconds the "patient" takes at the terminal (default 0; the demo uses ~1.5). :meth:`cancel` from
  another thread interrupts it.
- ``brand`` / ``last4``: what an approval reports (default "VISA" / "4242").

Outcomes: ``approve``; ``decline``; ``cancel`` (the patient pressed cancel on the terminal); ``timeout`` (no
answer); ``error``; ``timeout_approved`` (the terminal approved but its answer was lost: the charge returns
TIMEOUT, :meth:`status` then reports the approval and a retry returns it without charging again).

Idempotent per reference: a reference that was approved is never charged again; the first result comes back.
``charges`` lists every transaction the terminal actually ran (for tests).
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from kiosk.flow.types import PaymentRequest, PaymentResult, PaymentStatus

log = logging.getLogger(__name__)

OUTCOMES = ("approve", "decline", "cancel", "timeout", "error", "timeout_approved")

_MESSAGE_KEYS = {
    PaymentStatus.DECLINED: "card_declined",
    PaymentStatus.CANCELLED: "payment_cancelled",
    PaymentStatus.TIMEOUT: "terminal_timeout",
    PaymentStatus.ERROR: "terminal_error",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatedPaymentTerminal:
    backend = "simulated"

    def __init__(
        self,
        *,
        outcome: str = "approve",
        delay: float = 0.0,
        brand: str = "VISA",
        last4: str = "4242",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self._default_outcome = outcome
        self._delay = delay
        self._brand = brand
        self._last4 = last4
        self._clock = clock
        self._script: deque[str] = deque()
        self._terminal = threading.Lock()  # one transaction at a time, like a real terminal
        self._state = threading.Lock()
        self._cancel = threading.Event()
        self._busy = False
        self._online = True
        self._results: dict[str, PaymentResult] = {}  # what the terminal knows, by reference
        self._last_error = ""
        self.charges: list[PaymentResult] = []
        #: set while a charge waits for the "patient" (tests wait on it instead of sleeping)
        self.waiting = threading.Event()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedPaymentTerminal:
        opts = OptionReader("payment", cls.backend, options)
        outcome = opts.get_str("outcome", "approve", choices=OUTCOMES)
        delay = opts.get_float("delay", 0.0, minimum=0.0, maximum=300.0)
        brand = opts.get_str("brand", "VISA")
        last4 = opts.get_str("last4", "4242")
        if len(last4) != 4 or not last4.isdigit():
            raise opts.error("last4", last4, "exactly 4 digits")
        opts.finish()
        return cls(outcome=outcome, delay=delay, brand=brand, last4=last4)

    # -- PaymentDevice protocol ---------------------------------------------------------------------------
    def charge(self, request: PaymentRequest) -> PaymentResult:
        with self._terminal:
            known = self._known(request.reference)
            if known is not None and known.status is PaymentStatus.APPROVED:
                log.info(
                    "charge for reference %s already approved: returning the first result", request.reference
                )
                return known
            if not self._online:
                return self._finish(request, PaymentStatus.ERROR, key="terminal_offline", record=False)
            outcome = self._next_outcome()
            with self._state:
                self._cancel.clear()
                self._busy = True
            self.waiting.set()
            try:
                cancelled = self._cancel.wait(self._delay) if self._delay > 0 else self._cancel.is_set()
            finally:
                self.waiting.clear()
                with self._state:
                    self._busy = False
            if cancelled:
                return self._finish(request, PaymentStatus.CANCELLED)
            return self._run(request, outcome)

    def cancel(self) -> None:
        """Abort the charge in progress (no effect when none is): it returns CANCELLED."""
        with self._state:
            if self._busy:
                self._cancel.set()
                log.info("charge cancel requested")

    def status(self, reference: str) -> PaymentResult | None:
        return self._known(reference)

    def health(self) -> DeviceHealth:
        if not self._online:
            return DeviceHealth("payment", self.backend, HealthStatus.FAULT, "offline", self._last_error)
        return DeviceHealth("payment", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- test hooks ---------------------------------------------------------------------------------------
    def script(self, *outcomes: str) -> None:
        """The next charges end with these outcomes, in order; then the configured default applies."""
        for outcome in outcomes:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
        with self._state:
            self._script.extend(outcomes)

    def set_online(self, online: bool) -> None:
        self._online = online
        if not online:
            self._last_error = "offline"

    # -- internals ----------------------------------------------------------------------------------------
    def _known(self, reference: str) -> PaymentResult | None:
        with self._state:
            return self._results.get(reference)

    def _next_outcome(self) -> str:
        with self._state:
            return self._script.popleft() if self._script else self._default_outcome

    def _run(self, request: PaymentRequest, outcome: str) -> PaymentResult:
        if outcome == "approve":
            return self._finish(request, PaymentStatus.APPROVED)
        if outcome == "timeout_approved":
            approved = self._finish(request, PaymentStatus.APPROVED)
            log.info("simulated lost answer for reference %s", request.reference)
            return replace(
                approved,
                status=PaymentStatus.TIMEOUT,
                processor_reference="",
                brand="",
                last4="",
                auth_code="",
                message_key=_MESSAGE_KEYS[PaymentStatus.TIMEOUT],
            )
        status = {
            "decline": PaymentStatus.DECLINED,
            "cancel": PaymentStatus.CANCELLED,
            "timeout": PaymentStatus.TIMEOUT,
            "error": PaymentStatus.ERROR,
        }[outcome]
        return self._finish(request, status)

    def _finish(
        self, request: PaymentRequest, status: PaymentStatus, *, key: str = "", record: bool = True
    ) -> PaymentResult:
        if status is PaymentStatus.APPROVED:
            result = PaymentResult(
                status=status,
                amount=request.amount,
                reference=request.reference,
                processor_reference=f"sim_{uuid.uuid4().hex}",
                brand=self._brand,
                last4=self._last4,
                auth_code=f"{secrets.randbelow(1_000_000):06d}",
                at=self._clock(),
            )
        else:
            result = PaymentResult(
                status=status,
                amount=request.amount,
                reference=request.reference,
                message_key=key or _MESSAGE_KEYS[status],
                at=self._clock(),
            )
        if record:
            with self._state:
                self._results[request.reference] = result
                self.charges.append(result)
        if status in (PaymentStatus.TIMEOUT, PaymentStatus.ERROR):
            self._last_error = result.message_key
        log.info(
            "charge reference=%s amount=%d %s -> %s",
            request.reference,
            request.amount.cents,
            request.amount.currency,
            status.value,
        )
        return result
