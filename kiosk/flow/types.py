"""Domain types of one check-in. Frozen dataclasses, no I/O.

Personal data never appears in ``repr()``: every type that carries it uses ``repr=False`` on those
fields, so an accidental ``log.info("%s", patient)`` prints ids and states only (DESIGN §9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

JSON = Mapping[str, Any]


@dataclass(frozen=True)
class Money:
    """An amount in minor units (cents), never a float."""

    cents: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.cents < 0:
            raise ValueError("Money cannot be negative")


@dataclass(frozen=True)
class Address:
    line1: str = field(default="", repr=False)
    line2: str = field(default="", repr=False)
    city: str = field(default="", repr=False)
    state: str = field(default="", repr=False)
    postal_code: str = field(default="", repr=False)
    country: str = field(default="", repr=False)


@dataclass(frozen=True)
class Demographics:
    """What the patient may review and correct on the demographics step."""

    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    address: Address = field(default_factory=Address, repr=False)


@dataclass(frozen=True)
class Patient:
    id: str
    version: str | None
    given: str = field(repr=False)
    family: str = field(repr=False)
    birth_date: date = field(repr=False)
    demographics: Demographics = field(default_factory=Demographics, repr=False)
    balance: Money | None = field(default=None, repr=False)
    # The FHIR resource as read (needed to PUT an update); never logged.
    source: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def display_name(self) -> str:
        """First name + last initial: the only name that may appear on a ticket or a shared screen."""
        initial = self.family.strip()[:1].upper()
        return f"{self.given.strip()} {initial}." if initial else self.given.strip()


class AppointmentStatus(StrEnum):
    PROPOSED = "proposed"
    PENDING = "pending"
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"
    CHECKED_IN = "checked-in"
    WAITLIST = "waitlist"


@dataclass(frozen=True)
class Appointment:
    id: str
    version: str | None
    status: AppointmentStatus
    start: datetime  # timezone-aware
    end: datetime | None
    patient_id: str
    provider_id: str | None = None
    provider_name: str = ""
    visit_type_code: str = ""
    visit_type_display: str = ""
    location_id: str | None = None
    location_name: str = ""
    source: JSON = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ScheduledVisit:
    """One appointment of the day with its patient, for staff choosing who gets a tablet (tablet mode)."""

    appointment: Appointment
    patient: Patient | None  # None when the patient could not be read


@dataclass(frozen=True)
class CoverageInfo:
    """Insurance as read from the back-end or entered by the patient."""

    id: str | None
    payer_name: str = field(default="", repr=False)
    member_id: str = field(default="", repr=False)
    group_number: str = field(default="", repr=False)
    plan_name: str = field(default="", repr=False)
    subscriber_name: str = field(default="", repr=False)
    rx_bin: str = field(default="", repr=False)
    rx_pcn: str = field(default="", repr=False)
    rx_group: str = field(default="", repr=False)
    copay: Money | None = None
    self_pay: bool = False
    source: JSON = field(default_factory=dict, repr=False, compare=False)


class CoverageChoice(StrEnum):
    UNCHANGED = "unchanged"  # "same as last time"
    UPDATED = "updated"  # manual entry (or camera + OCR, later)
    SELF_PAY = "self_pay"
    NO_CARD = "no_card"  # "my card isn't with me": the desk follows up


@dataclass(frozen=True)
class CardImage:
    side: str  # "front" | "back"
    content_type: str  # "image/jpeg" | "image/png"
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class InsuranceResult:
    choice: CoverageChoice
    coverage: CoverageInfo | None
    images: tuple[CardImage, ...] = ()


@dataclass(frozen=True)
class ConsentDocument:
    id: str
    title: str
    text: str
    version: str = ""
    url: str = ""  # canonical or reference the Consent points back to
    source: JSON = field(default_factory=dict, repr=False, compare=False)


Point = tuple[float, float]
Stroke = tuple[Point, ...]


@dataclass(frozen=True)
class Signature:
    strokes: tuple[Stroke, ...] = field(repr=False)
    png: bytes = field(repr=False)
    pad_size: tuple[int, int]
    signed_at: datetime


@dataclass(frozen=True)
class SignedConsent:
    document: ConsentDocument
    signature: Signature


class AnswerKind(StrEnum):
    BOOLEAN = "boolean"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE = "date"
    STRING = "string"
    CODING = "coding"


@dataclass(frozen=True)
class Answer:
    """One typed answer value. For CODING, ``value`` is the code and system/display are filled."""

    kind: AnswerKind
    value: Any = field(repr=False)
    system: str = ""
    display: str = field(default="", repr=False)


@dataclass(frozen=True)
class ResponseItem:
    """A QuestionnaireResponse item, nested like the Questionnaire (groups hold items)."""

    link_id: str
    text: str = field(default="", repr=False)
    answers: tuple[Answer, ...] = field(default=(), repr=False)
    items: tuple[ResponseItem, ...] = ()


@dataclass(frozen=True)
class QuestionnaireResult:
    questionnaire_id: str
    questionnaire_url: str  # canonical url (|version) for QuestionnaireResponse.questionnaire
    title: str
    items: tuple[ResponseItem, ...] = field(repr=False)
    completed_at: datetime  # when finished; for an unfinished form (desk hand-off), when it was handed over
    complete: bool = True  # False: the patient stopped part-way (QuestionnaireResponse "in-progress")


class PaymentStatus(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True)
class PaymentRequest:
    amount: Money
    reference: str  # the check-in id: a terminal never charges one reference twice
    description: str = "Co-pay"


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    amount: Money
    reference: str
    processor_reference: str = ""  # token / transaction id from the terminal; never card data
    brand: str = ""
    last4: str = ""
    auth_code: str = ""
    message_key: str = ""  # e.g. "card_declined", "terminal_timeout"
    at: datetime | None = None


@dataclass(frozen=True)
class Ticket:
    """What goes on paper: nothing else is personal (DESIGN §9)."""

    queue_number: str
    display_name: str = field(repr=False)  # first name + last initial
    issued_at: datetime
    wait_area: str
    clinic_name: str
    language: str
    desk: bool = False  # "please see the front desk, we have your details"
    checkin_id: str = ""


class DeskReason(StrEnum):
    NOT_FOUND = "not_found"
    AMBIGUOUS_IDENTITY = "ambiguous_identity"
    NO_APPOINTMENT = "no_appointment"
    TOO_EARLY = "too_early"
    LATE = "late"
    VISIT_TYPE = "visit_type_needs_desk"
    PROVIDER = "provider_needs_desk"
    BALANCE_DUE = "balance_due"
    ALREADY_CHECKED_IN = "already_checked_in"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    CONSENT_DECLINED = "consent_declined"
    PATIENT_REQUEST = "patient_request"
    ID_REFUSED = "id_refused"
    STORAGE_ERROR = "storage_error"  # the outbox refused the record twice: the desk must take the details


@dataclass(frozen=True)
class CheckinRecord:
    """Everything one check-in produced: mapped to ONE FHIR transaction Bundle by portal_client."""

    checkin_id: str  # uuid4 hex, the kiosk-made identifier behind every conditional create
    kiosk_id: str
    started_at: datetime
    completed_at: datetime
    language: str
    patient: Patient
    appointment: Appointment | None
    demographics: Demographics | None = None  # None = unchanged
    insurance: InsuranceResult | None = None
    responses: tuple[QuestionnaireResult, ...] = ()
    consents: tuple[SignedConsent, ...] = ()
    payment: PaymentResult | None = None
    payment_deferred: Money | None = None  # "pay at the desk": the amount still owed today
    needs_staff: bool = False
    desk_reason: DeskReason | None = None
    queue_number: str = ""
    # Made on a waiting-room tablet (tablet mode): intake for a visit a kiosk or the desk may already have
    # checked in, so its Encounter is the visit's one (portal_client.fhir.bundle).
    tablet: bool = False
