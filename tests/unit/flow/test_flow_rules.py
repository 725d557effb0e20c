"""The practice's rules at confirm_appointment: window, status, desk visit types/providers, balance."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flow_driver import Practice, desk, identify, make_practice, show
from flow_fakes import MARIA, MARIA_APPT, NOW, TZ, FakeDirectory, FixedClock, appointment, make_config

from kiosk.flow import rules
from kiosk.flow.results import Step
from kiosk.flow.types import AppointmentStatus, CoverageChoice, DeskReason, InsuranceResult, Money


def practice_with(*appointments: object, **config: object) -> Practice:
    directory = FakeDirectory()
    directory.appointments = [a for a in directory.appointments if a.patient_id != MARIA.id]
    directory.appointments.extend(appointments)  # type: ignore[arg-type]
    return make_practice(directory=directory, **config)  # type: ignore[arg-type]


def test_no_appointment_today() -> None:
    tomorrow = appointment("appt-tomorrow", MARIA, NOW + timedelta(days=1))
    p = practice_with(tomorrow)
    result = desk(identify(p), "no_appointment")
    (record,) = p.sink.records
    assert record.desk_reason == DeskReason.NO_APPOINTMENT and record.needs_staff
    assert result.summary["queue_number"] == "A-001"


def test_cancelled_appointments_do_not_count() -> None:
    cancelled = appointment("appt-x", MARIA, NOW + timedelta(minutes=10), status=AppointmentStatus.CANCELLED)
    noshow = appointment("appt-y", MARIA, NOW - timedelta(hours=1), status=AppointmentStatus.NOSHOW)
    desk(identify(practice_with(cancelled, noshow)), "no_appointment")


@pytest.mark.parametrize(
    ("minutes_from_now", "reason"),
    [(61, "too_early"), (60, ""), (0, ""), (-15, ""), (-16, "late")],
)
def test_window_boundaries(minutes_from_now: int, reason: str) -> None:
    appt = appointment("a", MARIA, NOW + timedelta(minutes=minutes_from_now))
    assert rules.window_reason(appt, NOW, make_config()) == reason


def test_too_early() -> None:
    p = practice_with(appointment("appt-2pm", MARIA, NOW.replace(hour=14)))
    desk(identify(p), "too_early")
    assert p.sink.records[0].desk_reason == DeskReason.TOO_EARLY


def test_late() -> None:
    desk(identify(practice_with(appointment("appt-8am", MARIA, NOW.replace(hour=8)))), "late")


def test_already_checked_in() -> None:
    arrived = appointment("appt-a", MARIA, NOW + timedelta(minutes=5), status=AppointmentStatus.ARRIVED)
    desk(identify(practice_with(arrived)), "already_checked_in")


def test_nearest_appointment_explains_the_desk() -> None:
    arrived = appointment("appt-a", MARIA, NOW - timedelta(hours=1), status=AppointmentStatus.ARRIVED)
    later = appointment("appt-b", MARIA, NOW + timedelta(hours=4))
    desk(identify(practice_with(arrived, later)), "already_checked_in")
    long_ago = appointment("appt-z", MARIA, NOW - timedelta(hours=2), status=AppointmentStatus.FULFILLED)
    early_arrival = practice_with(long_ago, appointment("appt-c", MARIA, NOW + timedelta(minutes=70)))
    desk(identify(early_arrival), "too_early")


def test_desk_visit_type_single_appointment() -> None:
    p = practice_with(appointment("appt-new", MARIA, NOW + timedelta(minutes=10), visit_type="NEWPATIENT"))
    desk(identify(p), "visit_type_needs_desk")
    assert p.sink.records[0].desk_reason == DeskReason.VISIT_TYPE


def test_desk_provider_single_appointment() -> None:
    p = practice_with(appointment("appt-d", MARIA, NOW + timedelta(minutes=10), provider_id="dr-desk"))
    desk(identify(p), "provider_needs_desk")


def test_balance_above_limit() -> None:
    directory = FakeDirectory()
    directory.patients[MARIA.id] = MARIA.__class__(**{**MARIA.__dict__, "balance": Money(15000)})
    p = make_practice(directory=directory)
    desk(identify(p), "balance_due")
    at_limit = FakeDirectory()
    at_limit.patients[MARIA.id] = MARIA.__class__(**{**MARIA.__dict__, "balance": Money(10000)})
    show(identify(make_practice(directory=at_limit)), Step.CONFIRM_APPOINTMENT)
    no_limit = make_practice(directory=directory, balance_limit=None)
    show(identify(no_limit), Step.CONFIRM_APPOINTMENT)


def test_two_appointments_pick_one() -> None:
    second = appointment(
        "appt-lab", MARIA, NOW + timedelta(minutes=45), visit_type="LAB", location_id="loc-lab"
    )
    too_late = appointment("appt-early", MARIA, NOW - timedelta(hours=2))
    p = practice_with(second, MARIA_APPT, too_late)
    confirm = show(identify(p), Step.CONFIRM_APPOINTMENT)
    rows = [(a["id"], a["time_text"], a["selectable"], a["reason"]) for a in confirm.data["appointments"]]
    assert rows == [
        ("appt-early", "7:00 AM", False, "late"),
        ("appt-maria", "9:15 AM", True, ""),
        ("appt-lab", "9:45 AM", True, ""),
    ]
    for bad in ({}, {"appointment_id": "appt-early"}, {"appointment_id": "nope"}):
        r = show(p.flow.submit({"action": "confirm", **bad}), Step.CONFIRM_APPOINTMENT)
        assert r.errors == {"base": "choose_appointment"}
    show(p.flow.submit({"action": "confirm", "appointment_id": "appt-lab"}), Step.DEMOGRAPHICS)
    assert p.flow.session.appointment == second
    # Back to the list and a different choice reloads what is due for that visit.
    show(p.flow.back(), Step.CONFIRM_APPOINTMENT)
    show(p.flow.back(), Step.CONFIRM_APPOINTMENT)  # never back past identification
    show(p.flow.submit({"action": "confirm", "appointment_id": "appt-maria"}), Step.DEMOGRAPHICS)
    assert [c[1] for c in p.directory.calls if c[0] == "questionnaires_due"] == ["appt-lab", "appt-maria"]


def test_desk_visit_type_chosen_among_several() -> None:
    new = appointment("appt-new", MARIA, NOW + timedelta(minutes=30), visit_type="NEWPATIENT")
    p = practice_with(MARIA_APPT, new)
    show(identify(p), Step.CONFIRM_APPOINTMENT)
    desk(p.flow.submit({"action": "confirm", "appointment_id": "appt-new"}), "visit_type_needs_desk")
    (record,) = p.sink.records
    assert record.appointment == new  # the visit the patient chose travels with the hand-off


def test_not_me_wipes_and_returns_to_welcome(practice: Practice) -> None:
    show(identify(practice), Step.CONFIRM_APPOINTMENT)
    show(practice.flow.submit({"action": "not_me"}), Step.WELCOME)
    assert practice.flow.session.patient is None and practice.flow.session.candidates == []
    assert practice.sink.records == []


def test_backend_down_loading_visit_data_goes_to_desk(practice: Practice) -> None:
    p = practice
    show(identify(p), Step.CONFIRM_APPOINTMENT)
    p.directory.fail.add("questionnaires_due")
    desk(p.flow.submit({"action": "confirm", "appointment_id": "appt-maria"}), "backend_unavailable")
    (record,) = p.sink.records
    assert record.appointment == MARIA_APPT and record.needs_staff


def test_local_day_is_the_practice_day() -> None:
    """At 11:30 PM in New York it is already tomorrow in UTC: the practice's day is asked for."""
    late_evening = datetime(2025, 3, 10, 23, 30, tzinfo=TZ)
    directory = FakeDirectory()
    directory.appointments = [appointment("appt-night", MARIA, late_evening + timedelta(minutes=10))]
    p = make_practice(directory=directory, clock=FixedClock(late_evening))
    show(identify(p), Step.CONFIRM_APPOINTMENT)
    assert ("appointments_on", late_evening.date()) in p.directory.calls


