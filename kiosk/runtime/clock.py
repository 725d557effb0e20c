"""The real clock, in the practice's time zone."""

from __future__ import annotations

from datetime import datetime, tzinfo


class SystemClock:
    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)
