"""Payment: the amount, "Pay now with a card" or "Pay at the front desk".

While the terminal works (``pay`` blocks in the flow) the screen shows "Insert, tap or swipe your card on the
reader" with a Cancel button that calls the terminal's ``cancel()`` directly (STEPS.md, payment).
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen, format_money

log = logging.getLogger(__name__)


class PaymentScreen(KioskScreen):
    step = "payment"
    progress_step = "payment"
    amount_text = StringProperty("")
    heading = StringProperty("")
    waiting = BooleanProperty(False)
    """True while the card terminal waits for the patient's card."""

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.waiting = False
        cents = int(data.get("amount_cents") or 0)
        self.amount_text = format_money(cents, str(data.get("currency") or "USD"))
        if data.get("kind") == "self_pay":
            self.heading = _("Your payment for today's visit")
        else:
            self.heading = _("Your co-pay for today's visit")

    def pay(self) -> None:
        if self.waiting:
            return
        if self.emit({"action": "pay"}, overlay=False):
            self.waiting = True

    def pay_at_desk(self) -> None:
        self.emit({"action": "pay_at_desk"})

    def cancel_payment(self) -> None:
        """Cancel on the kiosk while the terminal waits: the flow then returns "payment_cancelled"."""
        terminal = self.kiosk.runtime.devices.payment if self.kiosk is not None else None
        if terminal is None:
            return
        log.info("payment cancel pressed")
        try:
            terminal.cancel()
        except Exception as exc:
            log.warning("terminal cancel failed: %s", type(exc).__name__)

    def clear(self) -> None:
        self.waiting = False
        self.amount_text = ""
        self.heading = ""
        super().clear()
