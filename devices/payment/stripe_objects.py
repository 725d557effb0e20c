"""Reading Stripe's objects (PaymentIntent, Charge, Reader action) into the kiosk's payment results.

Only the brand, the last four digits and the authorization code are taken from a charge
(``payment_method_details.card_present``); Stripe never sends more of the card, and nothing else is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.flow.types import Money, PaymentStatus

METADATA_KEY = "kiosk_reference"
MESSAGE_KEYS = {
    PaymentStatus.DECLINED: "card_declined",
    PaymentStatus.CANCELLED: "payment_cancelled",
    PaymentStatus.TIMEOUT: "terminal_timeout",
    PaymentStatus.ERROR: "terminal_error",
}
DECLINES = frozenset(
    {"card_declined", "expired_card", "incorrect_pin", "insufficient_funds", "card_not_supported",
     "do_not_honor", "generic_decline", "pin_try_exceeded", "offline_pin_required",
     "online_or_offline_pin_required", "lost_card", "stolen_card", "processing_error", "call_issuer"}
)


@dataclass(frozen=True)
class CardSummary:
    brand: str = ""
    last4: str = ""
    auth_code: str = ""


def card_summary(intent: Mapping[str, Any]) -> CardSummary:
    """Brand, last four and authorization code of an intent whose ``latest_charge`` is expanded."""
    charge = intent.get("latest_charge")
    details: Mapping[str, Any] = {}
    if isinstance(charge, Mapping):
        method = charge.get("payment_method_details") or {}
        details = method.get("card_present") or method.get("interac_present") or {}
    receipt = details.get("receipt") or {}
    auth = receipt.get("authorization_code") or (charge.get("authorization_code") if isinstance(charge, Mapping)
                                                 else "") or ""
    return CardSummary(str(details.get("brand") or "").upper(), str(details.get("last4") or "")[-4:], str(auth))


def failure_status(code: str, intent: Mapping[str, Any]) -> PaymentStatus:
    """What a failed reader action means: the patient cancelled, the card was declined, time ran out."""
    error = intent.get("last_payment_error") or {}
    if "cancel" in code:
        return PaymentStatus.CANCELLED
    if "timeout" in code or "timed_out" in code:
        return PaymentStatus.TIMEOUT
    if code in DECLINES or error.get("type") == "card_error":
        return PaymentStatus.DECLINED
    return PaymentStatus.ERROR


def action_intent(action: Mapping[str, Any]) -> str:
    """The PaymentIntent a reader action works on ("" for other actions)."""
    process = action.get("process_payment_intent") or {}
    return str(process.get("payment_intent") or "")


def money(intent: Mapping[str, Any]) -> Money:
    return Money(int(intent.get("amount") or 0), str(intent.get("currency") or "usd").upper())
