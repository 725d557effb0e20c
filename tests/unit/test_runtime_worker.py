"""FlowWorker runs jobs in order off the caller's thread and never logs an exception's message."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pytest

from kiosk.runtime.queue_numbers import FileQueueNumbers
from kiosk.runtime.worker import FlowWorker


def test_jobs_run_in_order_on_one_other_thread() -> None:
    worker = FlowWorker()
    seen: list[tuple[int, str]] = []
    for n in range(5):
        worker.call(lambda n=n: n, lambda r: seen.append((r, threading.current_thread().name)))
    assert worker.join_idle()
    worker.stop()
    assert [r for r, _ in seen] == [0, 1, 2, 3, 4]
    assert {name for _, name in seen} == {"flow-worker"}


def test_a_failing_job_reports_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    worker = FlowWorker()
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("Eleanor Whitfield 1948-03-09")

    worker.call(boom, lambda r: None, errors.append)
    worker.call(lambda: 1, lambda r: errors.append(RuntimeError("after")))  # the worker survives
    assert worker.join_idle()
    worker.stop()
    assert isinstance(errors[0], ValueError) and str(errors[1]) == "after"
    assert "ValueError" in caplog.text and "test_runtime_worker.py" in caplog.text
    assert "Whitfield" not in caplog.text and "1948" not in caplog.text


def test_queue_numbers_restart_each_day_and_survive_restarts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.json"
    q = FileQueueNumbers(path, prefix="B")
    assert [q.next_number(date(2026, 11, 23)) for _ in range(3)] == ["B-001", "B-002", "B-003"]
    assert FileQueueNumbers(path, prefix="B").next_number(date(2026, 11, 23)) == "B-004"
    assert q.next_number(date(2026, 11, 24)) == "B-001"
