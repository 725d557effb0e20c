"""A semi-integrated card terminal through Stripe Terminal's server-driven reader API (WisePOS E, S700).

The kiosk never sees card data: it asks Stripe to put an amount on a registered reader, the patient taps or
inserts the card on the reader, and Stripe tells the kiosk the outcome (brand, last four, authorization code).
Calls, as in Stripe's reference ("Collect card payments", server-driven):

1. ``POST /v1/payment_intents`` (amount, currency, ``payment_method_types[]=card_present``, automatic capture,
   ``metadata[kiosk_reference]``) with ``Idempotency-Key: kiosk-pi-<reference>-<amount><currency>``: asking
   again for the same check-in returns the same PaymentIntent, so a retry after a lost answer starts by
   reading the state of the charge it may already have made;
2. ``POST /v1/terminal/readers/{id}/process_payment_intent`` (``process_config[enable_customer_cancellation]``)
   unless the reader is already working on that PaymentIntent (then the kiosk simply waits for it again);
3. ``GET /v1/terminal/readers/{id}`` every ``poll_interval`` until ``action.status`` is ``succeeded`` or
   ``failed`` ("verify the reader state"); ``failure_code`` tells a decline from a patient's cancel;
4. ``GET /v1/payment_intents/{id}?expand[]=latest_charge`` for the brand, last four and authorization code
   (``payment_method_details.card_present``);
5. ``POST /v1/terminal/readers/{id}/cancel_action`` when the kiosk cancels (the patient pressed Cancel on the
   screen) or the patient took longer than ``payment_timeout``; the PaymentIntent is read once more afterwards
   (a tap can win the race).

A PaymentIntent that succeeded is never processed again: before any new attempt for a reference, every
PaymentIntent the kiosk made for it is read back. ``status(reference)`` reads them (or, after a restart,
finds them with ``GET /v1/payment_intents/search`` on the metadata).

Options (``[devices.payment]`` with ``backend = "stripe"``):

- ``reader_id`` (required): the reader's id, ``tmr_...``.
- ``api_key_file`` or ``api_key_env``: the secret (restricted) API key; the environment variable wins when
  set. The file must not be readable by others.
- ``api_base`` (default ``https://api.stripe.com``), ``api_version`` (default: the account's).
- ``http_timeout`` (10 s per request), ``payment_timeout`` (120 s at the reader), ``poll_interval`` (1 s).
- ``customer_cancellation`` (default true): the reader shows a Cancel button.

:meth:`charge` blocks (run it off the UI thread); :meth:`cancel` only flags the running charge and returns at
once, so the UI thread may call it. :meth:`health` and :meth:`status` make one or two HTTP requests.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devices.errors import DeviceOperationError, DeviceSetupError, DeviceTimeout
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.payment.stripe_api import (
    JSON,
    StripeApiError,
    StripeClient,
    StripeError,
    StripeTimeout,
    StripeUnreachable,
)
from kiosk.flow.types import Money, PaymentRequest, PaymentResult, PaymentStatus

log = logging.getLogger(__name__)

METADATA_KEY = "kiosk_reference"
_KEYS = {
    PaymentStatus.DECLINED: "card_declined",
    PaymentStatus.CANCELLED: "payment_cancelled",
    PaymentStatus.TIMEOUT: "terminal_timeout",
    PaymentStatus.ERROR: "terminal_error",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StripeSettings:
    reader_id: str
    api_key_file: Path | None
    api_key_env: str
    api_base: str
    api_version: str
    http_timeout: float
    payment_timeout: float
    poll_interval: float
    customer_cancellation: bool


class _Outcome(Exception):
    """Internal: ends a charge with this result."""

    def __init__(self, result: PaymentResult) -> None:
        super().__init__(result.status.value)
        self.result = result


class StripeTerminal:
    backend = "stripe"

    def __init__(
        self,
        client: StripeClient,
        reader_id: str,
        *,
        payment_timeout: float = 120.0,
        poll_interval: float = 1.0,
        customer_cancellation: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = client
        self.reader_id = reader_id
        self._reader_path = f"/v1/terminal/readers/{StripeClient.quote_id(reader_id)}"
        self._payment_timeout = payment_timeout
        self._poll = poll_interval
        self._customer_cancellation = customer_cancellation
        self._clock = clock
        self._monotonic = monotonic
        self._terminal = threading.Lock()  # one transaction at a time, like the reader itself
        self._state = threading.Lock()
        self._cancel = threading.Event()
        self._busy = False
        self._intents: dict[str, list[str]] = {}  # reference → PaymentIntent ids made for it
        self._last_error = ""

    # -- configuration ------------------------------------------------------------------------------------
    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> StripeSettings:
        """Validate the options without reading the key or touching the network (`kiosk config check`)."""
        opts = OptionReader("payment", cls.backend, options)
        reader_id = opts.get_str("reader_id", "")
        if not reader_id.startswith("tmr_"):
            raise opts.error("reader_id", reader_id, "the reader's id from Stripe, starting with 'tmr_'")
        settings = StripeSettings(
            reader_id=reader_id,
            api_key_file=opts.get_optional_path("api_key_file"),
            api_key_env=opts.get_str("api_key_env", ""),
            api_base=opts.get_str("api_base", "https://api.stripe.com"),
            api_version=opts.get_str("api_version", ""),
            http_timeout=opts.get_float("http_timeout", 10.0, minimum=0.05, maximum=120.0),
            payment_timeout=opts.get_float("payment_timeout", 120.0, minimum=1.0, maximum=900.0),
            poll_interval=opts.get_float("poll_interval", 1.0, minimum=0.001, maximum=30.0),
            customer_cancellation=opts.get_bool("customer_cancellation", True),
        )
        if settings.api_key_file is None and not settings.api_key_env:
            raise opts.error("api_key_file", None, "a file holding the secret API key (or set api_key_env)")
        if not settings.api_base.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise opts.error("api_base", settings.api_base, "an https:// URL")
        opts.finish()
        return settings

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> StripeTerminal:
        settings = cls.check_options(options)
        client = StripeClient(
            _read_key(settings),
            base_url=settings.api_base,
            timeout=settings.http_timeout,
            api_version=settings.api_version,
        )
        return cls(
            client,
            settings.reader_id,
            payment_timeout=settings.payment_timeout,
            poll_interval=settings.poll_interval,
            customer_cancellation=settings.customer_cancellation,
        )

    # -- PaymentDevice protocol ---------------------------------------------------------------------------
    def charge(self, request: PaymentRequest) -> PaymentResult:
        with self._terminal:
            with self._state:
                self._cancel.clear()
                self._busy = True
            started = self._monotonic()
            try:
                result = self._charge(request)
            except _Outcome as outcome:
                result = outcome.result
            finally:
                with self._state:
                    self._busy = False
            if result.status in (PaymentStatus.TIMEOUT, PaymentStatus.ERROR):
                self._last_error = result.message_key
            elif result.status is PaymentStatus.APPROVED:
                self._last_error = ""
            log.info(
                "charge reference=%s amount=%d %s -> %s (%s, %.1f s)",
                request.reference,
                request.amount.cents,
                request.amount.currency,
                result.status.value,
                result.message_key or "ok",
                self._monotonic() - started,
            )
            return result

    def cancel(self) -> None:
        """Ask the running charge to stop (returns at once; the charging thread tells the reader)."""
        with self._state:
            if self._busy:
                self._cancel.set()
                log.info("charge cancel requested")

    def status(self, reference: str) -> PaymentResult | None:
        """What Stripe knows about the charges made for ``reference``: an approval wins, else the latest.

        Raises DeviceTimeout / DeviceOperationError when Stripe cannot be asked (that is not "nothing")."""
        try:
            intents = self._intents_for(reference, search=True)
            results = [self._result_of(intent, reference) for intent in intents]
        except StripeTimeout as exc:
            raise DeviceTimeout(f"payment status for {reference}: {exc}") from exc
        except StripeError as exc:
            raise DeviceOperationError(f"payment status for {reference}: {exc}") from exc
        known = [r for r in results if r is not None]
        for result in known:
            if result.status is PaymentStatus.APPROVED:
                return result
        return known[-1] if known else None

    def health(self) -> DeviceHealth:
        try:
            reader = self._api.get(self._reader_path)
        except StripeApiError as exc:
            detail = "auth_failed" if exc.status in (401, 403) else "reader_not_found" if exc.status == 404 else (
                "service_error"
            )
            return DeviceHealth("payment", self.backend, HealthStatus.FAULT, detail, self._last_error)
        except StripeError:
            return DeviceHealth("payment", self.backend, HealthStatus.FAULT, "service_unreachable",
                                self._last_error)
        if reader.get("status") != "online":
            return DeviceHealth("payment", self.backend, HealthStatus.FAULT, "terminal_offline", self._last_error)
        return DeviceHealth("payment", self.backend, HealthStatus.OK, "", self._last_error)

    # -- one charge ---------------------------------------------------------------------------------------
    def _charge(self, request: PaymentRequest) -> PaymentResult:
        reference = request.reference
        try:
            # Whatever was made for this reference before (a lost answer, a restart): an approval stands.
            for intent in self._intents_for(reference, search=False):
                self._stop_if_approved(intent, request)
            intent = self._create_intent(request)
            self._stop_if_approved(intent, request)
            if intent.get("status") == "canceled":
                return self._fail(request, PaymentStatus.ERROR, "payment_cancelled")
            if self._cancel.is_set():
                return self._fail(request, PaymentStatus.CANCELLED)
            self._start_on_reader(intent, request)
            return self._await(intent["id"], request)
        except StripeUnreachable:
            return self._fail(request, PaymentStatus.ERROR, "terminal_offline")
        except StripeTimeout:
            return self._fail(request, PaymentStatus.TIMEOUT)  # unknown: the next attempt asks first
        except StripeApiError as exc:
            log.warning("stripe refused: HTTP %d %s %s", exc.status, exc.type, exc.code)
            key = "terminal_offline" if exc.code == "terminal_reader_offline" else "terminal_error"
            return self._fail(request, PaymentStatus.ERROR, key)

    def _create_intent(self, request: PaymentRequest) -> JSON:
        amount = request.amount
        key = f"kiosk-pi-{request.reference}-{amount.cents}{amount.currency.lower()}"
        intent = self._api.post(
            "/v1/payment_intents",
            {
                "amount": amount.cents,
                "currency": amount.currency.lower(),
                "payment_method_types": ["card_present"],
                "capture_method": "automatic",
                "description": request.description,
                "metadata": {METADATA_KEY: request.reference},
            },
            idempotency_key=key,
        )
        with self._state:
            known = self._intents.setdefault(request.reference, [])
            if intent["id"] not in known:
                known.append(intent["id"])
        return intent

    def _start_on_reader(self, intent: JSON, request: PaymentRequest) -> None:
        reader = self._api.get(self._reader_path)
        action = reader.get("action") or {}
        if action.get("status") == "in_progress":
            if _action_intent(action) == intent["id"]:
                log.info("reader already processing the payment for %s: waiting for it", request.reference)
                return
            if _action_intent(action) in self._intents.get(request.reference, ()):
                # An earlier attempt of this check-in (another amount) still waits on the reader: end it.
                self._api.post(f"{self._reader_path}/cancel_action")
        if reader.get("status") == "offline":
            raise _Outcome(self._fail(request, PaymentStatus.ERROR, "terminal_offline"))
        params: dict[str, Any] = {"payment_intent": intent["id"]}
        if self._customer_cancellation:
            params["process_config"] = {"enable_customer_cancellation": True}
        try:
            self._api.post(
                f"{self._reader_path}/process_payment_intent",
                params,
                idempotency_key=f"kiosk-process-{intent['id']}-{uuid.uuid4().hex}",  # each attempt is new
            )
        except StripeApiError as exc:
            if exc.code == "payment_intent_unexpected_state":  # it moved on meanwhile (e.g. succeeded)
                self._stop_if_approved(self._intent(intent["id"]), request)
            if exc.code == "terminal_reader_busy":
                log.warning("reader busy with another action: payment for %s not started", request.reference)
                raise _Outcome(self._fail(request, PaymentStatus.ERROR, "terminal_busy")) from exc
            raise

    def _await(self, intent_id: str, request: PaymentRequest) -> PaymentResult:
        deadline = self._monotonic() + self._payment_timeout
        while True:
            if self._cancel.is_set():
                return self._stop_action(intent_id, request, PaymentStatus.CANCELLED)
            if self._monotonic() >= deadline:
                log.info("no card presented for %s within %g s: cancelling", request.reference,
                         self._payment_timeout)
                return self._stop_action(intent_id, request, PaymentStatus.TIMEOUT)
            action = self._api.get(self._reader_path).get("action")
            if not action or _action_intent(action) != intent_id:
                # Cleared or replaced (someone cancelled on the dashboard, the reader restarted).
                return self._settle(intent_id, request, PaymentStatus.CANCELLED)
            status = action.get("status")
            if status == "succeeded":
                return self._settle(intent_id, request, PaymentStatus.ERROR)
            if status == "failed":
                return self._failed_action(intent_id, request, str(action.get("failure_code") or ""))
            self._cancel.wait(self._poll)

    def _failed_action(self, intent_id: str, request: PaymentRequest, code: str) -> PaymentResult:
        intent = self._intent(intent_id)
        self._stop_if_approved(intent, request)
        error = intent.get("last_payment_error") or {}
        if "cancel" in code:
            return self._fail(request, PaymentStatus.CANCELLED)
        if "timeout" in code or "timed_out" in code:
            return self._fail(request, PaymentStatus.TIMEOUT)
        if code in _DECLINES or error.get("type") == "card_error":
            return self._fail(request, PaymentStatus.DECLINED)
        log.warning("reader action failed for %s: %s", request.reference, code or "no code")
        return self._fail(request, PaymentStatus.ERROR)

    def _stop_action(self, intent_id: str, request: PaymentRequest, otherwise: PaymentStatus) -> PaymentResult:
        try:
            self._api.post(f"{self._reader_path}/cancel_action")
        except StripeApiError as exc:  # nothing left to cancel: the action ended meanwhile
            log.info("cancel_action refused: %s", exc.code or exc.status)
        return self._settle(intent_id, request, otherwise)

    def _settle(self, intent_id: str, request: PaymentRequest, otherwise: PaymentStatus) -> PaymentResult:
        """Read the PaymentIntent: approved if it succeeded, else ``otherwise``."""
        intent = self._intent(intent_id)
        self._stop_if_approved(intent, request)
        if intent.get("status") == "processing":
            return self._fail(request, PaymentStatus.TIMEOUT)  # not final yet: the next attempt asks again
        return self._fail(request, otherwise)

    # -- results ------------------------------------------------------------------------------------------
    def _stop_if_approved(self, intent: JSON, request: PaymentRequest) -> None:
        if intent.get("status") == "succeeded":
            if not isinstance(intent.get("latest_charge"), Mapping):
                intent = self._intent(str(intent["id"]))
            raise _Outcome(self._approved(intent, request.reference))

    def _approved(self, intent: JSON, reference: str) -> PaymentResult:
        charge = intent.get("latest_charge")
        details: Mapping[str, Any] = {}
        if isinstance(charge, Mapping):
            method = charge.get("payment_method_details") or {}
            details = method.get("card_present") or method.get("interac_present") or {}
        receipt = details.get("receipt") or {}
        auth = receipt.get("authorization_code") or (charge or {}).get("authorization_code") or ""
        return PaymentResult(
            status=PaymentStatus.APPROVED,
            amount=_money(intent),
            reference=reference,
            processor_reference=str(intent["id"]),
            brand=str(details.get("brand") or "").upper(),
            last4=str(details.get("last4") or "")[-4:],
            auth_code=str(auth),
            at=self._clock(),
        )

    def _result_of(self, intent: JSON, reference: str) -> PaymentResult | None:
        status = intent.get("status")
        if status == "succeeded":
            if not isinstance(intent.get("latest_charge"), Mapping):
                intent = self._intent(str(intent["id"]))
            return self._approved(intent, reference)
        if status == "canceled":
            return self._result(reference, _money(intent), PaymentStatus.CANCELLED)
        if status == "requires_payment_method" and intent.get("last_payment_error"):
            return self._result(reference, _money(intent), PaymentStatus.DECLINED)
        return None  # not charged (yet)

    def _fail(self, request: PaymentRequest, status: PaymentStatus, key: str = "") -> PaymentResult:
        return self._result(request.reference, request.amount, status, key)

    def _result(self, reference: str, amount: Money, status: PaymentStatus, key: str = "") -> PaymentResult:
        return PaymentResult(status=status, amount=amount, reference=reference,
                             message_key=key or _KEYS[status], at=self._clock())

    # -- reading ------------------------------------------------------------------------------------------
    def _intent(self, intent_id: str) -> JSON:
        return self._api.get(
            f"/v1/payment_intents/{StripeClient.quote_id(intent_id)}", {"expand": ["latest_charge"]}
        )

    def _intents_for(self, reference: str, *, search: bool) -> list[JSON]:
        with self._state:
            known = list(self._intents.get(reference, ()))
        if known:
            return [self._intent(i) for i in known]
        if not search:
            return []
        query = f"metadata['{METADATA_KEY}']:'{reference}'"
        found = self._api.get("/v1/payment_intents/search", {"query": query, "expand": ["data.latest_charge"]})
        intents = [i for i in found.get("data", []) if isinstance(i, dict)]
        with self._state:
            self._intents[reference] = [str(i["id"]) for i in intents]
        return intents


_DECLINES = frozenset(
    {"card_declined", "expired_card", "incorrect_pin", "insufficient_funds", "card_not_supported",
     "do_not_honor", "generic_decline", "pin_try_exceeded", "offline_pin_required", "online_or_offline_pin_required",
     "lost_card", "stolen_card", "processing_error", "call_issuer"}
)


def _action_intent(action: Mapping[str, Any]) -> str:
    process = action.get("process_payment_intent") or {}
    return str(process.get("payment_intent") or "")


def _money(intent: Mapping[str, Any]) -> Money:
    return Money(int(intent.get("amount") or 0), str(intent.get("currency") or "usd").upper())


def _read_key(settings: StripeSettings) -> str:
    if settings.api_key_env and os.environ.get(settings.api_key_env):
        return os.environ[settings.api_key_env].strip()
    path = settings.api_key_file
    if path is None:
        raise DeviceSetupError(
            f"payment backend 'stripe': environment variable {settings.api_key_env!r} is not set"
        )
    try:
        mode = path.stat().st_mode
        key = path.read_text().strip()
    except OSError as exc:
        raise DeviceSetupError(f"payment backend 'stripe': cannot read api_key_file {str(path)!r}: "
                               f"{type(exc).__name__}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DeviceSetupError(
            f"payment backend 'stripe': api_key_file {str(path)!r} is readable by others; chmod 600 it"
        )
    if not key:
        raise DeviceSetupError(f"payment backend 'stripe': api_key_file {str(path)!r} is empty")
    return key
