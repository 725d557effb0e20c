"""Whole check-ins through the real runtime (no Kivy) with real device backends: a network printer stand-in
(records ESC/POS, answers DLE EOT), the Stripe Terminal backend against a stand-in of Stripe's API, the real
FHIR sandbox. Each device "unplugged" mid-check-in (its server stopped) leaves the patient a way forward, and
device health (what the status screen and the heartbeat show) says which one. No card number anywhere on
the kiosk side: logs, files, printed bytes, what reaches the back-end.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "devices"))

from printer_server import PrinterServer
from returning import answer, e2e_runtime, scan_returning_patient
from stripe_standin import SECRET_KEY, StripeStandIn

from devices.health import HealthStatus
from devices.printer.escpos_decode import parse
from devices.printer.receipt_layout import Receipt
from kiosk.flow.results import Done, Result, Show, Step
from kiosk.flow.types import PaymentStatus
from kiosk.runtime.build import Runtime
from portal_client.sandbox.seed import SeedInfo

CARDS = ("4242424242424242", "4000000000000002", "5555555555554444")
DIGIT_RUNS = re.compile(rb"(?<!\d)\d{13,19}(?!\d)")



@pytest.fixture
def printer() -> Iterator[PrinterServer]:
    with PrinterServer() as server:
        yield server


@pytest.fixture
def stripe() -> Iterator[StripeStandIn]:
    standin = StripeStandIn()
    yield standin
    standin.stop()


@pytest.fixture
def runtime(
    sandbox_seed: SeedInfo, printer: PrinterServer, stripe: StripeStandIn, tmp_path: Path
) -> Iterator[Runtime]:
    key = tmp_path / "keys" / "stripe.key"
    key.parent.mkdir()
    key.write_text(SECRET_KEY)
    key.chmod(0o600)
    runtime = e2e_runtime(
        sandbox_seed,
        sandbox_seed.base_url,
        tmp_path,
        devices={
            "printer": {"backend": "network", "host": printer.host, "port": printer.port, "timeout": 2.0,
                        "status_timeout": 0.5},
            "payment": {"backend": "stripe", "reader_id": stripe.reader_id, "api_key_file": str(key),
                        "api_base": stripe.api_base, "poll_interval": 0.01, "http_timeout": 1.0},
        },
    )
    yield runtime
    runtime.stop()


def until(runtime: Runtime, step: Step) -> Show:
    """Identify the demo's returning patient and walk to ``step``."""
    result = scan_returning_patient(runtime)
    while isinstance(result, Show) and result.step != step:
        result = runtime.flow.submit(answer(result))
    assert isinstance(result, Show) and result.step == step, result
    return result


def pay_with(runtime: Runtime, stripe: StripeStandIn, number: str) -> Result:
    """The patient taps "pay" (the flow blocks on the terminal, as on the worker thread) and taps a card."""
    out: list[Result] = []
    thread = threading.Thread(target=lambda: out.append(runtime.flow.submit({"action": "pay"})), daemon=True)
    thread.start()
    assert stripe.action_started.wait(10), "the payment never reached the reader"
    stripe.action_started.clear()
    stripe.present_card(number)
    thread.join(15)
    assert out, "pay did not return"
    return out[0]


def health_of(runtime: Runtime, kind: str) -> tuple[HealthStatus, str]:
    h = next(h for h in runtime.health() if h.kind == kind)
    return h.status, h.detail


