"""State and plumbing shared by the step handlers of ``CheckinFlow`` (see machine.py).

Holds the ports, the session and the current result; shows steps, logs transitions (ids, step names and
message keys only) and hands a patient to the desk without losing what was entered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from . import finish
from .config import FlowConfig
from .ports import CheckinSink, Clock, Directory, PaymentTerminal, QueueNumbers, TicketPrinter
from .results import Done, Result, Show, Step, ToDesk
from .session import Session
from .types import DeskReason
from .views import step_data

log = logging.getLogger("kiosk.flow.machine")

Handler = Callable[[str, Mapping[str, Any]], Result]


class FlowBase:
    def __init__(
        self,
        config: FlowConfig,
        directory: Directory,
        sink: CheckinSink,
        terminal: PaymentTerminal | None,
        printer: TicketPrinter | None,
        queue: QueueNumbers,
        clock: Clock,
        new_id: Callable[[], str],
    ) -> None:
        self._config = config
        self._directory = directory
        self._sink = sink
        self._terminal = terminal
        self._printer = printer
        self._queue = queue
        self._clock = clock
        self._new_id = new_id
        self.session = Session()
        self._current: Result = Show(Step.WELCOME)

    # Implemented by CheckinFlow (navigation needs every step).
    def reset(self) -> Result:
        raise NotImplementedError

    def _forward(self, after: Step) -> Result:
        raise NotImplementedError

    def _backward(self, before: Step) -> Result:
        raise NotImplementedError

    @property
    def current(self) -> Result:
        return self._current

    @property
    def language(self) -> str:
        return self.session.language or self._config.default_language

    def _now(self) -> datetime:
        return self._clock.now()

    def _today(self) -> date:
        """The practice's local calendar day."""
        return self._now().astimezone(self._config.timezone).date()

    def _show(self, step: Step, errors: Mapping[str, str] | None = None) -> Show:
        return Show(step=step, data=step_data(step, self.session, self._config), errors=dict(errors or {}))

    def _set(self, result: Result) -> Result:
        old = self._current
        old_name = str(old.step) if isinstance(old, Show) else ("desk" if isinstance(old, ToDesk) else "done")
        if isinstance(result, Show):
            self.session.step = result.step
            new_name = str(result.step)
            extra = f" errors={sorted(set(result.errors.values()))}" if result.errors else ""
        elif isinstance(result, ToDesk):
            self.session.step = Step.DESK
            new_name, extra = "desk", f" reason={result.reason}"
        else:
            self.session.step = Step.DONE
            new_name, extra = "done", ""
        log.info("checkin %s: %s -> %s%s", self.session.checkin_id or "-", old_name, new_name, extra)
        self._current = result
        return result

    def _desk(self, reason: DeskReason) -> ToDesk:
        """Send the patient to the desk. An identified patient's details go to the outbox first
        (``needs_staff=True``), with a queue number and a desk ticket when the kiosk prints tickets."""
        s, cfg = self.session, self._config
        if s.patient is not None:
            now = self._now()
            if not s.checkin_id:
                s.checkin_id = self._new_id()
            if cfg.steps.ticket and not s.queue_number:
                s.queue_number = finish.take_number(self._queue, now, cfg, s.checkin_id)
            s.record = finish.build_record(s, cfg, now, needs_staff=True, desk_reason=reason)
            s.stored = finish.store(self._sink, s.record)
            if cfg.steps.ticket and not s.printed:
                s.printed, _failed = finish.print_ticket(self._printer, s, cfg, now, desk=True)
        return ToDesk(reason=str(reason), summary=finish.summary(s, cfg))


def is_final(result: Result) -> bool:
    return isinstance(result, (Done, ToDesk))
