"""The practice's rules, as pure functions over config + domain types (no I/O).

- Which of today's appointments can be checked in at the kiosk (window, status), and which need the desk
  (visit type, provider), and whether a balance sends the patient to the desk first.
- How much to collect (co-pay or self-pay) for the chosen appointment and insurance answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .config import FlowConfig
from .types import (
    Appointment,
    AppointmentStatus,
    CoverageChoice,
    DeskReason,
    InsuranceResult,
    Money,
    Patient,
)

# Statuses that mean "this visit is happening today and not yet checked in".
OPEN_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.PENDING})
# Statuses that mean "already checked in (here or at the desk)".
ARRIVED_STATUSES = frozenset(
    {AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN, AppointmentStatus.FULFILLED}
)
# Every other status (proposed, waitlist, cancelled, noshow, entered-in-error) is not a visit today.

REASON_TOO_EARLY = "too_early"
REASON_LATE = "late"
REASON_ALREADY = "already_checked_in"


@dataclass(frozen=True)
class Candidate:
    appointment: Appointment
    reason: str  # "" (selectable) | "too_early" | "late" | "already_checked_in"

    @property
    def selectable(self) -> bool:
        return not self.reason


def window_reason(appointment: Appointment, now: datetime, config: FlowConfig) -> str:
    if appointment.status in ARRIVED_STATUSES:
        return REASON_ALREADY
    if now < appointment.start - timedelta(minutes=config.early_minutes):
        return REASON_TOO_EARLY
    if now > appointment.start + timedelta(minutes=config.late_minutes):
        return REASON_LATE
    return ""


def candidates(appointments: Sequence[Appointment], now: datetime, config: FlowConfig) -> list[Candidate]:
    """Today's relevant appointments, by start time, each with why it cannot be checked in (if so)."""
    relevant = [a for a in appointments if a.status in OPEN_STATUSES | ARRIVED_STATUSES]
    relevant.sort(key=lambda a: (a.start, a.id))
    return [Candidate(a, window_reason(a, now, config)) for a in relevant]


def balance_blocks(patient: Patient, config: FlowConfig) -> bool:
    """A balance above the practice's limit sends the patient to the desk (None limit = ignore)."""
    limit, balance = config.balance_limit, patient.balance
    if limit is None or balance is None:
        return False
    return balance.cents > limit.cents


def desk_reason_for(appointment: Appointment, config: FlowConfig) -> DeskReason | None:
    """A visit type or provider that the practice handles at the desk."""
    if appointment.visit_type_code and appointment.visit_type_code in config.desk_visit_types:
        return DeskReason.VISIT_TYPE
    if appointment.provider_id and appointment.provider_id in config.desk_provider_ids:
        return DeskReason.PROVIDER
    return None


def blocking_reason(
    patient: Patient, found: Sequence[Candidate], now: datetime, config: FlowConfig
) -> DeskReason | None:
    """Rules that stop the kiosk check-in before the patient picks an appointment."""
    if balance_blocks(patient, config):
        return DeskReason.BALANCE_DUE
    if not found:
        return DeskReason.NO_APPOINTMENT
    selectable = [c for c in found if c.selectable]
    if not selectable:
        # The appointment nearest to now explains it best ("too early" for the 2 pm visit at 11 am).
        nearest = min(found, key=lambda c: abs((c.appointment.start - now).total_seconds()))
        return {
            REASON_ALREADY: DeskReason.ALREADY_CHECKED_IN,
            REASON_TOO_EARLY: DeskReason.TOO_EARLY,
            REASON_LATE: DeskReason.LATE,
        }[nearest.reason]
    desk = [desk_reason_for(c.appointment, config) for c in selectable]
    if all(reason is not None for reason in desk):
        return desk[0]
    return None


def time_text(start: datetime, config: FlowConfig) -> str:
    """ "9:30 AM" in the practice's time zone (not localized: the UI formats ``start`` itself)."""
    local = start.astimezone(config.timezone)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


# -- money -------------------------------------------------------------------------------------------
KIND_COPAY = "copay"
KIND_SELF_PAY = "self_pay"


def amount_due(
    appointment: Appointment | None, insurance: InsuranceResult | None, config: FlowConfig
) -> tuple[Money | None, str]:
    """What to collect today and its kind ("copay" | "self_pay"). None or 0 cents = nothing to collect.

    "same" coverage → the on-file coverage's copay, else the table by visit type, else the default copay;
    manual entry, "no card" and a skipped insurance step → the table, else the default copay;
    self-pay → the self-pay table by visit type, else the default self-pay amount.
    """
    visit_type = appointment.visit_type_code if appointment else ""
    if insurance is not None and insurance.choice == CoverageChoice.SELF_PAY:
        return config.self_pay_by_visit_type.get(visit_type, config.default_self_pay), KIND_SELF_PAY
    if (
        insurance is not None
        and insurance.choice == CoverageChoice.UNCHANGED
        and insurance.coverage is not None
        and insurance.coverage.copay is not None
    ):
        return insurance.coverage.copay, KIND_COPAY
    return config.copay_by_visit_type.get(visit_type, config.default_copay), KIND_COPAY


def wait_area(appointment: Appointment | None, config: FlowConfig) -> str:
    if appointment is not None and appointment.location_id:
        return config.wait_area_by_location.get(appointment.location_id, config.default_wait_area)
    return config.default_wait_area
