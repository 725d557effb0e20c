"""Nothing of the last patient survives reset(); the idle timer that triggers it."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from flow_driver import GOOD_SIGNATURE, Practice, desk, show, to_step
from flow_fakes import MARIA, NOW

from kiosk.flow.idle import ACTIVE, EXPIRED, WARNING, IdleTimer
from kiosk.flow.results import Step

PORTS = {
    "_config",
    "_directory",
    "_sink",
    "_terminal",
    "_printer",
    "_queue",
    "_clock",
    "_new_id",
    "_handlers",
}

SECRETS_TEXT = (
    "María",
    "García",
    "maria@example.org",
    "555-0100",
    "Harbor Street",
    "Pier Road",
    "Salem",
    "XJH123456789",
    "BH 1234",
    "Blue Harbor",
    "pat-maria",
    "appt-maria",
    "checkin0001",
    "A-001",
    "allergic-to-cats",
)
SECRET_VALUES: tuple[Any, ...] = (MARIA.birth_date, date(1980, 4, 12), GOOD_SIGNATURE["png"])


def leaves(obj: Any, seen: set[int], path: str = "") -> list[tuple[str, Any]]:
    """Every value reachable from ``obj`` (attributes, dataclass fields, containers), with its path."""
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, (str, bytes, int, float, bool, date)) or obj is None:
        return [(path, obj)]
    if callable(obj) and not dataclasses.is_dataclass(obj):
        return []
    found: list[tuple[str, Any]] = [(path, obj)]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += leaves(key, seen, f"{path}[key]") + leaves(value, seen, f"{path}[{key!r}]")
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for index, value in enumerate(obj):
            found += leaves(value, seen, f"{path}[{index}]")
    elif hasattr(obj, "__dict__") or dataclasses.is_dataclass(obj):
        names = list(vars(obj)) if hasattr(obj, "__dict__") else [f.name for f in dataclasses.fields(obj)]
        for name in names:
            if path == "flow" and name in PORTS:
                continue
            found += leaves(getattr(obj, name), seen, f"{path}.{name}")
    return found


def assert_no_trace(*roots: tuple[str, Any]) -> None:
    seen: set[int] = set()
    for name, root in roots:
        for path, value in leaves(root, seen, name):
            if isinstance(value, str):
                for secret in SECRETS_TEXT:
                    assert secret not in value, f"{path} still holds patient data"
            elif isinstance(value, (date, bytes)):
                assert value not in SECRET_VALUES, f"{path} still holds patient data"


def fill_everything(p: Practice) -> None:
    to_step(p, Step.DEMOGRAPHICS)
    show(
        p.flow.submit(
            {
                "action": "save",
                "values": {
                    "phone": "617-555-0100",
                    "email": "maria@example.org",
                    "line1": "22 Pier Road",
                    "line2": "",
                    "city": "Salem",
                    "state": "MA",
                    "postal_code": "01970",
                },
            }
        ),
        Step.INSURANCE,
    )
    show(
        p.flow.submit({"action": "manual", "payer_name": "Blue Harbor", "member_id": "BH 1234-5678"}),
        Step.FORMS,
    )
    show(p.flow.submit({"action": "next", "answers": {"1": [True]}}), Step.FORMS)
    show(
        p.flow.submit({"action": "next", "answers": {"2.1": ["allergic-to-cats"], "2.2": ["1980-04-12"]}}),
        Step.FORMS,
    )
    show(p.flow.submit({"action": "next", "answers": {}}), Step.CONSENTS)
    show(p.flow.submit(GOOD_SIGNATURE), Step.CONSENTS)
    show(p.flow.submit(GOOD_SIGNATURE), Step.PAYMENT)
    show(p.flow.submit({"action": "pay"}), Step.TICKET)


def test_reset_wipes_every_trace(practice: Practice) -> None:
    p = practice
    fill_everything(p)
    session = p.flow.session
    forms = list(session.forms)
    assert any(isinstance(v, str) and "Salem" in v for _, v in leaves(session, set(), "s"))  # the walk works
    show(p.flow.reset(), Step.WELCOME)
    assert p.flow.session is session  # wiped in place, not merely replaced
    assert_no_trace(("flow", p.flow), ("old_session", session), ("old_forms", forms))
    assert all(not form.answers for form in forms)
    fresh = dataclasses.fields(session)
    for f in fresh:
        if f.name not in ("step", "language", "attempts_left"):
            value = getattr(session, f.name)
            assert not value, f"{f.name} not empty after reset"
    assert session.language == "en" and session.attempts_left == 3


def test_reset_after_desk_hand_off(practice: Practice) -> None:
    p = practice
    fill_everything(p)
    desk(p.flow.to_desk(), "patient_request")
    p.flow.reset()
    assert_no_trace(("flow", p.flow))
    # The next patient starts from scratch: new check-in id, fresh attempts, no queue number yet.
    show(p.flow.submit({"action": "start"}), Step.IDENTIFY)
    result = show(
        p.flow.submit({"action": "name_dob", "given": "X", "family": "Y", "birth_date": "1990-01-01"}),
        Step.IDENTIFY,
    )
    assert result.data["attempts_left"] == 2


def test_two_patients_in_a_row_get_their_own_ids_and_numbers(practice: Practice) -> None:
    from flow_fakes import SAMPLE

    p = practice
    to_step(p, Step.TICKET)
    p.flow.submit({"action": "done"})
    p.flow.reset()
    to_step(p, Step.TICKET, patient=SAMPLE)
    p.flow.submit({"action": "done"})
    assert [(r.checkin_id, r.queue_number, r.patient.id) for r in p.sink.records] == [
        ("checkin0001", "A-001", "pat-maria"),
        ("checkin0002", "A-002", "pat-sample"),
    ]
    assert p.sink.records[1].started_at == NOW


# -- idle timer ---------------------------------------------------------------------------------------
def test_idle_states() -> None:
    timer = IdleTimer(60, 15, now=100.0)
    assert timer.state(100.0) == ACTIVE
    assert timer.state(144.9) == ACTIVE
    assert timer.state(145.0) == WARNING and timer.remaining(145.0) == 15
    assert timer.state(160.0) == EXPIRED and timer.remaining(170.0) == 0
    timer.activity(150.0)
    assert timer.state(194.0) == ACTIVE and timer.state(196.0) == WARNING


def test_more_time_doubles_at_least_twice() -> None:
    timer = IdleTimer(60, 15, now=0.0)
    assert timer.state(50.0) == WARNING
    assert timer.more_time(50.0) == 120
    assert timer.state(50.0 + 104) == ACTIVE and timer.state(50.0 + 106) == WARNING
    assert timer.more_time(160.0) == 240
    assert timer.state(160.0 + 224) == ACTIVE and timer.state(160.0 + 240) == EXPIRED
    assert timer.more_time(400.0) == 480 and timer.extensions == 3
    # Capped, but the patient can always ask again (WCAG 2.2.1).
    for _ in range(10):
        timer.more_time(400.0)
    assert timer.allowance_s == timer.max_timeout_s == 960
    timer.reset(1000.0)
    assert timer.allowance_s == 60 and timer.extensions == 0 and timer.state(1000.0) == ACTIVE


def test_idle_clock_going_backwards_is_not_expiry() -> None:
    timer = IdleTimer(30, 10, now=500.0)
    assert timer.state(10.0) == ACTIVE and timer.elapsed(10.0) == 0
    timer.activity(10.0)  # an older timestamp does not move the timer back
    assert timer.state(531.0) == EXPIRED


@pytest.mark.parametrize(("timeout", "warning"), [(0, 0), (-5, 1), (30, 30), (30, -1), (float("nan"), 1)])
def test_idle_rejects_nonsense(timeout: float, warning: float) -> None:
    with pytest.raises(ValueError):
        IdleTimer(timeout, warning)
