"""A practice wired to a CheckinFlow, and helpers that walk a patient through the steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flow_fakes import (
    MARIA,
    FakeDirectory,
    FakePrinter,
    FakeQueue,
    FakeSink,
    FakeTerminal,
    FixedClock,
    Ids,
    make_config,
)

from kiosk.flow.config import FlowConfig
from kiosk.flow.machine import CheckinFlow
from kiosk.flow.results import Done, Result, Show, Step, ToDesk
from kiosk.flow.types import Patient

# A signature long enough for any pad up to 800 px wide.
GOOD_SIGNATURE = {
    "action": "sign",
    "strokes": [[[10 + 20 * i, 100 + (i % 3) * 10] for i in range(20)]],
    "png": b"\x89PNG\r\n\x1a\nfake",
    "pad_size": [800, 300],
}


@dataclass
class Practice:
    flow: CheckinFlow
    config: FlowConfig
    directory: FakeDirectory
    sink: FakeSink
    terminal: FakeTerminal | None
    printer: FakePrinter | None
    queue: FakeQueue
    clock: FixedClock
    ids: Ids


def make_practice(
    *,
    terminal: FakeTerminal | None | bool = True,
    printer: FakePrinter | None | bool = True,
    sink: FakeSink | None = None,
    directory: FakeDirectory | None = None,
    clock: FixedClock | None = None,
    **config: Any,
) -> Practice:
    cfg = make_config(**config)
    fake_terminal = FakeTerminal() if terminal is True else (terminal or None)
    fake_printer = FakePrinter() if printer is True else (printer or None)
    fake_sink = sink or FakeSink()
    fake_directory = directory or FakeDirectory()
    fake_clock = clock or FixedClock()
    queue, ids = FakeQueue(), Ids()
    flow = CheckinFlow(
        cfg,
        directory=fake_directory,
        sink=fake_sink,
        terminal=fake_terminal,
        printer=fake_printer,
        queue=queue,
        clock=fake_clock,
        new_id=ids,
    )
    return Practice(flow, cfg, fake_directory, fake_sink, fake_terminal, fake_printer, queue, fake_clock, ids)


def show(result: Result, step: Step) -> Show:
    assert isinstance(result, Show), f"expected Show({step}), got {result!r}"
    assert result.step == step, f"expected {step}, got {result.step} errors={dict(result.errors)}"
    return result


def desk(result: Result, reason: str) -> ToDesk:
    assert isinstance(result, ToDesk), f"expected ToDesk({reason}), got {result!r}"
    assert result.reason == reason
    return result


def done(result: Result) -> Done:
    assert isinstance(result, Done), f"expected Done, got {result!r}"
    return result


def name_dob(patient: Patient = MARIA) -> dict[str, Any]:
    return {
        "action": "name_dob",
        "given": patient.given,
        "family": patient.family,
        "birth_date": patient.birth_date.isoformat(),
    }


def identify(p: Practice, patient: Patient = MARIA) -> Result:
    show(p.flow.submit({"action": "start"}), Step.IDENTIFY)
    return p.flow.submit(name_dob(patient))


def to_step(p: Practice, step: Step, patient: Patient = MARIA) -> Show:
    """Walk the happy path until ``step`` is shown."""
    result = identify(p, patient)
    while True:
        current = show(result, result.step if isinstance(result, Show) else step)
        if current.step == step:
            return current
        result = answer(p, current)


def answer(p: Practice, current: Show) -> Result:
    """The simplest valid answer to the current step."""
    step = current.step
    if step == Step.CONFIRM_APPOINTMENT:
        first = next(a for a in current.data["appointments"] if a["selectable"])
        return p.flow.submit({"action": "confirm", "appointment_id": first["id"]})
    if step == Step.DEMOGRAPHICS:
        return p.flow.submit({"action": "confirm"})
    if step == Step.INSURANCE:
        return p.flow.submit({"action": "same"} if current.data["on_file"] else {"action": "self_pay"})
    if step == Step.FORMS:
        return p.flow.submit({"action": "next", "answers": {}})
    if step == Step.CONSENTS:
        return p.flow.submit(GOOD_SIGNATURE)
    if step == Step.PAYMENT:
        return p.flow.submit({"action": "pay"})
    if step == Step.TICKET:
        return p.flow.submit({"action": "done"})
    raise AssertionError(f"no default answer for {step}")
