"""The controller between screens and the flow: one call at a time on the runtime's FlowWorker (a real
thread), results on Kivy's main thread, superseded results dropped, failures shown without their text.

The flow here is a small stand-in that can be made to block: the real flow cannot be paused on demand.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from kiosk.flow.results import Show, Step, ToDesk
from kiosk.runtime.worker import FlowWorker
from kiosk.ui.controller import Controller
from kiosk.ui.testing import UIHarness

pytestmark = pytest.mark.ui


class BlockingFlow:
    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.inputs: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None

    def submit(self, user_input: dict[str, Any]) -> Show:
        self.gate.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        self.inputs.append(user_input)
        return Show(Step.IDENTIFY, {"n": len(self.inputs)})

    def back(self) -> Show:
        return Show(Step.WELCOME)

    def to_desk(self, reason: str = "patient_request") -> ToDesk:
        return ToDesk(reason)

    def reset(self) -> Show:
        return Show(Step.WELCOME)


@pytest.fixture
def rig(ui: UIHarness) -> Any:
    flow, worker = BlockingFlow(), FlowWorker()
    results: list[Any] = []
    failures: list[str] = []
    busy: list[tuple[bool, bool]] = []
    controller = Controller(
        flow,
        worker,
        on_result=results.append,
        on_busy=lambda b, o: busy.append((b, o)),
        on_failure=failures.append,
    )
    yield flow, controller, results, failures, busy, ui
    flow.gate.set()
    worker.stop()


def wait_idle(controller: Controller, ui: UIHarness) -> None:
    deadline = time.monotonic() + 10
    while controller.busy:
        assert time.monotonic() < deadline
        ui.frames(1)


def test_results_arrive_on_the_main_thread(rig: Any) -> None:
    _flow, controller, results, _failures, busy, ui = rig
    seen_threads: list[str] = []
    controller._on_result = lambda r: (
        seen_threads.append(threading.current_thread().name),
        results.append(r),
    )
    assert controller.submit({"action": "start"})
    wait_idle(controller, ui)
    assert results == [Show(Step.IDENTIFY, {"n": 1})]
    assert seen_threads == [threading.main_thread().name]
    assert busy[0] == (True, True) and busy[-1] == (False, False)


def test_a_second_intent_while_one_runs_is_ignored(rig: Any) -> None:
    flow, controller, results, _failures, _busy, ui = rig
    flow.gate.clear()
    assert controller.submit({"action": "start"})
    assert not controller.submit({"action": "start"})  # the double tap
    flow.gate.set()
    wait_idle(controller, ui)
    assert len(flow.inputs) == 1 and len(results) == 1


def test_help_supersedes_a_running_call(rig: Any) -> None:
    flow, controller, results, _failures, _busy, ui = rig
    flow.gate.clear()
    controller.submit({"action": "pay"})
    assert controller.to_desk()  # "I need help" is never ignored
    flow.gate.set()
    wait_idle(controller, ui)
    assert results == [ToDesk("patient_request")]  # the late answer of the first call was dropped


def test_a_failing_call_reports_its_kind_only(rig: Any, caplog: pytest.LogCaptureFixture) -> None:
    flow, controller, results, failures, _busy, ui = rig
    flow.fail_with = RuntimeError("patient Jane Roe 1950-01-02 not found")
    caplog.set_level(logging.DEBUG)
    controller.submit({"action": "name_dob", "given": "Jane", "family": "Roe", "birth_date": "1950-01-02"})
    wait_idle(controller, ui)
    assert failures == ["RuntimeError"] and results == []
    assert "Roe" not in caplog.text and "1950-01-02" not in caplog.text
