"""The check-in state machine (Home Assistant config-flow style). The contract is STEPS.md.

``submit`` never raises for bad input or a failing port: it returns ``Show`` with ``errors``. Everything
about the patient lives in ``self.session`` and is wiped by ``reset()``. The handlers live in
steps_identify.py (welcome, identify, identify_dob) and steps_visit.py (everything after identification);
this module owns the public API and the navigation between steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from uuid import uuid4

from .base import Handler
from .config import FlowConfig
from .ports import CheckinSink, Clock, Directory, PaymentTerminal, QueueNumbers, Schedule, TicketPrinter
from .results import Done, Result, Step, ToDesk
from .steps_identify import IdentifySteps
from .steps_visit import VisitSteps
from .tablet import StaffGate, TabletSteps
from .types import DeskReason

log = logging.getLogger(__name__)

# The steps after identification, in order. Each may be skipped (switched off, or nothing to do).
ORDER = (
    Step.CONFIRM_APPOINTMENT,
    Step.DEMOGRAPHICS,
    Step.INSURANCE,
    Step.FORMS,
    Step.CONSENTS,
    Step.PAYMENT,
    Step.TICKET,
)


def _new_id() -> str:
    return uuid4().hex


class CheckinFlow(TabletSteps, IdentifySteps, VisitSteps):
    def __init__(
        self,
        config: FlowConfig,
        directory: Directory,
        sink: CheckinSink,
        terminal: PaymentTerminal | None,
        printer: TicketPrinter | None,
        queue: QueueNumbers,
        clock: Clock,
        new_id: Callable[[], str] = _new_id,
        *,
        staff: StaffGate | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        if config.tablet:  # a tablet takes no payment and prints no ticket (STEPS.md, "Tablet mode")
            config = replace(config, steps=replace(config.steps, payment=False, ticket=False))
            terminal = printer = None
        super().__init__(config, directory, sink, terminal, printer, queue, clock, new_id)
        self._staff_gate = staff
        self._schedule = schedule
        self._handlers: dict[Step, Handler] = {
            Step.WELCOME: self._on_welcome,
            Step.IDENTIFY: self._on_identify,
            Step.IDENTIFY_DOB: self._on_identify_dob,
            Step.CONFIRM_APPOINTMENT: self._on_confirm,
            Step.DEMOGRAPHICS: self._on_demographics,
            Step.INSURANCE: self._on_insurance,
            Step.FORMS: self._on_forms,
            Step.CONSENTS: self._on_consents,
            Step.PAYMENT: self._on_payment,
            Step.TICKET: self._on_ticket,
            Step.TABLET_START: self._on_tablet_start,
            Step.HAND_BACK: self._on_hand_back,
        }
        self.reset()

    # -- public API ----------------------------------------------------------------------------------
    def start(self) -> Result:
        return self.reset()

    def reset(self) -> Result:
        """Wipe the session (after done, cancel, idle) and show the welcome screen."""
        old_id = self.session.checkin_id
        self.session.clear()
        self.session.language = self._config.default_language
        self.session.attempts_left = max(1, self._config.max_identify_attempts)
        first = Step.TABLET_START if self._config.tablet else Step.WELCOME
        self.session.step = first
        self._current = self._show(first)
        log.info("checkin %s: reset -> %s", old_id or "-", first)
        return self._current

    def submit(self, user_input: Mapping[str, Any]) -> Result:
        """Input for the current step. Never raises for bad input or a failing port."""
        if isinstance(self._current, (Done, ToDesk)):
            return self._current
        step = self.session.step
        if not isinstance(user_input, Mapping):
            return self._set(self._show(step, {"base": "invalid_input"}))
        if "step" in user_input and user_input.get("step") != str(step):
            return self._current  # input meant for another screen (a late tap): ignored
        action = user_input.get("action")
        if not isinstance(action, str):
            return self._set(self._show(step, {"base": "invalid_input"}))
        if action == "back":
            return self.back()
        return self._set(self._handlers[step](action, user_input))

    def back(self) -> Result:
        """The previous page or step where that makes sense (never back past identification)."""
        if isinstance(self._current, (Done, ToDesk)):
            return self._current
        return self._set(self._back())

    def to_desk(self, reason: str = "patient_request") -> Result:
        """The "I need help" button, on every screen. Keeps what was entered."""
        if isinstance(self._current, (Done, ToDesk)) or self.session.step in (Step.TABLET_START, Step.HAND_BACK):
            return self._current  # nothing to hand over (a tablet's staff screens)
        try:
            desk_reason = DeskReason(reason)
        except ValueError:
            desk_reason = DeskReason.PATIENT_REQUEST
        return self._set(self._desk(desk_reason))

    # -- navigation ----------------------------------------------------------------------------------
    def _enter(self, step: Step, forward: bool) -> Result | None:
        """Show ``step`` (arriving forward or backward), or None to skip it."""
        switches = self._config.steps
        if step == Step.CONFIRM_APPOINTMENT:
            return None if self._config.tablet else self._show(step)  # a tablet never goes back to it
        if step == Step.DEMOGRAPHICS:
            return self._show(step) if switches.demographics else None
        if step == Step.INSURANCE:
            return self._show(step) if switches.insurance else None
        if step == Step.FORMS:
            return self._enter_forms(forward) if switches.forms else None
        if step == Step.CONSENTS:
            return self._enter_consents(forward)
        if step == Step.PAYMENT:  # a tablet neither charges nor records an amount owed
            return self._enter_payment() if forward and not self._config.tablet else None
        return self._finish() if forward else None

    def _forward(self, after: Step) -> Result:
        for step in ORDER[ORDER.index(after) + 1 :]:
            result = self._enter(step, forward=True)
            if result is not None:
                return result
        return self._finish()

    def _backward(self, before: Step) -> Result:
        for step in reversed(ORDER[: ORDER.index(before)]):
            result = self._enter(step, forward=False)
            if result is not None:
                return result
        return self._show(before)

    def _back(self) -> Result:
        s = self.session
        step = s.step
        if step == Step.IDENTIFY:
            return self._show(Step.WELCOME)
        if step == Step.IDENTIFY_DOB:
            s.token = None
            return self._show(Step.IDENTIFY)
        if step == Step.FORMS:
            return self._forms_back()
        if step == Step.CONSENTS and s.consent_index > 0:
            s.consent_index -= 1
            return self._show(Step.CONSENTS)
        if step in (Step.DEMOGRAPHICS, Step.INSURANCE, Step.CONSENTS, Step.PAYMENT):
            return self._backward(step)
        return self._current  # welcome, confirm_appointment (not past identification), ticket
