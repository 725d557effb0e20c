"""Tablet mode: staff (behind the staff gate) choose a patient from today's schedule or scan a ticket QR, the
patient does the intake, and the tablet ends locked on hand_back until staff release it. Every path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from flow_driver import GOOD_SIGNATURE, show
from flow_fakes import (
    MARIA,
    MARIA_APPT,
    NOW,
    PUBLIC,
    SAMPLE,
    TZ,
    FakeDirectory,
    FakeQueue,
    FakeSink,
    FixedClock,
    Ids,
    appointment,
    make_config,
)

from kiosk.flow.machine import CheckinFlow
from kiosk.flow.ports import Schedule
from kiosk.flow.results import Result, Show, Step
from kiosk.flow.tablet import StaffGate, parse_ticket
from kiosk.flow.types import AppointmentStatus, ScheduledVisit

TICKET_ID = "0123456789abcdef0123456789abcdef"


class FakeSchedule(FakeDirectory):
    def __init__(self) -> None:
        super().__init__()
        self.appointments.append(
            appointment("appt-cancelled", PUBLIC, NOW + timedelta(hours=2), status=AppointmentStatus.CANCELLED)
        )
        self.appointments.append(appointment("appt-tomorrow", SAMPLE, NOW + timedelta(days=1)))
        self.checkins: dict[str, str] = {TICKET_ID: MARIA_APPT.id}

    def appointments_for_day(self, day: date) -> list[ScheduledVisit]:
        self._enter("appointments_for_day", day)
        todays = [a for a in self.appointments if a.start.astimezone(TZ).date() == day]
        return [ScheduledVisit(a, self.patients.get(a.patient_id)) for a in sorted(todays, key=lambda a: a.start)]

    def find_checkin(self, checkin_id: str) -> ScheduledVisit | None:
        self._enter("find_checkin", checkin_id)
        appt = next((a for a in self.appointments if a.id == self.checkins.get(checkin_id)), None)
        return ScheduledVisit(appt, self.patients.get(appt.patient_id)) if appt else None


class Gate:
    def __init__(self, staff: str | None = "anna") -> None:
        self.staff = staff
        self.audited: list[tuple[str, str]] = []
        self.locks: list[str] = []

    def current_staff(self) -> str | None:
        return self.staff

    def lock(self, reason: str = "manual") -> None:
        self.locks.append(reason)
        self.staff = None

    def audit_action(self, action: str, detail: str = "") -> None:
        self.audited.append((action, detail))


class Tablet:
    def __init__(self, *, schedule: bool = True, **config: Any) -> None:
        self.directory = FakeSchedule()
        self.sink = FakeSink()
        self.gate = Gate()
        self.queue = FakeQueue()
        self.flow = CheckinFlow(make_config(tablet=True, **config), directory=self.directory, sink=self.sink,
                                terminal=None, printer=None, queue=self.queue, clock=FixedClock(), new_id=Ids(),
                                staff=self.gate, schedule=self.directory if schedule else None)  # fmt: skip

    def start(self, how: str = "choose") -> Result:
        show(self.flow.submit({"action": "load"}), Step.TABLET_START)
        if how == "choose":
            return self.flow.submit({"action": "choose", "appointment_id": MARIA_APPT.id})
        return self.flow.submit({"action": "ticket", "text": f"CKI-TICKET:{TICKET_ID}"})


def patient_answers(flow: CheckinFlow, result: Result) -> Result:
    while isinstance(result, Show) and result.step != Step.HAND_BACK:
        step = result.step
        if step == Step.DEMOGRAPHICS:
            result = flow.submit({"action": "confirm"})
        elif step == Step.INSURANCE:
            result = flow.submit({"action": "same"})
        elif step == Step.FORMS:
            result = flow.submit({"action": "next", "answers": {}})
        elif step == Step.CONSENTS:
            result = flow.submit(GOOD_SIGNATURE)
        else:
            raise AssertionError(f"a tablet patient should not see {step}")
    return result


def test_the_fakes_implement_the_ports() -> None:
    assert isinstance(FakeSchedule(), Schedule) and isinstance(Gate(), StaffGate)


def test_a_tablet_starts_on_the_staff_screen_and_reads_nothing_while_locked() -> None:
    t = Tablet()
    t.gate.staff = None
    start = show(t.flow.start(), Step.TABLET_START)
    assert start.data == {"day": "", "loaded": False, "visits": []}
    for intent in ({"action": "load"}, {"action": "choose", "appointment_id": MARIA_APPT.id},
                   {"action": "ticket", "text": f"CKI-TICKET:{TICKET_ID}"}):  # fmt: skip
        assert show(t.flow.submit(intent), Step.TABLET_START).errors == {"base": "staff_locked"}
    assert t.directory.calls == [] and t.flow.session.patient is None
    assert show(t.flow.submit({"action": "dance"}), Step.TABLET_START).errors == {"base": "invalid_input"}


def test_staff_choose_from_today_and_the_patient_completes_the_intake() -> None:
    t = Tablet()
    listed = show(t.flow.submit({"action": "load"}), Step.TABLET_START)
    assert listed.data["loaded"] and listed.data["day"] == NOW.date().isoformat()
    ids = [v["appointment_id"] for v in listed.data["visits"]]
    assert ids == ["appt-public", "appt-kim", "appt-maria", "appt-sample"]  # by time; no cancelled, no tomorrow
    maria = next(v for v in listed.data["visits"] if v["appointment_id"] == MARIA_APPT.id)
    assert maria["patient_name"] == "María José García-López" and maria["birth_date"] == "1980-04-12"
    assert maria["time_text"] == "9:15 AM" and maria["selectable"] and not maria["checked_in"]

    first = show(t.flow.submit({"action": "choose", "appointment_id": MARIA_APPT.id}), Step.DEMOGRAPHICS)
    assert first.data["first_name"] == "María José"
    assert t.gate.locks == ["handed_to_patient"] and t.gate.audited == [("tablet_session_started", "checkin0001")]
    assert t.flow.session.visits == []  # the other patients' names left memory with the list
    assert show(t.flow.back(), Step.DEMOGRAPHICS)  # never back to staff screens or confirm_appointment

    end = show(patient_answers(t.flow, first), Step.HAND_BACK)
    assert end.data == {"outcome": "done", "reason": "", "synced_later": True, "checkin_id": "checkin0001"}
    (record,) = t.sink.records
    assert record.patient == MARIA and record.appointment == MARIA_APPT and not record.needs_staff
    assert record.payment is None and record.payment_deferred is None and record.queue_number == ""
    assert len(record.consents) == 2 and ("questionnaires_due", MARIA_APPT.id) in t.directory.calls
    assert t.queue.counters == {} and t.flow.session.patient is None and not t.flow.session.forms
    assert "García" not in repr(end) and "María" not in str(end.data)


def test_the_hand_back_screen_is_locked_until_staff_release_it() -> None:
    t = Tablet()
    show(patient_answers(t.flow, t.start()), Step.HAND_BACK)
    assert t.gate.staff is None
    assert show(t.flow.submit({"action": "release"}), Step.HAND_BACK).errors == {"base": "staff_locked"}
    assert show(t.flow.submit({"action": "start"}), Step.HAND_BACK).errors == {"base": "invalid_input"}
    assert show(t.flow.back(), Step.HAND_BACK) and show(t.flow.to_desk(), Step.HAND_BACK)
    assert len(t.sink.records) == 1  # "I need help" on the locked screen hands nothing over again
    t.gate.staff = "ben"
    again = show(t.flow.submit({"action": "release"}), Step.TABLET_START)
    assert again.data["loaded"] is False and t.gate.audited[-1] == ("tablet_released", "checkin0001")


def test_a_ticket_qr_finds_the_visit_of_a_kiosk_check_in() -> None:
    t = Tablet()
    first = show(t.start(how="ticket"), Step.DEMOGRAPHICS)
    assert first.data["first_name"] == "María José" and ("find_checkin", TICKET_ID) in t.directory.calls
    assert t.flow.session.checkin_id == "checkin0001"  # the tablet's own session, never the kiosk's id again


@pytest.mark.parametrize(
    ("text", "fail", "error"),
    [
        ("hello", "", "ticket_not_recognized"),
        ("CKI-TICKET:", "", "ticket_not_recognized"),
        ("CKI1.eyJhIjoiYiJ9.abc", "", "ticket_not_recognized"),
        ("CKI-TICKET:ffffffffffffffffffffffffffffffff", "", "ticket_not_found"),
        (f"CKI-TICKET:{TICKET_ID}", "find_checkin", "backend_unavailable"),
    ],
)
def test_ticket_errors(text: str, fail: str, error: str) -> None:
    t = Tablet()
    t.directory.fail = {fail} if fail else set()
    assert show(t.flow.submit({"action": "barcode", "text": text}), Step.TABLET_START).errors == {"base": error}
    assert t.gate.locks == [] and t.flow.session.patient is None


def test_a_ticket_of_another_day_is_refused() -> None:
    t = Tablet()
    t.directory.checkins[TICKET_ID] = "appt-tomorrow"
    result = t.flow.submit({"action": "ticket", "text": f"CKI-TICKET:{TICKET_ID.upper()}"})
    assert show(result, Step.TABLET_START).errors == {"base": "ticket_not_today"}


def test_back_end_trouble_keeps_staff_on_their_screen() -> None:
    t = Tablet()
    t.directory.fail = {"appointments_for_day"}
    assert show(t.flow.submit({"action": "load"}), Step.TABLET_START).errors == {"base": "backend_unavailable"}
    t.directory.fail = set()
    show(t.flow.submit({"action": "load"}), Step.TABLET_START)
    t.directory.fail = {"questionnaires_due"}
    chosen = t.flow.submit({"action": "choose", "appointment_id": MARIA_APPT.id})
    assert show(chosen, Step.TABLET_START).errors == {"base": "backend_unavailable"}
    assert t.gate.locks == [] and t.flow.session.patient is None and t.sink.records == []
    assert show(t.flow.submit({"action": "choose", "appointment_id": "nope"}), Step.TABLET_START).errors == {
        "base": "choose_appointment"
    }


def test_without_a_schedule_port() -> None:
    t = Tablet(schedule=False)
    assert show(t.flow.submit({"action": "load"}), Step.TABLET_START).errors == {"base": "schedule_unavailable"}


def test_a_patient_who_needs_help_ends_on_hand_back_with_the_record_for_the_desk() -> None:
    t = Tablet()
    result = t.start()
    while isinstance(result, Show) and result.step != Step.CONSENTS:
        result = patient_answers_one(t.flow, result)
    end = show(t.flow.submit({"action": "decline"}), Step.HAND_BACK)
    assert end.data["outcome"] == "desk" and end.data["reason"] == "consent_declined"
    (record,) = t.sink.records
    assert record.needs_staff and record.desk_reason == "consent_declined" and record.queue_number == ""


def patient_answers_one(flow: CheckinFlow, result: Show) -> Result:
    return {
        Step.DEMOGRAPHICS: lambda: flow.submit({"action": "confirm"}),
        Step.INSURANCE: lambda: flow.submit({"action": "self_pay"}),
        Step.FORMS: lambda: flow.submit({"action": "next", "answers": {}}),
    }[result.step]()


def test_idle_reset_mid_session_wipes_to_the_staff_screen() -> None:
    t = Tablet()
    show(t.start(), Step.DEMOGRAPHICS)
    start = show(t.flow.reset(), Step.TABLET_START)
    assert start.data["visits"] == [] and t.flow.session.patient is None and t.sink.records == []


def test_only_enabled_steps_and_nothing_to_do_goes_straight_to_hand_back() -> None:
    t = Tablet(steps=replace(make_config().steps, demographics=False, insurance=False, forms=False, consents=False))
    assert show(t.start(), Step.HAND_BACK).data["outcome"] == "done" and len(t.sink.records) == 1


def test_a_kiosk_ignores_tablet_intents() -> None:
    flow = CheckinFlow(make_config(), directory=FakeSchedule(), sink=FakeSink(), terminal=None, printer=None,
                       queue=FakeQueue(), clock=FixedClock(), staff=Gate())  # fmt: skip
    assert show(flow.start(), Step.WELCOME)
    assert show(flow.submit({"action": "load"}), Step.WELCOME).errors == {"base": "invalid_input"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [(f"CKI-TICKET:{TICKET_ID}", TICKET_ID), (f"CKI-TICKET:{TICKET_ID.upper()} ", TICKET_ID),
     ("CKI-TICKET:abc", None), ("CKI-TICKET:<script>", None), ("A-017", None)],
)  # fmt: skip
def test_parse_ticket(text: str, expected: str | None) -> None:
    assert parse_ticket(text) == expected