def test_time_text_uses_practice_time_zone() -> None:
    cfg = make_config()
    assert rules.time_text(datetime.fromisoformat("2025-03-10T17:05:00+00:00"), cfg) == "1:05 PM"
    assert rules.time_text(datetime.fromisoformat("2025-03-10T04:00:00+00:00"), cfg) == "12:00 AM"
    assert rules.time_text(datetime.fromisoformat("2025-03-10T16:00:00+00:00"), cfg) == "12:00 PM"


@pytest.mark.parametrize(
    ("insurance", "visit_type", "expected"),
    [
        (None, "FOLLOWUP", (3000, "copay")),
        (None, "OTHER", (2000, "copay")),
        ("same-with-copay", "FOLLOWUP", (2500, "copay")),
        ("same-without-copay", "FOLLOWUP", (3000, "copay")),
        ("updated", "OTHER", (2000, "copay")),
        ("no_card", "FOLLOWUP", (3000, "copay")),
        ("self_pay", "FOLLOWUP", (12000, "self_pay")),
        ("self_pay", "OTHER", (15000, "self_pay")),
    ],
)
def test_amount_due(insurance: str | None, visit_type: str, expected: tuple[int, str]) -> None:
    from flow_fakes import COVERAGE

    choices = {
        "same-with-copay": InsuranceResult(CoverageChoice.UNCHANGED, COVERAGE),
        "same-without-copay": InsuranceResult(
            CoverageChoice.UNCHANGED, COVERAGE.__class__(id="c", copay=None)
        ),
        "updated": InsuranceResult(CoverageChoice.UPDATED, COVERAGE.__class__(id=None, payer_name="X")),
        "no_card": InsuranceResult(CoverageChoice.NO_CARD, None),
        "self_pay": InsuranceResult(CoverageChoice.SELF_PAY, None),
    }
    appt = appointment("a", MARIA, NOW, visit_type=visit_type)
    amount, kind = rules.amount_due(appt, choices.get(insurance or ""), make_config())
    assert amount is not None and (amount.cents, kind) == expected


def test_amount_due_none_configured() -> None:
    cfg = make_config(copay_by_visit_type={}, default_copay=None)
    assert rules.amount_due(MARIA_APPT, None, cfg) == (None, "copay")
