"""The whole check-in with every step switched on, and what it hands to the outbox, queue and printer."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from flow_driver import GOOD_SIGNATURE, Practice, done, identify, show, to_step
from flow_fakes import COVERAGE, MARIA, MARIA_APPT, NOW

from kiosk.flow.results import Show, Step
from kiosk.flow.types import AnswerKind, CoverageChoice, Money, PaymentStatus


def test_happy_path_every_step(practice: Practice) -> None:
    p = practice
    welcome = show(p.flow.current, Step.WELCOME)
    assert welcome.data == {"languages": ["en", "es"], "language": "en"}
    show(p.flow.submit({"action": "language", "language": "es"}), Step.WELCOME)
    assert p.flow.language == "es"

    ident = show(p.flow.submit({"action": "start"}), Step.IDENTIFY)
    assert ident.data == {"attempts_left": 3, "qr_enabled": True}

    confirm = show(
        p.flow.submit(
            {
                "action": "name_dob",
                "given": "maria jose",
                "family": "Garcia Lopez",
                "birth_date": "1980-04-12",
            }
        ),
        Step.CONFIRM_APPOINTMENT,
    )
    assert confirm.data["first_name"] == "María José"
    assert confirm.data["appointments"] == [
        {
            "id": "appt-maria",
            "start": "2025-03-10T09:15:00-04:00",
            "time_text": "9:15 AM",
            "provider": "Dr. Lee",
            "location": "Suite 200",
            "visit_type": "Followup",
            "selectable": True,
            "reason": "",
        }
    ]

    demo = show(p.flow.submit({"action": "confirm", "appointment_id": "appt-maria"}), Step.DEMOGRAPHICS)
    assert demo.data["values"]["city"] == "Boston"
    insurance = show(p.flow.submit({"action": "confirm"}), Step.INSURANCE)
    assert insurance.data["on_file"] == {
        "payer_name": "Acme Health",
        "member_id_masked": "•••• 6789",
        "group_number": "G-100",
    }

    page = show(p.flow.submit({"action": "same"}), Step.FORMS)
    assert (page.data["questionnaire_index"], page.data["questionnaire_count"]) == (0, 1)
    assert (page.data["page_index"], page.data["page_count"]) == (0, 3)
    assert [i["link_id"] for i in page.data["items"]] == ["1"]
    page = show(p.flow.submit({"action": "next", "answers": {"1": [True]}}), Step.FORMS)
    assert page.data["page_index"] == 1
    assert [i["link_id"] for i in page.data["items"][0]["items"]] == ["2.1", "2.2", "2.3", "2.4"]
    page = show(
        p.flow.submit(
            {
                "action": "next",
                "answers": {
                    "2.1": ["female"],
                    "2.2": ["1980-04-12"],
                    "2.3": ["Spain"],
                    "2.4": [""],
                },
            }
        ),
        Step.FORMS,
    )
    consent = show(
        p.flow.submit({"action": "next", "answers": {"3.1": [False], "3.2": [True]}}), Step.CONSENTS
    )
    assert consent.data == {
        "document": {
            "id": "consent-privacy",
            "title": "Notice of privacy practices",
            "text": "We protect ...",
        },
        "index": 0,
        "count": 2,
    }
    consent = show(p.flow.submit(GOOD_SIGNATURE), Step.CONSENTS)
    assert consent.data["index"] == 1

    payment = show(p.flow.submit(GOOD_SIGNATURE), Step.PAYMENT)
    assert payment.data == {"amount_cents": 2500, "currency": "USD", "kind": "copay", "attempt": 0}

    ticket = show(p.flow.submit({"action": "pay"}), Step.TICKET)
    assert ticket.errors == {}
    assert ticket.data == {
        "queue_number": "A-001",
        "display_name": "María José G.",
        "wait_area": "Waiting area B",
        "issued_at": NOW.isoformat(),
        "printed": True,
    }
    finished = done(p.flow.submit({"action": "done"}))
    assert finished.summary == {
        "queue_number": "A-001",
        "display_name": "María José G.",
        "wait_area": "Waiting area B",
        "printed": True,
        "checkin_id": "checkin0001",
        "synced_later": True,
    }

    # The outbox got one complete record.
    (record,) = p.sink.records
    assert record.checkin_id == "checkin0001" and record.kiosk_id == "kiosk-lobby-1"
    assert record.started_at == NOW and record.completed_at == NOW
    assert record.language == "es"
    assert record.patient == MARIA and record.appointment == MARIA_APPT
    assert record.demographics is None  # unchanged
    assert record.insurance is not None and record.insurance.choice == CoverageChoice.UNCHANGED
    assert record.insurance.coverage == COVERAGE
    assert [c.document.id for c in record.consents] == ["consent-privacy", "consent-treat"]
    assert record.consents[0].signature.pad_size == (800, 300)
    assert record.payment is not None and record.payment.status == PaymentStatus.APPROVED
    assert record.payment.reference == "checkin0001" and record.payment.amount == Money(2500)
    assert record.payment_deferred is None and not record.needs_staff and record.desk_reason is None
    assert record.queue_number == "A-001"
    (response,) = record.responses
    assert (
        response.questionnaire_id == "f201"
        and response.questionnaire_url == "http://hl7.org/fhir/Questionnaire/f201"
    )
    assert [i.link_id for i in response.items] == ["1", "2", "3"]
    general = response.items[1]
    assert [i.link_id for i in general.items] == ["2.1", "2.2", "2.3"]  # the empty 2.4 is left out
    assert general.items[1].answers[0].kind == AnswerKind.DATE
    assert general.items[1].answers[0].value == date(1980, 4, 12)

    # The terminal was asked once, with the check-in id as reference; one number, one ticket.
    assert p.terminal is not None and [r.reference for r in p.terminal.requests] == ["checkin0001"]
    assert p.queue.days == [date(2025, 3, 10)]
    assert p.printer is not None
    (paper,) = p.printer.tickets
    assert (paper.queue_number, paper.display_name, paper.desk) == ("A-001", "María José G.", False)
    assert (paper.wait_area, paper.clinic_name, paper.language) == (
        "Waiting area B",
        "Harbor Family Medicine",
        "es",
    )
    assert paper.checkin_id == "checkin0001"

    # Finished: further input changes nothing until reset.
    assert p.flow.submit({"action": "start"}) is finished
    assert p.flow.back() is finished
    show(p.flow.reset(), Step.WELCOME)
    assert p.flow.language == "en"


def test_no_personal_data_in_logs(practice: Practice, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    p = practice
    show(p.flow.submit({"action": "start"}), Step.IDENTIFY)
    p.flow.submit({"action": "name_dob", "given": "Maria", "family": "Nobody", "birth_date": "1980-04-12"})
    result = to_step(p, Step.TICKET)
    p.flow.submit({"action": "done"})
    p.flow.reset()
    assert isinstance(result, Show)
    text = caplog.text
    assert "checkin0001" in text and "confirm_appointment" in text
    for secret in (
        "María",
        "Maria",
        "García",
        "Garcia",
        "Nobody",
        "1980-04-12",
        "1980",
        "Harbor Street",
        "XJH123456789",
        "maria@example.org",
        "555-0100",
        "Acme",
    ):
        assert secret not in text, secret


def test_input_for_another_step_is_ignored(practice: Practice) -> None:
    p = practice
    current = show(identify(p), Step.CONFIRM_APPOINTMENT)
    assert p.flow.submit({"step": "identify", "action": "name_dob"}) is current
    assert p.flow.current is current


@pytest.mark.parametrize("bad", [None, "text", 42, {}, {"action": 3}, {"action": "fly"}])
def test_bad_input_never_raises(practice: Practice, bad: object) -> None:
    p = practice
    for step in (Step.WELCOME, Step.IDENTIFY):
        if step == Step.IDENTIFY:
            show(p.flow.submit({"action": "start"}), Step.IDENTIFY)
        result = show(p.flow.submit(bad), step)  # type: ignore[arg-type]
        assert result.errors == {"base": "invalid_input"}
    result = to_step(p, Step.DEMOGRAPHICS)
    for step in (Step.DEMOGRAPHICS, Step.INSURANCE, Step.FORMS, Step.CONSENTS, Step.PAYMENT, Step.TICKET):
        result = to_step_again(p, step)
        assert show(p.flow.submit(bad), step).errors == {"base": "invalid_input"}  # type: ignore[arg-type]


def to_step_again(p: Practice, step: Step) -> Show:
    from flow_driver import answer

    current = p.flow.current
    while isinstance(current, Show) and current.step != step:
        current = answer(p, current)
    return show(current, step)
