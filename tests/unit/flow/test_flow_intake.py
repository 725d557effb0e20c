"""Demographics, insurance and consents: what the patient types or signs, and what the record keeps."""

from __future__ import annotations

from typing import Any

import pytest
from flow_driver import GOOD_SIGNATURE, Practice, answer, desk, done, make_practice, show, to_step
from flow_fakes import MARIA, NOW, FakeDirectory

from kiosk.flow.results import Show, Step
from kiosk.flow.types import Address, CoverageChoice, Demographics, DeskReason, Money

VALID = {
    "phone": "617-555-0199",
    "email": "mj@example.net",
    "line1": "22 Pier Road",
    "line2": "Apt 4",
    "city": "Salem",
    "state": "ma",
    "postal_code": "01970-1234",
}


def finish_from(p: Practice, current: Show) -> None:
    result: Any = current
    while isinstance(result, Show):
        result = answer(p, result)
    done(result)


# -- demographics -----------------------------------------------------------------------------------
def test_demographics_invalid_then_valid(practice: Practice) -> None:
    p = practice
    page = to_step(p, Step.DEMOGRAPHICS)
    assert page.data["values"] == {
        "phone": "(617) 555-0100",
        "email": "maria@example.org",
        "line1": "1 Harbor Street",
        "line2": "",
        "city": "Boston",
        "state": "MA",
        "postal_code": "02110",
    }
    bad = {
        "phone": "555-01",
        "email": "mj@",
        "line1": " ",
        "line2": "",
        "city": "",
        "state": "XX",
        "postal_code": "2110",
    }
    r = show(p.flow.submit({"action": "save", "values": bad}), Step.DEMOGRAPHICS)
    assert r.errors == {
        "phone": "invalid_phone",
        "email": "invalid_email",
        "line1": "required",
        "city": "required",
        "state": "invalid_state",
        "postal_code": "invalid_postal_code",
    }
    r = show(p.flow.submit({"action": "save", "values": {**VALID, "state": ""}}), Step.DEMOGRAPHICS)
    assert r.errors == {"state": "required"}
    show(p.flow.submit({"action": "save", "values": VALID}), Step.INSURANCE)
    assert p.flow.session.demographics == Demographics(
        phone="617-555-0199",
        email="mj@example.net",
        address=Address(
            line1="22 Pier Road",
            line2="Apt 4",
            city="Salem",
            state="MA",
            postal_code="01970-1234",
            country="US",
        ),
    )
    # Back shows what the patient entered, not the old values.
    back = show(p.flow.back(), Step.DEMOGRAPHICS)
    assert back.data["values"]["city"] == "Salem"
    finish_from(p, show(p.flow.submit({"action": "save", "values": VALID}), Step.INSURANCE))
    assert p.sink.records[0].demographics is not None
    assert p.sink.records[0].demographics.address.city == "Salem"


@pytest.mark.parametrize("phone", ["+1 (617) 555-0199", "16175550199", "617.555.0199"])
def test_phone_formats_accepted(practice: Practice, phone: str) -> None:
    to_step(practice, Step.DEMOGRAPHICS)
    show(practice.flow.submit({"action": "save", "values": {**VALID, "phone": phone}}), Step.INSURANCE)


def test_saving_unchanged_values_records_no_change(practice: Practice) -> None:
    p = practice
    to_step(p, Step.DEMOGRAPHICS)
    page = p.flow.current
    assert isinstance(page, Show)
    show(p.flow.submit({"action": "save", "values": dict(page.data["values"])}), Step.INSURANCE)
    assert p.flow.session.demographics is None


def test_demographics_save_without_values(practice: Practice) -> None:
    to_step(practice, Step.DEMOGRAPHICS)
    r = show(practice.flow.submit({"action": "save"}), Step.DEMOGRAPHICS)
    assert r.errors == {"base": "invalid_input"}


# -- insurance --------------------------------------------------------------------------------------
def test_insurance_same(practice: Practice) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    pay = show(p.flow.submit({"action": "same"}), Step.FORMS)
    assert pay is not None
    assert (
        p.flow.session.insurance is not None and p.flow.session.insurance.choice == CoverageChoice.UNCHANGED
    )


def test_insurance_same_without_coverage_on_file() -> None:
    directory = FakeDirectory()
    directory.coverage.clear()
    p = make_practice(directory=directory)
    page = to_step(p, Step.INSURANCE)
    assert page.data == {"on_file": None}
    r = show(p.flow.submit({"action": "same"}), Step.INSURANCE)
    assert r.errors == {"base": "no_coverage_on_file"}


def test_insurance_manual(practice: Practice) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    r = show(p.flow.submit({"action": "manual", "payer_name": " ", "member_id": ""}), Step.INSURANCE)
    assert r.errors == {"payer_name": "required", "member_id": "required"}
    r = show(p.flow.submit({"action": "manual", "payer_name": "Blue", "member_id": "ab$%"}), Step.INSURANCE)
    assert r.errors == {"member_id": "invalid_member_id"}
    show(
        p.flow.submit(
            {
                "action": "manual",
                "payer_name": "Blue Harbor",
                "member_id": "BH 1234-5678",
                "group_number": "77",
                "subscriber_name": "María García",
            }
        ),
        Step.FORMS,
    )
    ins = p.flow.session.insurance
    assert ins is not None and ins.choice == CoverageChoice.UPDATED and ins.coverage is not None
    assert (ins.coverage.payer_name, ins.coverage.member_id, ins.coverage.group_number) == (
        "Blue Harbor",
        "BH 1234-5678",
        "77",
    )
    assert ins.coverage.id is None
    payment = to_step_from_current(p, Step.PAYMENT)
    assert (payment.data["amount_cents"], payment.data["kind"]) == (3000, "copay")  # the table, not on-file


