"""Today's figures for the status screen and /metrics: check-ins, desk hand-offs, payments (count and total).

Kept in a small JSON file in the data folder (``daily-counts.json``) so a restart does not lose the day, with
only numbers in it (no personal data). Only today's figures are kept: the first record of a new day starts
from zero. ``CountingSink`` wraps the flow's ``CheckinSink``: a record counts once the outbox has taken it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, replace
from datetime import date, tzinfo
from pathlib import Path

from kiosk.flow.ports import CheckinSink, Clock
from kiosk.flow.types import CheckinRecord, PaymentStatus

log = logging.getLogger(__name__)

FILE_NAME = "daily-counts.json"


@dataclass(frozen=True)
class DayCounts:
    day: date
    checkins: int = 0  # finished at the kiosk (needs_staff = False)
    desk_handoffs: int = 0  # handed to the desk with what was entered (needs_staff = True)
    payments: int = 0  # approved card payments
    payments_cents: int = 0  # their total, for the day's reconciliation
    deferred_cents: int = 0  # owed at the desk ("pay at the desk", no terminal, desk hand-offs)


class DailyCounters:
    def __init__(self, folder: Path, tz: tzinfo, clock: Clock) -> None:
        self.path = Path(folder) / FILE_NAME
        self._tz = tz
        self._clock = clock
        self._lock = threading.Lock()

    def _today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    def _read(self, day: date) -> DayCounts:
        try:
            data = json.loads(self.path.read_text())
            if data.get("day") != day.isoformat():
                return DayCounts(day)
            return DayCounts(day, **{k: int(v) for k, v in data.items() if k != "day"})
        except (FileNotFoundError, ValueError, TypeError, AttributeError):
            return DayCounts(day)

    def today(self) -> DayCounts:
        with self._lock:
            return self._read(self._today())

    def add(self, record: CheckinRecord) -> DayCounts:
        with self._lock:
            counts = self._read(self._today())
            if record.needs_staff:
                counts = replace(counts, desk_handoffs=counts.desk_handoffs + 1)
            else:
                counts = replace(counts, checkins=counts.checkins + 1)
            payment = record.payment
            if payment is not None and payment.status == PaymentStatus.APPROVED:
                counts = replace(counts, payments=counts.payments + 1,
                                 payments_cents=counts.payments_cents + payment.amount.cents)  # fmt: skip
            if record.payment_deferred is not None:
                counts = replace(counts, deferred_cents=counts.deferred_cents + record.payment_deferred.cents)
            self._write(counts)
        return counts

    def _write(self, counts: DayCounts) -> None:
        data = {**asdict(counts), "day": counts.day.isoformat()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.path)
        except OSError as exc:  # a lost count must never stop a check-in
            log.error("daily counts not saved (%s)", type(exc).__name__)


class CountingSink:
    """The flow's ``CheckinSink``: hands the record to ``inner`` (the outbox), then counts it."""

    def __init__(self, inner: CheckinSink, counters: DailyCounters) -> None:
        self.inner = inner
        self.counters = counters

    def submit(self, record: CheckinRecord) -> None:
        self.inner.submit(record)  # raises StorageError: not counted
        try:
            self.counters.add(record)
        except Exception as exc:
            log.error("check-in %s not counted (%s)", record.checkin_id, type(exc).__name__)