def assert_no_card_number(blob: bytes, where: str) -> None:
    for card in CARDS:
        assert card.encode() not in blob, f"a card number in {where}"
    for run in DIGIT_RUNS.findall(blob):
        digits = run.decode()
        assert not luhn_valid(digits), f"a card-like number in {where}: {digits[:4]}…"


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def test_checkin_with_card_payment_and_printed_ticket_leaves_no_card_number(
    runtime: Runtime, printer: PrinterServer, stripe: StripeStandIn, sandbox_seed: SeedInfo,
    caplog: pytest.LogCaptureFixture, tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    until(runtime, Step.PAYMENT)
    declined = pay_with(runtime, stripe, "4000000000000002")
    assert isinstance(declined, Show) and declined.step == Step.PAYMENT
    assert declined.errors["base"] == "card_declined"  # another card, or the desk: the screen offers both
    ticket = pay_with(runtime, stripe, "4242424242424242")
    assert isinstance(ticket, Show) and ticket.step == Step.TICKET and not ticket.errors
    assert ticket.data["printed"]
    payment = runtime.flow.session.payment
    [intent] = stripe.intents.values()
    assert payment is not None and payment.status is PaymentStatus.APPROVED
    assert (payment.processor_reference, payment.brand, payment.last4) == (intent["id"], "VISA", "4242")
    done = runtime.flow.submit({"action": "done"})
    assert isinstance(done, Done)

    assert printer.wait_closed(len(printer.connections))
    [job] = printer.jobs
    doc = parse(job)
    assert ticket.data["queue_number"] in doc.texts and doc.cuts
    assert doc.qr_codes[0].payload.startswith("CKI-TICKET:")
    assert (stripe.charge_count, stripe.process_calls) == (1, 2)

    known = runtime.devices.payment.status(payment.reference)
    assert replace(known, at=payment.at) == payment  # what Stripe knows is what the kiosk recorded
    runtime.devices.printer.print_receipt(Receipt("Riverside Family Medicine", payment))
    assert printer.wait_closed(len(printer.connections))
    assert "Card: VISA **** 4242" in parse(printer.jobs[-1]).texts

    outbox_files = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert runtime.sync.drain_once().sent == 1
    reconciliations = httpx.get(f"{sandbox_seed.base_url}/PaymentReconciliation", timeout=10).json()["entry"]
    [reconciliation] = [e["resource"] for e in reconciliations]
    assert reconciliation["paymentIdentifier"]["value"] == intent["id"]  # the result went into the bundle
    assert reconciliation["paymentAmount"]["value"] == 25

    assert stripe.presented == ["4000000000000002", "4242424242424242"]  # the reader saw the cards ...
    kiosk_side = {  # ... the kiosk never did
        "logs": caplog.text.encode(),
        "data folder": outbox_files + b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()),
        "printed bytes": b"".join(printer.jobs),
        "back-end": httpx.get(f"{sandbox_seed.base_url}/PaymentReconciliation", timeout=10).content,
    }
    for where, blob in kiosk_side.items():
        assert_no_card_number(blob, where)


def test_printer_unplugged_mid_checkin_shows_the_number_and_the_fault(
    runtime: Runtime, printer: PrinterServer
) -> None:
    until(runtime, Step.PAYMENT)
    assert health_of(runtime, "printer") == (HealthStatus.OK, "")
    printer.stop()  # someone pulls the printer's cable while the patient is at the payment screen
    ticket = runtime.flow.submit({"action": "pay_at_desk"})
    assert isinstance(ticket, Show) and ticket.step == Step.TICKET
    assert ticket.errors["base"] == "printer_failed"  # the number goes on screen, large, and staff are alerted
    assert ticket.data["queue_number"] and not ticket.data["printed"]
    assert isinstance(runtime.flow.submit({"action": "done"}), Done)  # the patient is checked in all the same
    assert health_of(runtime, "printer") == (HealthStatus.FAULT, "offline")
    assert runtime.outbox.counts().depth == 1  # the check-in is kept for the back-end


def test_payment_service_gone_mid_checkin_offers_the_desk(
    runtime: Runtime, printer: PrinterServer, stripe: StripeStandIn
) -> None:
    until(runtime, Step.PAYMENT)
    stripe.stop()  # the terminal's service is unreachable
    failed = runtime.flow.submit({"action": "pay"})
    assert isinstance(failed, Show) and failed.step == Step.PAYMENT
    assert failed.errors["base"] == "terminal_error"
    assert health_of(runtime, "payment") == (HealthStatus.FAULT, "service_unreachable")
    ticket = runtime.flow.submit({"action": "pay_at_desk"})
    assert isinstance(ticket, Show) and ticket.step == Step.TICKET and ticket.data["printed"]
    assert isinstance(runtime.flow.submit({"action": "done"}), Done)
    assert printer.wait_closed(len(printer.connections)) and len(printer.jobs) == 1
    assert stripe.charge_count == 0
