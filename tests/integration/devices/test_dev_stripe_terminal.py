"""The Stripe Terminal backend (server-driven reader API) against a local stand-in of Stripe's API.

The test plays the patient at the reader through Stripe's own test helper (present_payment_method with
Stripe's test cards). A charge blocks like on a real kiosk, so it runs on a worker thread here too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from stripe_standin import SECRET_KEY, StripeStandIn

from devices import registry
from devices.errors import DeviceSetupError, DeviceTimeout
from devices.health import HealthStatus
from devices.payment.base import PaymentDevice
from devices.payment.stripe_api import StripeClient
from devices.payment.stripe_terminal import StripeTerminal
from kiosk.flow.ports import PaymentTerminal
from kiosk.flow.types import Money, PaymentRequest, PaymentResult, PaymentStatus

REFERENCE = "9b2d4c6a8e0f5f0c2a9e7d3b4c1a8e6f"
REQUEST = PaymentRequest(Money(2500, "USD"), REFERENCE)
PAN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


class Charging:
    """charge() on a worker thread, as the kiosk's FlowWorker does."""

    def __init__(self, terminal: StripeTerminal, request: PaymentRequest = REQUEST) -> None:
        self.result: PaymentResult | None = None
        self._thread = threading.Thread(target=self._run, args=(terminal, request), daemon=True)
        self._thread.start()

    def _run(self, terminal: StripeTerminal, request: PaymentRequest) -> None:
        self.result = terminal.charge(request)

    def wait(self, timeout: float = 15.0) -> PaymentResult:
        self._thread.join(timeout)
        assert self.result is not None, "charge did not return"
        return self.result


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    s = StripeStandIn()
    yield s
    s.stop()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "stripe.key"
    path.write_text(SECRET_KEY + "\n")
    path.chmod(0o600)
    return path


def make_terminal(standin: StripeStandIn, key_file: Path, **options: Any) -> StripeTerminal:
    terminal = registry.create("payment", "stripe", {
        "reader_id": standin.reader_id, "api_key_file": str(key_file), "api_base": standin.api_base,
        "poll_interval": 0.01, "http_timeout": 2.0, **options,
    })
    assert isinstance(terminal, StripeTerminal)
    return terminal


@pytest.fixture
def terminal(standin: StripeStandIn, key_file: Path) -> StripeTerminal:
    return make_terminal(standin, key_file)


