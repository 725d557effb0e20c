"""Tablet mode (``FlowConfig.tablet``): staff start a session for one patient, the patient fills in the
intake, and the tablet ends locked on "please hand the tablet back" (STEPS.md, "Tablet mode").

    tablet_start (staff)  ->  demographics / insurance / forms / consents (patient)  ->  hand_back (locked)

Every staff input goes through a ``StaffGate`` (the runtime's ``kiosk.staff.auth.StaffAuth``): nothing is
read or started unless a staff member is unlocked, and handing the tablet over locks staff mode. A tablet
never takes payments and prints nothing; the result goes to the outbox like a kiosk check-in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .base import FlowBase
from .config import FlowConfig
from .ports import Schedule
from .results import Done, Result, Show, Step, ToDesk
from .rules import ARRIVED_STATUSES, OPEN_STATUSES, time_text
from .session import Session
from .types import ScheduledVisit

log = logging.getLogger("kiosk.flow.machine")

TICKET_PREFIX = "CKI-TICKET:"  # what the kiosk's ticket QR carries: CKI-TICKET:<checkin id>
LISTED = OPEN_STATUSES | ARRIVED_STATUSES  # visits of today a tablet may be handed out for


@runtime_checkable
class StaffGate(Protocol):
    def current_staff(self) -> str | None:
        """Who is unlocked now (a staff id or ``badge:<fingerprint>``), None when staff mode is locked."""
        ...

    def lock(self, reason: str = "manual") -> None:
        """Leave staff mode (the tablet goes to a patient)."""
        ...

    def audit_action(self, action: str, detail: str = "") -> None:
        """Record a staff action done through the flow (who = whoever is unlocked)."""
        ...


def parse_ticket(text: str) -> str | None:
    """The check-in id of a ticket QR ("CKI-TICKET:<32 hex>"), None for anything else."""
    if not isinstance(text, str) or not text.startswith(TICKET_PREFIX):
        return None
    checkin_id = text[len(TICKET_PREFIX) :].strip()
    ok = 8 <= len(checkin_id) <= 64 and all(c in "0123456789abcdefABCDEF-" for c in checkin_id)
    return checkin_id.lower() if ok else None


def visit_data(visit: ScheduledVisit, config: FlowConfig) -> dict[str, Any]:
    a, p = visit.appointment, visit.patient
    return {
        "appointment_id": a.id,
        "start": a.start.isoformat(),
        "time_text": time_text(a.start, config),
        "patient_name": f"{p.given} {p.family}".strip() if p else "",
        "birth_date": p.birth_date.isoformat() if p else "",
        "provider": a.provider_name,
        "location": a.location_name,
        "visit_type": a.visit_type_display or a.visit_type_code,
        "status": str(a.status),
        "checked_in": a.status in ARRIVED_STATUSES,
        "selectable": p is not None,
    }


def tablet_data(step: Step, session: Session, config: FlowConfig) -> dict[str, Any]:
    if step == Step.TABLET_START:
        return {
            "day": session.visits_day,
            "loaded": bool(session.visits_day),
            "visits": [visit_data(v, config) for v in session.visits],
        }
    return dict(session.hand_back)


class TabletSteps(FlowBase):
    _staff_gate: StaffGate | None = None
    _schedule: Schedule | None = None

    @property
    def _tablet(self) -> bool:
        return self._config.tablet

    def _set(self, result: Result) -> Result:
        if self._tablet and isinstance(result, (Done, ToDesk)):
            result = self._hand_back(result)
        return super()._set(result)

    def _staff_on_duty(self) -> str | None:
        gate = self._staff_gate
        try:
            return gate.current_staff() if gate is not None else None
        except Exception as exc:
            log.error("staff gate failed (%s)", type(exc).__name__)
            return None

    # -- tablet_start (staff) ------------------------------------------------------------------------------
    def _on_tablet_start(self, action: str, ui: Mapping[str, Any]) -> Result:
        if action not in ("load", "choose", "ticket", "barcode"):
            return self._show(Step.TABLET_START, {"base": "invalid_input"})
        if self._staff_on_duty() is None:
            return self._show(Step.TABLET_START, {"base": "staff_locked"})
        schedule = self._schedule
        if schedule is None:
            return self._show(Step.TABLET_START, {"base": "schedule_unavailable"})
        s = self.session
        if action == "load":
            day = self._today()
            try:
                visits = [v for v in schedule.appointments_for_day(day) if v.appointment.status in LISTED]
            except Exception as exc:
                log.warning("tablet: schedule read failed (%s)", type(exc).__name__)
                return self._show(Step.TABLET_START, {"base": "backend_unavailable"})
            s.visits, s.visits_day = visits, day.isoformat()
            log.info("tablet: %d visit(s) listed", len(visits))
            return self._show(Step.TABLET_START)
        if action == "choose":
            wanted = ui.get("appointment_id")
            visit = next((v for v in s.visits if v.appointment.id == wanted and v.patient is not None), None)
            if visit is None:
                return self._show(Step.TABLET_START, {"base": "choose_appointment"})
            return self._begin(visit)
        checkin_id = parse_ticket(ui.get("text", ""))
        if checkin_id is None:
            return self._show(Step.TABLET_START, {"base": "ticket_not_recognized"})
        try:
            found = schedule.find_checkin(checkin_id)
        except Exception as exc:
            log.warning("tablet: ticket lookup failed (%s)", type(exc).__name__)
            return self._show(Step.TABLET_START, {"base": "backend_unavailable"})
        if found is None or found.patient is None:
            return self._show(Step.TABLET_START, {"base": "ticket_not_found"})
        if found.appointment.start.astimezone(self._config.timezone).date() != self._today():
            return self._show(Step.TABLET_START, {"base": "ticket_not_today"})
        return self._begin(found)

    def _begin(self, visit: ScheduledVisit) -> Result:
        """Read the visit's forms and consents, then hand over: staff mode locks, the patient's first step."""
        s = self.session
        assert visit.patient is not None
        s.patient, s.appointment = visit.patient, visit.appointment
        if not self._load_visit_data():  # nothing handed over yet: staff stay on the list
            s.patient = s.appointment = None
            return self._show(Step.TABLET_START, {"base": "backend_unavailable"})
        s.visits, s.visits_day = [], ""
        s.checkin_id = self._new_id()
        s.started_at = self._now()
        gate = self._staff_gate
        if gate is not None:
            try:
                gate.audit_action("tablet_session_started", s.checkin_id)
                gate.lock("handed_to_patient")
            except Exception as exc:
                log.error("staff gate failed (%s)", type(exc).__name__)
        log.info("checkin %s: tablet session started", s.checkin_id)
        return self._forward(Step.CONFIRM_APPOINTMENT)

    if TYPE_CHECKING:  # provided by VisitSteps (later in CheckinFlow's bases)

        def _load_visit_data(self) -> bool: ...

    # -- hand_back (locked until staff take the tablet) ----------------------------------------------------
    def _hand_back(self, result: Done | ToDesk) -> Show:
        """Wipe the patient's session; keep only what the locked screen says (no personal data)."""
        summary = result.summary
        info = {
            "outcome": "done" if isinstance(result, Done) else "desk",
            "reason": result.reason if isinstance(result, ToDesk) else "",
            "synced_later": bool(summary.get("synced_later")),
            "checkin_id": str(summary.get("checkin_id") or ""),
        }
        language = self.session.language
        self.session.clear()
        self.session.language = language  # the locked screen speaks the patient's language
        self.session.hand_back = info
        return Show(Step.HAND_BACK, data=dict(info))

    def _on_hand_back(self, action: str, ui: Mapping[str, Any]) -> Result:
        if action != "release":
            return self._show(Step.HAND_BACK, {"base": "invalid_input"})
        if self._staff_on_duty() is None:
            return self._show(Step.HAND_BACK, {"base": "staff_locked"})
        gate = self._staff_gate
        if gate is not None:
            try:
                gate.audit_action("tablet_released", self.session.hand_back.get("checkin_id", ""))
            except Exception as exc:
                log.error("staff gate failed (%s)", type(exc).__name__)
        return self.reset()
