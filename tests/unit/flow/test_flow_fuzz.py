"""Random taps, scans and keystrokes on every step: the flow never raises and always answers per contract."""

from __future__ import annotations

from typing import Any

from flow_driver import GOOD_SIGNATURE, answer, make_practice, name_dob
from flow_fakes import FakePrinter, FakeSink, FakeTerminal, load_aamva
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.flow.results import Done, Show, Step, ToDesk
from kiosk.flow.types import DeskReason, PaymentStatus

ACTIONS = [
    "start",
    "language",
    "barcode",
    "name_dob",
    "dob",
    "confirm",
    "not_me",
    "save",
    "same",
    "manual",
    "self_pay",
    "no_card",
    "next",
    "update",
    "back",
    "sign",
    "decline",
    "pay",
    "pay_at_desk",
    "done",
    "fly",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.lists(st.text(max_size=5), max_size=2),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)
SENSIBLE = st.sampled_from(
    [
        {"action": "start"},
        name_dob(),
        {"action": "barcode", "text": load_aamva("02-VA-v10.txt")},
        {"action": "confirm", "appointment_id": "appt-maria"},
        {"action": "confirm", "appointment_id": "appt-sample"},
        {"action": "confirm"},
        {"action": "same"},
        {"action": "self_pay"},
        {"action": "next", "answers": {"1": [True], "2.2": ["1980-04-12"], "3.1": ["x"]}},
        {"action": "next", "answers": {}},
        {"action": "update", "answers": {"1": "nope"}},
        GOOD_SIGNATURE,
        {"action": "sign", "strokes": [[[1, 2]]], "pad_size": [0, 0]},
        {"action": "pay"},
        {"action": "pay_at_desk"},
        {"action": "done"},
        {"action": "language", "language": "es"},
    ]
)
RANDOM = st.builds(
    lambda action, extra: {"action": action, **extra},
    st.sampled_from(ACTIONS),
    st.dictionaries(
        st.sampled_from(
            [
                "given",
                "family",
                "birth_date",
                "text",
                "appointment_id",
                "values",
                "answers",
                "strokes",
                "png",
                "pad_size",
                "payer_name",
                "member_id",
                "language",
                "step",
            ]
        ),
        VALUES,
        max_size=4,
    ),
)
MOVES = st.lists(
    st.one_of(SENSIBLE, SENSIBLE, RANDOM, st.sampled_from(["BACK", "DESK", "RESET"]), VALUES), max_size=25
)


STARTS = st.sampled_from(
    [
        None,
        Step.IDENTIFY,
        Step.CONFIRM_APPOINTMENT,
        Step.DEMOGRAPHICS,
        Step.INSURANCE,
        Step.FORMS,
        Step.CONSENTS,
        Step.PAYMENT,
        Step.TICKET,
    ]
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=STARTS,
    moves=MOVES,
    printer_fails=st.booleans(),
    sink_fails=st.integers(0, 2),
    declines=st.lists(st.sampled_from(list(PaymentStatus)), max_size=3),
)
def test_random_input_never_raises(
    start: Step | None, moves: list[Any], printer_fails: bool, sink_fails: int, declines: list[PaymentStatus]
) -> None:
    p = make_practice(
        printer=FakePrinter(fail_reason="offline" if printer_fails else None),
        sink=FakeSink(fail_times=sink_fails),
        terminal=FakeTerminal(script=list(declines)),
    )
    if start is not None:
        current = p.flow.submit({"action": "start"}) if start == Step.IDENTIFY else to_step_or_stop(p, start)
        assert current is p.flow.current
    for move in moves:
        if move == "BACK":
            result = p.flow.back()
        elif move == "DESK":
            result = p.flow.to_desk()
        elif move == "RESET":
            result = p.flow.reset()
        else:
            result = p.flow.submit(move)
        assert result is p.flow.current
        if isinstance(result, Show):
            assert result.step in Step and all(isinstance(v, str) for v in result.errors.values())
        elif isinstance(result, ToDesk):
            assert result.reason in {r.value for r in DeskReason}
            assert set(result.summary) == {
                "queue_number",
                "display_name",
                "wait_area",
                "printed",
                "checkin_id",
                "synced_later",
            }
        else:
            assert isinstance(result, Done)
    # However the session went, one check-in never took two numbers or was charged twice.
    assert len(p.queue.days) <= sum(1 for m in moves if m == "RESET") + 1
    assert p.terminal is not None and p.terminal.charged_again == 0


def to_step_or_stop(p: Any, step: Step) -> Any:
    current = p.flow.submit({"action": "start"})
    current = p.flow.submit(name_dob())
    while isinstance(current, Show) and current.step != step:
        current = answer(p, current)
    return current
