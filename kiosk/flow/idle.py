"""Inactivity timer for one session (pure: the caller passes monotonic seconds).

``timeout_s`` of inactivity expire the session; the last ``warning_s`` of them are the warning ("Do you need
more time?"). ``more_time()`` restarts the timer and doubles the allowance (Section 508 / WCAG 2.2.1: the
patient can extend the limit with a simple action, here as often as they like, the allowance capped at
``max_timeout_s``). ``activity()`` restarts the timer with the current allowance. ``reset()`` is for a new
session: the allowance returns to ``timeout_s``.
"""

from __future__ import annotations

import math

ACTIVE = "active"
WARNING = "warning"
EXPIRED = "expired"


class IdleTimer:
    def __init__(
        self,
        timeout_s: float,
        warning_s: float,
        *,
        now: float = 0.0,
        max_timeout_s: float | None = None,
    ) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError("timeout_s must be a positive number")
        if not (math.isfinite(warning_s) and 0 <= warning_s < timeout_s):
            raise ValueError("warning_s must be >= 0 and below timeout_s")
        self.timeout_s = float(timeout_s)
        self.warning_s = float(warning_s)
        self.max_timeout_s = float(max_timeout_s) if max_timeout_s is not None else 16 * self.timeout_s
        if self.max_timeout_s < self.timeout_s:
            raise ValueError("max_timeout_s must be >= timeout_s")
        self._allowance = self.timeout_s
        self._last = float(now)
        self.extensions = 0

    @property
    def allowance_s(self) -> float:
        return self._allowance

    def activity(self, now: float) -> None:
        """The patient touched, typed or scanned something."""
        self._last = max(self._last, float(now))

    def elapsed(self, now: float) -> float:
        return max(0.0, float(now) - self._last)

    def remaining(self, now: float) -> float:
        """Seconds until expiry (0 when expired)."""
        return max(0.0, self._allowance - self.elapsed(now))

    def state(self, now: float) -> str:
        elapsed = self.elapsed(now)
        if elapsed >= self._allowance:
            return EXPIRED
        if elapsed >= self._allowance - self.warning_s:
            return WARNING
        return ACTIVE

    def more_time(self, now: float) -> float:
        """ "I need more time": restart and double the allowance (capped). Returns the new allowance."""
        self._allowance = min(self._allowance * 2, self.max_timeout_s)
        self.extensions += 1
        self._last = max(self._last, float(now))
        return self._allowance

    def reset(self, now: float) -> None:
        """A new session starts: base allowance, timer restarted."""
        self._allowance = self.timeout_s
        self.extensions = 0
        self._last = float(now)