def present(standin: StripeStandIn, number: str) -> None:
    """The patient taps a card: Stripe's test helper, over HTTP like a test against Stripe would."""
    assert standin.action_started.wait(10), "the kiosk never put the payment on the reader"
    standin.action_started.clear()
    response = httpx.post(
        f"{standin.api_base}/v1/test_helpers/terminal/readers/{standin.reader_id}/present_payment_method",
        data={"type": "card_present", "card_present[number]": number},
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text


def test_approved_payment_reports_brand_last4_auth_and_reference(
    standin: StripeStandIn, terminal: StripeTerminal
) -> None:
    assert isinstance(terminal, PaymentDevice) and isinstance(terminal, PaymentTerminal)
    charging = Charging(terminal)
    present(standin, "4242424242424242")
    result = charging.wait()
    assert result.status is PaymentStatus.APPROVED
    assert (result.brand, result.last4, result.amount, result.reference) == ("VISA", "4242", Money(2500, "USD"),
                                                                              REFERENCE)
    [intent] = standin.intents.values()
    charge = standin.charges[intent["latest_charge"]]
    assert result.processor_reference == intent["id"]
    assert result.auth_code == charge["payment_method_details"]["card_present"]["receipt"]["authorization_code"]
    assert intent["metadata"] == {"kiosk_reference": REFERENCE}
    assert (intent["amount"], intent["currency"], intent["capture_method"]) == (2500, "usd", "automatic")
    assert standin.action and standin.action["process_payment_intent"]["process_config"] == {
        "enable_customer_cancellation": "true"
    }
    assert terminal.health().status is HealthStatus.OK


def test_a_second_charge_for_the_same_checkin_returns_the_first_result(
    standin: StripeStandIn, terminal: StripeTerminal
) -> None:
    charging = Charging(terminal)
    present(standin, "4242424242424242")
    first = charging.wait()
    again = terminal.charge(REQUEST)
    assert again.status is PaymentStatus.APPROVED
    assert again.processor_reference == first.processor_reference
    assert (standin.charge_count, standin.process_calls) == (1, 1)


def test_decline_then_another_card_on_the_same_payment(standin: StripeStandIn, terminal: StripeTerminal) -> None:
    charging = Charging(terminal)
    present(standin, "4000000000000002")
    declined = charging.wait()
    assert (declined.status, declined.message_key) == (PaymentStatus.DECLINED, "card_declined")
    assert (declined.brand, declined.last4, declined.processor_reference) == ("", "", "")
    charging = Charging(terminal)
    present(standin, "5555555555554444")
    approved = charging.wait()
    assert (approved.status, approved.brand, approved.last4) == (PaymentStatus.APPROVED, "MASTERCARD", "4444")
    assert len(standin.intents) == 1  # the same PaymentIntent, tried with a second card
    assert (standin.charge_count, standin.process_calls) == (1, 2)


def test_patient_cancels_on_the_reader(standin: StripeStandIn, terminal: StripeTerminal) -> None:
    charging = Charging(terminal)
    assert standin.action_started.wait(10)
    standin.customer_cancels()
    result = charging.wait()
    assert (result.status, result.message_key) == (PaymentStatus.CANCELLED, "payment_cancelled")
    assert standin.charge_count == 0


def test_patient_cancels_on_the_kiosk_screen(standin: StripeStandIn, terminal: StripeTerminal) -> None:
    charging = Charging(terminal)
    assert standin.action_started.wait(10)
    terminal.cancel()  # from "another thread" (the UI): returns at once
    result = charging.wait()
    assert result.status is PaymentStatus.CANCELLED
    assert standin.action is None  # the kiosk told the reader (cancel_action)
    assert ("POST", f"/v1/terminal/readers/{standin.reader_id}/cancel_action", "") in standin.requests
    assert standin.charge_count == 0
    terminal.cancel()  # nothing running: no effect


class TickingClock:
    """A monotonic clock that moves one second each time it is read: payment_timeout passes after a known
    number of polls, without waiting for it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_no_card_within_payment_timeout_cancels_the_reader(standin: StripeStandIn, key_file: Path) -> None:
    terminal = StripeTerminal(
        StripeClient(SECRET_KEY, base_url=standin.api_base, timeout=2.0), standin.reader_id,
        payment_timeout=30, poll_interval=0.001, monotonic=TickingClock(),
    )
    result = terminal.charge(REQUEST)  # nobody taps a card
    assert (result.status, result.message_key) == (PaymentStatus.TIMEOUT, "terminal_timeout")
    polls = [r for r in standin.requests if r[:2] == ("GET", f"/v1/terminal/readers/{standin.reader_id}")]
    assert 20 <= len(polls) <= 31  # one clock reading per poll: the reader was asked until the time was up
    assert standin.action is None and standin.charge_count == 0  # the kiosk cancelled the reader's action


def test_lost_answer_then_status_then_retry_never_charges_twice(
    standin: StripeStandIn, key_file: Path
) -> None:
    terminal = make_terminal(standin, key_file, http_timeout=0.3)
    charging = Charging(terminal)
    assert standin.action_started.wait(10)
    standin.hang()  # the kiosk's polls get no answer from now on ...
    standin.present_card("4242424242424242")  # ... while the patient pays at the reader
    lost = charging.wait()
    assert (lost.status, lost.message_key) == (PaymentStatus.TIMEOUT, "terminal_timeout")
    with pytest.raises(DeviceTimeout):
        terminal.status(REFERENCE)  # Stripe still unreachable: "unknown", never "nothing"
    standin.release()
    known = terminal.status(REFERENCE)
    assert known is not None and (known.status, known.last4) == (PaymentStatus.APPROVED, "4242")
    retry = terminal.charge(REQUEST)  # the patient taps "try again"
    assert retry.status is PaymentStatus.APPROVED and retry.processor_reference == known.processor_reference
    assert (standin.charge_count, standin.process_calls) == (1, 1)


def test_a_restarted_kiosk_finds_the_earlier_charge(standin: StripeStandIn, key_file: Path) -> None:
    first = make_terminal(standin, key_file, http_timeout=0.3)
    charging = Charging(first)
    assert standin.action_started.wait(10)
    standin.hang()
    standin.present_card("4242424242424242")
    assert charging.wait().status is PaymentStatus.TIMEOUT
    standin.release()
    restarted = make_terminal(standin, key_file)  # no memory of the first attempt
    found = restarted.status(REFERENCE)  # found through the search API (metadata)
    assert found is not None and found.status is PaymentStatus.APPROVED
    again = make_terminal(standin, key_file).charge(REQUEST)  # Idempotency-Key → the same PaymentIntent
    assert again.status is PaymentStatus.APPROVED
    assert (standin.charge_count, standin.process_calls, len(standin.intents)) == (1, 1, 1)
    assert any(key.startswith("kiosk-pi-") for _, _, key in standin.requests)


def test_status_of_an_unknown_reference_is_none(terminal: StripeTerminal) -> None:
    assert terminal.status("never-charged") is None


def test_reader_offline(standin: StripeStandIn, terminal: StripeTerminal) -> None:
    standin.reader_online = False
    result = terminal.charge(REQUEST)
    assert (result.status, result.message_key) == (PaymentStatus.ERROR, "terminal_offline")
    assert (terminal.health().status, terminal.health().detail) == (HealthStatus.FAULT, "terminal_offline")


def test_stripe_unreachable(standin: StripeStandIn, terminal: StripeTerminal) -> None:
    standin.stop()
    result = terminal.charge(REQUEST)
    assert (result.status, result.message_key) == (PaymentStatus.ERROR, "terminal_offline")
    health = terminal.health()
    assert (health.status, health.detail, health.last_error) == (
        HealthStatus.FAULT, "service_unreachable", "terminal_offline"
    )


def test_wrong_key_is_an_auth_fault(standin: StripeStandIn, tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("sk_test_wrong")
    bad.chmod(0o600)
    terminal = make_terminal(standin, bad)
    assert terminal.health().detail == "auth_failed"
    assert terminal.charge(REQUEST).status is PaymentStatus.ERROR


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"reader_id": "reader-1", "api_key_file": "/k"}, "option 'reader_id'"),
        ({"reader_id": "tmr_1"}, "option 'api_key_file'"),
        ({"reader_id": "tmr_1", "api_key_env": "K", "api_base": "http://stripe.example"}, "option 'api_base'"),
        ({"reader_id": "tmr_1", "api_key_env": "K", "payment_timeout": 0}, "option 'payment_timeout'"),
        ({"reader_id": "tmr_1", "api_key_env": "K", "tip": True}, "unknown option(s) 'tip'"),
    ],
)
def test_bad_options(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DeviceSetupError) as err:
        registry.create("payment", "stripe", options)
    assert fragment in str(err.value)


def test_key_file_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "stripe.key"
    path.write_text(SECRET_KEY)
    path.chmod(0o644)
    options = {"reader_id": "tmr_1", "api_key_file": str(path)}
    with pytest.raises(DeviceSetupError, match="readable by others"):
        registry.create("payment", "stripe", options)
    monkeypatch.setenv("KIOSK_STRIPE_KEY", SECRET_KEY)  # the environment variable wins when set
    assert registry.create("payment", "stripe", {**options, "api_key_env": "KIOSK_STRIPE_KEY"})
    assert SECRET_KEY not in repr(StripeTerminal.check_options(options))


def test_no_card_number_reaches_the_kiosk(
    standin: StripeStandIn, terminal: StripeTerminal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    results: list[PaymentResult] = []
    for number, action in (("4000000000000002", None), ("4242424242424242", None), (None, standin.customer_cancels)):
        request = PaymentRequest(Money(1900, "USD"), f"ref-{len(results)}")
        charging = Charging(terminal, request)
        if number:
            present(standin, number)
        else:
            assert standin.action_started.wait(10)
            assert action is not None
            action()
        results.append(charging.wait())
        results.append(terminal.status(request.reference) or results[-1])
    assert [r.status for r in results[::2]] == [PaymentStatus.DECLINED, PaymentStatus.APPROVED,
                                                PaymentStatus.CANCELLED]
    assert standin.presented == ["4000000000000002", "4242424242424242"]  # the reader saw them ...
    kiosk_side = "\n".join([caplog.text, *(repr(r) for r in results), *(str(vars(r)) for r in results)])
    assert_no_card_number(kiosk_side)  # ... the kiosk did not


def assert_no_card_number(text: str) -> None:
    """No Luhn-valid 13-19 digit run (a card number) and none of Stripe's test cards in ``text``."""
    for candidate in PAN.findall(text):
        assert not luhn_valid(candidate), f"a card number appears kiosk-side: {candidate[:4]}…"
    for number in ("4242424242424242", "4000000000000002", "5555555555554444"):
        assert number not in text


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
