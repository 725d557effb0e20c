"""The simulated payment terminal: outcomes, cancel from another thread, idempotency per reference."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from devices import registry
from devices.health import HealthStatus
from devices.payment.simulated import SimulatedPaymentTerminal
from kiosk.flow.types import Money, PaymentRequest, PaymentResult, PaymentStatus

NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


def request(reference: str = "c0ffee", cents: int = 2500) -> PaymentRequest:
    return PaymentRequest(amount=Money(cents), reference=reference)


def terminal(**kwargs: object) -> SimulatedPaymentTerminal:
    return SimulatedPaymentTerminal(clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def test_approve_by_default() -> None:
    t = terminal()
    result = t.charge(request())
    assert result.status is PaymentStatus.APPROVED
    assert (result.brand, result.last4) == ("VISA", "4242")
    assert result.processor_reference.startswith("sim_") and len(result.processor_reference) == 36
    assert len(result.auth_code) == 6 and result.auth_code.isdigit()
    assert result.amount == Money(2500) and result.reference == "c0ffee" and result.at == NOW
    assert result.message_key == ""
    assert t.charges == [result]
    assert t.status("c0ffee") == result


def test_a_second_charge_of_an_approved_reference_returns_the_first_result() -> None:
    t = terminal()
    first = t.charge(request("ref-1"))
    again = t.charge(request("ref-1"))
    assert again == first
    assert len(t.charges) == 1  # never charged twice
    other = t.charge(request("ref-2"))
    assert other.processor_reference != first.processor_reference
    assert len(t.charges) == 2


@pytest.mark.parametrize(
    ("outcome", "status", "key"),
    [
        ("decline", PaymentStatus.DECLINED, "card_declined"),
        ("cancel", PaymentStatus.CANCELLED, "payment_cancelled"),
        ("timeout", PaymentStatus.TIMEOUT, "terminal_timeout"),
        ("error", PaymentStatus.ERROR, "terminal_error"),
    ],
)
def test_scripted_outcomes_then_a_retry_may_approve(outcome: str, status: PaymentStatus, key: str) -> None:
    t = terminal()
    t.script(outcome)
    failed = t.charge(request())
    assert (failed.status, failed.message_key) == (status, key)
    assert (failed.processor_reference, failed.brand, failed.last4, failed.auth_code) == ("", "", "", "")
    assert t.status("c0ffee") == failed
    retry = t.charge(request())  # not approved before: the terminal runs it again
    assert retry.status is PaymentStatus.APPROVED
    assert len(t.charges) == 2


def test_outcome_option_applies_to_every_charge() -> None:
    t = registry.create("payment", "simulated", {"outcome": "decline", "brand": "MC", "last4": "0005"})
    assert isinstance(t, SimulatedPaymentTerminal)
    assert t.charge(request("a")).status is PaymentStatus.DECLINED
    assert t.charge(request("b")).status is PaymentStatus.DECLINED
    t.script("approve")
    approved = t.charge(request("c"))
    assert (approved.status, approved.brand, approved.last4) == (PaymentStatus.APPROVED, "MC", "0005")


def test_cancel_from_another_thread_interrupts_a_waiting_charge() -> None:
    t = terminal(delay=3600.0)  # the "patient" would take an hour: only cancel() can end this
    results: list[PaymentResult] = []
    worker = threading.Thread(target=lambda: results.append(t.charge(request())))
    worker.start()
    assert t.waiting.wait(10), "charge never started waiting"
    t.cancel()
    worker.join(10)
    assert not worker.is_alive()
    assert results[0].status is PaymentStatus.CANCELLED
    assert results[0].message_key == "payment_cancelled"
    assert t.status("c0ffee") == results[0]


def test_cancel_without_a_charge_does_not_cancel_the_next_one() -> None:
    t = terminal()
    t.cancel()
    assert t.charge(request()).status is PaymentStatus.APPROVED


def test_lost_approval_is_reported_by_status_and_never_charged_twice() -> None:
    t = terminal()
    t.script("timeout_approved")
    lost = t.charge(request("ref-9"))
    assert lost.status is PaymentStatus.TIMEOUT and lost.processor_reference == ""
    known = t.status("ref-9")
    assert known is not None and known.status is PaymentStatus.APPROVED
    retry = t.charge(request("ref-9"))
    assert retry == known
    assert len(t.charges) == 1


def test_status_of_an_unknown_reference_is_none() -> None:
    assert terminal().status("never-seen") is None


def test_offline_terminal_faults_and_returns_error_without_charging() -> None:
    t = terminal()
    t.set_online(False)
    health = t.health()
    assert health.status is HealthStatus.FAULT and health.detail == "offline"
    result = t.charge(request())
    assert (result.status, result.message_key) == (PaymentStatus.ERROR, "terminal_offline")
    assert t.charges == [] and t.status("c0ffee") is None
    t.set_online(True)
    assert t.health().status is HealthStatus.OK
    assert t.charge(request()).status is PaymentStatus.APPROVED


def test_concurrent_charges_of_one_reference_charge_once() -> None:
    t = terminal()
    results: list[PaymentResult] = []
    threads = [threading.Thread(target=lambda: results.append(t.charge(request("same")))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert len(t.charges) == 1
    assert {r.processor_reference for r in results} == {t.charges[0].processor_reference}


def test_unknown_scripted_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        terminal().script("approve", "explode")