@pytest.mark.parametrize(
    ("action", "choice", "cents", "kind"),
    [
        ("self_pay", CoverageChoice.SELF_PAY, 12000, "self_pay"),
        ("no_card", CoverageChoice.NO_CARD, 3000, "copay"),
    ],
)
def test_insurance_self_pay_and_no_card(
    practice: Practice, action: str, choice: CoverageChoice, cents: int, kind: str
) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    show(p.flow.submit({"action": action}), Step.FORMS)
    ins = p.flow.session.insurance
    assert ins is not None and ins.choice == choice and ins.coverage is None
    payment = to_step_from_current(p, Step.PAYMENT)
    assert (payment.data["amount_cents"], payment.data["kind"]) == (cents, kind)
    show(p.flow.submit({"action": "pay"}), Step.TICKET)
    assert p.terminal is not None and p.terminal.requests[0].description == (
        "Self-pay" if kind == "self_pay" else "Co-pay"
    )
    assert p.terminal.requests[0].amount == Money(cents)


def to_step_from_current(p: Practice, step: Step) -> Show:
    current = p.flow.current
    while isinstance(current, Show) and current.step != step:
        current = answer(p, current)
    return show(current, step)


# -- consents ---------------------------------------------------------------------------------------
def test_consent_missing_and_too_short(practice: Practice) -> None:
    p = practice
    to_step(p, Step.CONSENTS)
    for strokes in ([], None, [[]]):
        r = show(p.flow.submit({**GOOD_SIGNATURE, "strokes": strokes}), Step.CONSENTS)
        assert r.errors == {"signature": "signature_missing"}
    dot = [[[100, 100], [101, 101]]]
    r = show(p.flow.submit({**GOOD_SIGNATURE, "strokes": dot}), Step.CONSENTS)
    assert r.errors == {"signature": "signature_too_short"}
    squiggle = [[[100 + i, 100] for i in range(30)]]  # 29 px of ink on an 800 px pad
    r = show(p.flow.submit({**GOOD_SIGNATURE, "strokes": squiggle}), Step.CONSENTS)
    assert r.errors == {"signature": "signature_too_short"}
    for bad in (
        {"strokes": [[["x", 1]]]},
        {"pad_size": None},
        {"png": "not bytes"},
        {"strokes": [[[1e999, 1]]]},
    ):
        r = show(p.flow.submit({**GOOD_SIGNATURE, **bad}), Step.CONSENTS)
        assert r.errors == {"base": "invalid_input"}
    r = show(p.flow.submit(GOOD_SIGNATURE), Step.CONSENTS)
    assert r.data["index"] == 1
    (signed,) = p.flow.session.consents
    assert signed.signature.signed_at == NOW and len(signed.signature.strokes[0]) == 20


def test_consent_back_and_resign(practice: Practice) -> None:
    p = practice
    to_step(p, Step.CONSENTS)
    show(p.flow.submit(GOOD_SIGNATURE), Step.CONSENTS)
    r = show(p.flow.back(), Step.CONSENTS)
    assert r.data["index"] == 0
    show(p.flow.submit(GOOD_SIGNATURE), Step.CONSENTS)
    show(p.flow.submit(GOOD_SIGNATURE), Step.PAYMENT)
    assert [c.document.id for c in p.flow.session.consents] == ["consent-privacy", "consent-treat"]
    # Back from payment shows the last document again; signing it replaces (never duplicates) it.
    r = show(p.flow.back(), Step.CONSENTS)
    assert r.data["index"] == 1
    show(p.flow.submit(GOOD_SIGNATURE), Step.PAYMENT)
    assert [c.document.id for c in p.flow.session.consents] == ["consent-privacy", "consent-treat"]


def test_consent_declined_goes_to_desk_with_everything(practice: Practice) -> None:
    p = practice
    to_step(p, Step.FORMS)
    show(p.flow.submit({"action": "next", "answers": {"1": [True]}}), Step.FORMS)
    to_step_from_current(p, Step.CONSENTS)
    show(p.flow.submit(GOOD_SIGNATURE), Step.CONSENTS)
    result = desk(p.flow.submit({"action": "decline"}), "consent_declined")
    (record,) = p.sink.records
    assert record.needs_staff and record.desk_reason == DeskReason.CONSENT_DECLINED
    assert [c.document.id for c in record.consents] == ["consent-privacy"]
    assert record.insurance is not None and record.responses  # the forms came along
    assert record.payment_deferred is None  # payment was never reached: no amount decided yet
    assert result.summary["printed"] is True
    assert p.printer is not None and p.printer.tickets[0].desk


def test_patient_request_on_payment_keeps_amount_owed(practice: Practice) -> None:
    p = practice
    to_step(p, Step.PAYMENT)
    desk(p.flow.to_desk(), "patient_request")
    (record,) = p.sink.records
    assert record.desk_reason == DeskReason.PATIENT_REQUEST and record.payment_deferred == Money(2500)


def test_to_desk_before_identification_keeps_nothing(practice: Practice) -> None:
    result = desk(practice.flow.to_desk("something_odd"), "patient_request")
    assert result.summary == {
        "queue_number": "",
        "display_name": "",
        "wait_area": "the waiting room",
        "printed": False,
        "checkin_id": "",
        "synced_later": False,
    }
    assert practice.sink.records == [] and practice.queue.days == []
    assert practice.flow.to_desk() is result
    assert MARIA.id not in str(result)
