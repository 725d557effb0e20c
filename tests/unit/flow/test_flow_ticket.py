"""The ticket step and the desk hand-off when the printer or the outbox fails; steps switched off."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flow_driver import Practice, answer, desk, done, identify, make_practice, show, to_step
from flow_fakes import FakeDirectory, FakePrinter, FakeSink

from kiosk.flow.config import StepSwitches
from kiosk.flow.results import Show, Step
from kiosk.flow.types import DeskReason, Money


@pytest.mark.parametrize("printer", [FakePrinter(fail_reason="out_of_paper"), FakePrinter(crash=True)])
def test_printer_failure_shows_number_on_screen(printer: FakePrinter) -> None:
    p = make_practice(printer=printer)
    ticket = show(to_step(p, Step.TICKET) and p.flow.current, Step.TICKET)
    assert ticket.errors == {"base": "printer_failed"}
    assert ticket.data["printed"] is False and ticket.data["queue_number"] == "A-001"
    result = done(p.flow.submit({"action": "done"}))
    assert result.summary["printed"] is False and result.summary["synced_later"] is True
    assert len(p.sink.records) == 1


def test_no_printer_is_not_an_error() -> None:
    p = make_practice(printer=None)
    ticket = to_step(p, Step.TICKET)
    assert ticket.errors == {} and ticket.data["printed"] is False


def test_storage_error_then_retry_on_done() -> None:
    sink = FakeSink(fail_times=1)
    p = make_practice(sink=sink)
    ticket = to_step(p, Step.TICKET)
    assert ticket.errors == {"base": "storage_error"}
    assert ticket.data["queue_number"] == "A-001" and ticket.data["printed"] is True
    assert sink.records == [] and p.flow.session.record is not None
    result = done(p.flow.submit({"action": "done"}))
    assert result.summary["synced_later"] is True
    (record,) = sink.records
    assert record.checkin_id == "checkin0001" and record.queue_number == "A-001" and not record.needs_staff
    assert p.queue.days == [p.clock.now().date()]  # one number only
    assert p.printer is not None and len(p.printer.tickets) == 1


def test_storage_error_twice_sends_to_desk() -> None:
    sink = FakeSink(fail_times=5)
    p = make_practice(sink=sink)
    to_step(p, Step.TICKET)
    result = desk(p.flow.submit({"action": "done"}), "storage_error")
    assert result.summary["synced_later"] is False and result.summary["queue_number"] == "A-001"
    assert p.queue.days == [p.clock.now().date()]
    assert p.printer is not None and len(p.printer.tickets) == 1  # no second (desk) ticket
    assert sink.attempts == 3  # ticket, retry on done, the desk hand-off


def test_desk_path_survives_printer_and_storage_failures() -> None:
    p = make_practice(printer=FakePrinter(fail_reason="offline"), sink=FakeSink(fail_times=1))
    p.directory.fail.add("appointments_on")
    result = desk(identify(p), "backend_unavailable")
    assert result.summary["printed"] is False and result.summary["synced_later"] is False
    assert result.summary["display_name"] == "María José G."


def test_help_on_ticket_screen_keeps_one_number_and_one_ticket(practice: Practice) -> None:
    p = practice
    to_step(p, Step.TICKET)
    result = desk(p.flow.to_desk(), "patient_request")
    assert result.summary["queue_number"] == "A-001" and result.summary["printed"] is True
    assert len(p.queue.days) == 1
    assert p.printer is not None and [t.desk for t in p.printer.tickets] == [False]
    assert [r.needs_staff for r in p.sink.records] == [False, True]
    assert {r.checkin_id for r in p.sink.records} == {"checkin0001"}


def test_wait_area_default_for_unknown_location() -> None:
    from flow_fakes import SAMPLE

    p = make_practice()
    ticket = to_step(p, Step.TICKET, patient=SAMPLE)
    assert ticket.data["wait_area"] == "the waiting room" and ticket.data["display_name"] == "Michael S."


# -- steps switched off -------------------------------------------------------------------------------
def steps_seen(p: Practice) -> list[str]:
    seen: list[str] = []
    current = identify(p)
    while isinstance(current, Show):
        seen.append(str(current.step))
        current = answer(p, current)
    return seen


def test_all_steps_on(practice: Practice) -> None:
    assert steps_seen(practice) == [
        "confirm_appointment",
        "demographics",
        "insurance",
        "forms",
        "forms",
        "forms",
        "consents",
        "consents",
        "payment",
        "ticket",
    ]


@pytest.mark.parametrize(
    ("switch", "missing"),
    [
        ("demographics", {"demographics"}),
        ("insurance", {"insurance"}),
        ("forms", {"forms"}),
        ("consents", {"consents"}),
        ("payment", {"payment"}),
    ],
)
def test_step_switched_off(switch: str, missing: set[str]) -> None:
    p = make_practice(steps=replace(StepSwitches(), **{switch: False}))
    seen = steps_seen(p)
    assert not missing & set(seen) and "ticket" in seen
    calls = {name for name, _ in p.directory.calls}
    if switch == "insurance":
        assert "coverage_for" not in calls
        assert p.sink.records[0].insurance is None
    if switch == "forms":
        assert "questionnaires_due" not in calls and p.sink.records[0].responses == ()
    if switch == "consents":
        assert "consents_due" not in calls
    if switch == "payment":
        assert p.terminal is not None and p.terminal.requests == []
        assert p.sink.records[0].payment_deferred == Money(2500)


def test_everything_off_but_identification_and_confirm() -> None:
    off = StepSwitches(
        demographics=False, insurance=False, forms=False, consents=False, payment=False, ticket=False
    )
    p = make_practice(steps=off)
    show(identify(p), Step.CONFIRM_APPOINTMENT)
    result = done(p.flow.submit({"action": "confirm", "appointment_id": "appt-maria"}))
    assert result.summary["queue_number"] == "" and result.summary["printed"] is False
    assert p.queue.days == [] and p.printer is not None and p.printer.tickets == []
    (record,) = p.sink.records
    assert record.payment_deferred == Money(3000)  # no insurance step: the visit-type table
    assert record.desk_reason is None


def test_ticket_off_and_storage_failure_goes_to_desk() -> None:
    p = make_practice(steps=StepSwitches(ticket=False), sink=FakeSink(fail_times=2))
    current = identify(p)
    while isinstance(current, Show):
        current = answer(p, current)
    desk(current, "storage_error")
    assert p.flow.session.record is not None and p.flow.session.record.desk_reason == DeskReason.STORAGE_ERROR


def test_questionnaires_without_askable_items_are_skipped() -> None:
    directory = FakeDirectory()
    directory.questionnaires = [
        {
            "resourceType": "Questionnaire",
            "id": "empty",
            "item": [{"linkId": "q", "type": "quantity", "text": "How long?"}],
        },
        "not a questionnaire",
    ]  # type: ignore[list-item]
    p = make_practice(directory=directory)
    assert "forms" not in steps_seen(p)
