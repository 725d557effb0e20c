"""Today's counts (a small file, only numbers, restarting each day) and the flow's device ports (they follow a
device swap; the last ticket stays in memory and is dropped when the day changes)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from kiosk.flow.ports import PrinterFailure, StorageError
from kiosk.flow.types import (
    CheckinRecord,
    Money,
    Patient,
    PaymentResult,
    PaymentStatus,
    Ticket,
)
from kiosk.runtime.counters import FILE_NAME, CountingSink, DailyCounters, DayCounts
from kiosk.runtime.device_ports import PrinterPort

TZ = ZoneInfo("America/New_York")


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2025, 3, 4, 9, 0, tzinfo=TZ)

    def now(self) -> datetime:
        return self.t


PATIENT = Patient("p1", "1", "Eleanor", "Whitfield", date(1948, 3, 9))


def record(**kw: object) -> CheckinRecord:
    base = CheckinRecord("c1", "lobby-1", Clock().t, Clock().t, "en", PATIENT, None)
    return replace(base, **kw)  # type: ignore[arg-type]


class Sink:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.records: list[CheckinRecord] = []

    def submit(self, rec: CheckinRecord) -> None:
        if self.fail:
            raise StorageError("disk full")
        self.records.append(rec)


def test_counts_by_kind_and_payments_and_nothing_personal_on_disk(tmp_path: Path) -> None:
    clock = Clock()
    counters = DailyCounters(tmp_path, TZ, clock)
    sink = CountingSink(Sink(), counters)
    paid = PaymentResult(PaymentStatus.APPROVED, Money(2500), "c1", last4="4242")
    sink.submit(record(payment=paid))
    sink.submit(record(payment=replace(paid, amount=Money(4000))))
    sink.submit(record(payment_deferred=Money(1200), needs_staff=True))
    sink.submit(record(payment=replace(paid, status=PaymentStatus.DECLINED)))
    assert counters.today() == DayCounts(date(2025, 3, 4), checkins=3, desk_handoffs=1, payments=2,
                                         payments_cents=6500, deferred_cents=1200)  # fmt: skip
    text = (tmp_path / FILE_NAME).read_text()
    assert "Whitfield" not in text and "4242" not in text and json.loads(text)["day"] == "2025-03-04"
    assert DailyCounters(tmp_path, TZ, clock).today().checkins == 3  # survives a restart
    clock.t += timedelta(days=1)
    assert counters.today() == DayCounts(date(2025, 3, 5))
    sink.submit(record())
    assert counters.today().checkins == 1 and "2025-03-04" not in (tmp_path / FILE_NAME).read_text()


def test_a_record_the_outbox_refused_is_not_counted(tmp_path: Path) -> None:
    counters = DailyCounters(tmp_path, TZ, Clock())
    with pytest.raises(StorageError):
        CountingSink(Sink(fail=True), counters).submit(record())
    assert counters.today().checkins == 0


class Printer:
    def __init__(self, fail: str = "") -> None:
        self.fail = fail
        self.printed: list[Ticket] = []

    def print_ticket(self, ticket: Ticket) -> None:
        if self.fail:
            raise PrinterFailure("x", reason=self.fail)
        self.printed.append(ticket)


def test_the_printer_port_follows_a_swap_and_remembers_today_only() -> None:
    clock = Clock()
    devices = SimpleNamespace(printer=Printer(fail="out_of_paper"))
    port = PrinterPort(devices, clock, TZ)
    assert port.last_ticket is None
    ticket = Ticket("A-001", "Eleanor W.", clock.t, "the waiting room", "Clinic", "en", checkin_id="c1")
    with pytest.raises(PrinterFailure):
        port.print_ticket(ticket)
    assert port.last_ticket == ticket  # kept for a reprint once paper is back
    devices.printer = Printer()  # "restart devices" swapped the object
    port.print_ticket(ticket)
    assert devices.printer.printed == [ticket]
    assert "Eleanor" not in repr(port.last_ticket)
    clock.t += timedelta(hours=16)  # after midnight in the practice's time zone
    assert port.last_ticket is None
    devices.printer = None
    with pytest.raises(PrinterFailure):
        port.print_ticket(ticket)


def test_status_of_an_unknown_day_file_is_zero(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("not json")
    assert DailyCounters(tmp_path, TZ, Clock()).today().checkins == 0
