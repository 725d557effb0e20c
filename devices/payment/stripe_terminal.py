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
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from devices.errors import DeviceOperationError, DeviceTimeout
from devices.health import DeviceHealth, HealthStatus
from devices.payment.stripe_api import (
    JSON,
    StripeApiError,
    StripeClient,
    StripeError,
    StripeTimeout,
    StripeUnreachable,
)
from devices.payment.stripe_objects import (
    MESSAGE_KEYS,
    METADATA_KEY,
    action_intent,
    card_summary,
    failure_status,
    money,
)
from devices.payment.stripe_settings import StripeSettings, parse_options, read_key
from kiosk.flow.types import Money, PaymentRequest, PaymentResult, PaymentStatus

log = logging.getLogger(__name__)

def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        return parse_options(options)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> StripeTerminal:
        settings = cls.check_options(options)
        client = StripeClient(
            read_key(settings),
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
            if action_intent(action) == intent["id"]:
                log.info("reader already processing the payment for %s: waiting for it", request.reference)
                return
            if action_intent(action) in self._intents.get(request.reference, ()):
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
            if not action or action_intent(action) != intent_id:
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
        status = failure_status(code, intent)
        if status is PaymentStatus.ERROR:
            log.warning("reader action failed for %s: %s", request.reference, code or "no code")
        return self._fail(request, status)

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
        card = card_summary(intent)
        return PaymentResult(
            status=PaymentStatus.APPROVED,
            amount=money(intent),
            reference=reference,
            processor_reference=str(intent["id"]),
            brand=card.brand,
            last4=card.last4,
            auth_code=card.auth_code,
            at=self._clock(),
        )

    def _result_of(self, intent: JSON, reference: str) -> PaymentResult | None:
        status = intent.get("status")
        if status == "succeeded":
            if not isinstance(intent.get("latest_charge"), Mapping):
                intent = self._intent(str(intent["id"]))
            return self._approved(intent, reference)
        if status == "canceled":
            return self._result(reference, money(intent), PaymentStatus.CANCELLED)
        if status == "requires_payment_method" and intent.get("last_payment_error"):
            return self._result(reference, money(intent), PaymentStatus.DECLINED)
        return None  # not charged (yet)

    def _fail(self, request: PaymentRequest, status: PaymentStatus, key: str = "") -> PaymentResult:
        return self._result(request.reference, request.amount, status, key)

    def _result(self, reference: str, amount: Money, status: PaymentStatus, key: str = "") -> PaymentResult:
        return PaymentResult(status=status, amount=amount, reference=reference,
                             message_key=key or MESSAGE_KEYS[status], at=self._clock())

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
