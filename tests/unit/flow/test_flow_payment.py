"""Payment on the terminal: approve, decline, cancel, timeout, pay at the desk, never charge twice."""

from __future__ import annotations

import pytest
from flow_driver import Practice, answer, done, make_practice, show, to_step
from flow_fakes import FakeDirectory, FakeTerminal

from kiosk.flow.results import Show, Step
from kiosk.flow.types import Money, PaymentStatus


def pay(p: Practice) -> object:
    return p.flow.submit({"action": "pay"})


def test_approved_first_time(practice: Practice) -> None:
    to_step(practice, Step.PAYMENT)
    show(pay(practice), Step.TICKET)
    record = done(practice.flow.submit({"action": "done"}))
    assert record.summary["synced_later"]
    (stored,) = practice.sink.records
    assert stored.payment is not None and stored.payment.processor_reference == "tx-1"
    assert stored.payment.last4 == "4242" and stored.payment_deferred is None


def test_decline_then_approve() -> None:
    p = make_practice(terminal=FakeTerminal(script=[PaymentStatus.DECLINED, PaymentStatus.APPROVED]))
    page = to_step(p, Step.PAYMENT)
    assert page.data["attempt"] == 0
    r = show(pay(p), Step.PAYMENT)
    assert r.errors == {"base": "card_declined"} and r.data["attempt"] == 1
    show(pay(p), Step.TICKET)
    assert p.terminal is not None
    assert [q.reference for q in p.terminal.requests] == ["checkin0001", "checkin0001"]
    assert p.sink.records[0].payment is not None
    assert p.sink.records[0].payment.status == PaymentStatus.APPROVED


def test_cancel_then_pay_at_desk() -> None:
    p = make_practice(terminal=FakeTerminal(script=[PaymentStatus.CANCELLED]))
    to_step(p, Step.PAYMENT)
    assert show(pay(p), Step.PAYMENT).errors == {"base": "payment_cancelled"}
    show(p.flow.submit({"action": "pay_at_desk"}), Step.TICKET)
    record = p.sink.records[0]
    assert record.payment is None and record.payment_deferred == Money(2500)
    assert not record.needs_staff


def test_timeout_then_status_uses_same_reference() -> None:
    """After a timeout the terminal may have charged: asking again with the SAME reference is safe."""
    terminal = FakeTerminal(script=[PaymentStatus.TIMEOUT, PaymentStatus.APPROVED])
    p = make_practice(terminal=terminal)
    to_step(p, Step.PAYMENT)
    assert show(pay(p), Step.PAYMENT).errors == {"base": "terminal_timeout"}
    show(pay(p), Step.TICKET)
    assert [q.reference for q in terminal.requests] == ["checkin0001", "checkin0001"]


def test_error_status_and_driver_crash() -> None:
    terminal = FakeTerminal(script=[PaymentStatus.ERROR])
    p = make_practice(terminal=terminal)
    to_step(p, Step.PAYMENT)
    assert show(pay(p), Step.PAYMENT).errors == {"base": "terminal_error"}
    terminal.raise_error = True
    assert show(pay(p), Step.PAYMENT).errors == {"base": "terminal_error"}
    terminal.raise_error = False
    show(pay(p), Step.TICKET)


def test_never_charge_an_approved_reference_twice(practice: Practice) -> None:
    p = practice
    to_step(p, Step.PAYMENT)
    show(pay(p), Step.TICKET)
    assert p.terminal is not None and len(p.terminal.requests) == 1
    # The ticket screen has no way back to payment; a stray "pay" is invalid there.
    assert show(p.flow.back(), Step.TICKET)
    assert show(pay(p), Step.TICKET).errors == {"base": "invalid_input"}
    assert len(p.terminal.requests) == 1 and p.terminal.charged_again == 0


def test_back_from_payment_and_forward_again_does_not_recharge() -> None:
    terminal = FakeTerminal(script=[PaymentStatus.DECLINED])
    p = make_practice(terminal=terminal)
    to_step(p, Step.PAYMENT)
    show(pay(p), Step.PAYMENT)
    show(p.flow.back(), Step.CONSENTS)
    from flow_driver import GOOD_SIGNATURE

    page = show(p.flow.submit(GOOD_SIGNATURE), Step.PAYMENT)
    assert page.data["attempt"] == 1
    show(pay(p), Step.TICKET)
    assert len(terminal.requests) == 2


def test_no_terminal_defers_the_amount() -> None:
    p = make_practice(terminal=None)
    to_step(p, Step.TICKET)
    assert p.flow.session.payment_deferred == Money(2500)
    done(p.flow.submit({"action": "done"}))
    assert p.sink.records[0].payment_deferred == Money(2500)


@pytest.mark.parametrize(
    "config",
    [{"copay_by_visit_type": {"FOLLOWUP": Money(0)}}, {"copay_by_visit_type": {}, "default_copay": None}],
)
def test_nothing_to_collect_skips_payment(config: dict[str, object]) -> None:
    directory = FakeDirectory()
    directory.coverage.clear()
    p = make_practice(directory=directory, **config)  # type: ignore[arg-type]
    to_step(p, Step.INSURANCE)
    show(p.flow.submit({"action": "no_card"}), Step.FORMS)
    current = p.flow.current
    while isinstance(current, Show) and current.step != Step.TICKET:
        assert current.step != Step.PAYMENT
        current = answer(p, current)
    show(current, Step.TICKET)
    assert p.terminal is not None and p.terminal.requests == []
    record = p.sink.records[0]
    assert record.payment is None and record.payment_deferred is None
