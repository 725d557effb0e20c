"""The real clock, in the practice's time zone."""

from __future__ import annotations

from datetime import datetime, tzinfo


class SystemClock:
    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class FixedClock:
    """A clock that shows one instant until told otherwise (demos, tests, replaying a recorded day)."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now
