"""One patient's check-in, in memory only. ``clear()`` wipes every field in place (DESIGN §3).

Everything the flow learns or the patient enters lives here and nowhere else in the flow, so a reset is one
call: after ``clear()`` every field holds its empty default again, and the objects that held personal data
(forms, records, lists) have been emptied too, not only dropped.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any

from .questionnaire import Form
from .reminder import ReminderToken
from .results import Step
from .rules import Candidate
from .types import (
    Appointment,
    CheckinRecord,
    ConsentDocument,
    CoverageInfo,
    Demographics,
    InsuranceResult,
    Money,
    Patient,
    PaymentResult,
    ScheduledVisit,
    SignedConsent,
)


@dataclass(repr=False)
class Session:
    step: Step = Step.WELCOME
    language: str = ""
    checkin_id: str = ""
    started_at: datetime | None = None
    attempts_left: int = 0
    token: ReminderToken | None = None  # a verified reminder QR, waiting for the date of birth
    patient: Patient | None = None
    candidates: list[Candidate] = field(default_factory=list)
    appointment: Appointment | None = None
    # Loaded once after the appointment is confirmed (no back-end reads after that point).
    loaded_for: str = ""  # the appointment id the data below was loaded for
    coverage_on_file: CoverageInfo | None = None
    forms: list[Form] = field(default_factory=list)
    form_index: int = 0
    consent_documents: list[ConsentDocument] = field(default_factory=list)
    consent_index: int = 0
    # What the patient entered.
    demographics: Demographics | None = None  # None = unchanged
    insurance: InsuranceResult | None = None
    forms_completed_at: dict[int, datetime] = field(default_factory=dict)
    consents: list[SignedConsent] = field(default_factory=list)
    # Payment and ticket.
    amount: Money | None = None
    amount_kind: str = ""
    payment_attempt: int = 0
    payment: PaymentResult | None = None
    payment_deferred: Money | None = None
    queue_number: str = ""
    ticket_issued_at: datetime | None = None
    printed: bool = False
    record: CheckinRecord | None = None  # the last record built (kept for a retry after StorageError)
    stored: bool = False  # the record reached the sink
    shown_ticket_data: dict[str, Any] = field(default_factory=dict)
    # Tablet mode: the day's visits staff choose from, and what the locked hand-back screen says.
    visits: list[ScheduledVisit] = field(default_factory=list)
    visits_day: str = ""
    hand_back: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # ids and states only (DESIGN §9)
        return f"Session(step={self.step!s}, checkin_id={self.checkin_id!r})"

    def clear(self) -> None:
        """Wipe every field in place: containers are emptied before they are replaced."""
        for form in self.forms:
            form.wipe()
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (list, dict, set)):
                value.clear()
            if f.default_factory is not MISSING:
                setattr(self, f.name, f.default_factory())
            else:
                setattr(self, f.name, f.default)

    @property
    def identified(self) -> bool:
        return self.patient is not None
