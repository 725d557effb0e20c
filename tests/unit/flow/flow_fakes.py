"""Fakes for every port of the check-in flow, and a small in-memory practice.

Fakes, not mocks: each one behaves like the real thing in the ways the flow relies on (the terminal is
idempotent per reference, the queue restarts per day, the sink keeps what it is given) and can be told to fail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.flow.config import FlowConfig
from kiosk.flow.ports import PrinterFailure, ServiceUnavailable, StorageError
from kiosk.flow.types import (
    JSON,
    Address,
    Appointment,
    AppointmentStatus,
    CheckinRecord,
    ConsentDocument,
    CoverageInfo,
    Demographics,
    Money,
    Patient,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Ticket,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TZ = ZoneInfo("America/New_York")
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=TZ)  # Monday 9:00 AM at the practice
SECRET = b"practice-reminder-secret"


def load_fhir(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "fhir" / name).read_text(encoding="utf-8"))
    return data


def load_aamva(name: str) -> str:
    return (FIXTURES / "aamva" / name).read_bytes().decode("latin-1")


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now = self._now + timedelta(**delta)

    def set(self, now: datetime) -> None:
        self._now = now


MARIA = Patient(
    id="pat-maria",
    version="1",
    given="María José",
    family="García-López",
    birth_date=date(1980, 4, 12),
    demographics=Demographics(
        phone="(617) 555-0100",
        email="maria@example.org",
        address=Address(
            line1="1 Harbor Street", city="Boston", state="MA", postal_code="02110", country="US"
        ),
    ),
)
SAMPLE = Patient(id="pat-sample", version="3", given="Michael", family="Sample", birth_date=date(1986, 6, 6))
PUBLIC = Patient(id="pat-public", version="1", given="John", family="Public", birth_date=date(1976, 11, 23))
TWIN_A = Patient(id="pat-kim-a", version="1", given="Alex", family="Kim", birth_date=date(1990, 1, 1))
TWIN_B = Patient(id="pat-kim-b", version="1", given="Alex", family="Kim", birth_date=date(1990, 1, 1))
# Same birth date as María, another person: the directory returns her too, the flow must not pick her.
OTHER = Patient(id="pat-other", version="1", given="Marta", family="Garcia", birth_date=date(1980, 4, 12))

COVERAGE = CoverageInfo(
    id="cov-maria",
    payer_name="Acme Health",
    member_id="XJH123456789",
    group_number="G-100",
    copay=Money(2500),
)
CONSENTS = (
    ConsentDocument(
        id="consent-privacy", title="Notice of privacy practices", text="We protect ...", version="3"
    ),
    ConsentDocument(id="consent-treat", title="Consent to treatment", text="I agree ...", version="1"),
)


def appointment(
    appt_id: str,
    patient: Patient,
    start: datetime,
    *,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    visit_type: str = "FOLLOWUP",
    provider_id: str = "dr-lee",
    location_id: str = "loc-2",
) -> Appointment:
    return Appointment(
        id=appt_id,
        version="1",
        status=status,
        start=start,
        end=start + timedelta(minutes=20),
        patient_id=patient.id,
        provider_id=provider_id,
        provider_name="Dr. Lee" if provider_id == "dr-lee" else "Dr. Desk",
        visit_type_code=visit_type,
        visit_type_display=visit_type.title(),
        location_id=location_id,
        location_name="Suite 200",
    )


MARIA_APPT = appointment("appt-maria", MARIA, NOW + timedelta(minutes=15))


class FakeDirectory:
    """A tiny practice. ``fail`` names methods that raise ServiceUnavailable."""

    def __init__(self) -> None:
        self.patients: dict[str, Patient] = {p.id: p for p in (MARIA, SAMPLE, PUBLIC, TWIN_A, TWIN_B, OTHER)}
        self.appointments: list[Appointment] = [
            MARIA_APPT,
            appointment("appt-sample", SAMPLE, NOW + timedelta(minutes=30), location_id="loc-9"),
            appointment("appt-public", PUBLIC, NOW + timedelta(minutes=5)),
            appointment("appt-kim", TWIN_A, NOW + timedelta(minutes=10)),
        ]
        self.coverage: dict[str, CoverageInfo] = {MARIA.id: COVERAGE}
        self.questionnaires: list[JSON] = [load_fhir("questionnaire-example-f201-lifelines.json")]
        self.consents: list[ConsentDocument] = list(CONSENTS)
        self.fail: set[str] = set()
        self.calls: list[tuple[str, Any]] = []

    def _enter(self, name: str, arg: Any) -> None:
        self.calls.append((name, arg))
        if name in self.fail:
            raise ServiceUnavailable("backend down")

    def find_patients(self, family: str, given: str, birth_date: date) -> Sequence[Patient]:
        self._enter("find_patients", birth_date)
        # Like a broad FHIR search: same birth date, any name. The flow applies the exact name match.
        return [p for p in self.patients.values() if p.birth_date == birth_date]

    def get_patient(self, patient_id: str) -> Patient | None:
        self._enter("get_patient", patient_id)
        return self.patients.get(patient_id)

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        self._enter("get_appointment", appointment_id)
        return next((a for a in self.appointments if a.id == appointment_id), None)

    def appointments_on(self, patient_id: str, day: date) -> Sequence[Appointment]:
        self._enter("appointments_on", day)
        return [
            a
            for a in self.appointments
            if a.patient_id == patient_id and a.start.astimezone(TZ).date() == day
        ]

    def coverage_for(self, patient_id: str) -> CoverageInfo | None:
        self._enter("coverage_for", patient_id)
        return self.coverage.get(patient_id)

    def questionnaires_due(self, patient: Patient, appointment: Appointment) -> Sequence[JSON]:
        self._enter("questionnaires_due", appointment.id)
        return list(self.questionnaires)

    def consents_due(self, patient: Patient, appointment: Appointment) -> Sequence[ConsentDocument]:
        self._enter("consents_due", appointment.id)
        return list(self.consents)


class FakeSink:
    def __init__(self, fail_times: int = 0) -> None:
        self.records: list[CheckinRecord] = []
        self.fail_times = fail_times
        self.attempts = 0

    def submit(self, record: CheckinRecord) -> None:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise StorageError("disk full")
        self.records.append(record)


@dataclass
class FakeTerminal:
    """Scripted outcomes, one per charge; idempotent per reference like a real semi-integrated terminal."""

    script: list[PaymentStatus] = field(default_factory=list)
    requests: list[PaymentRequest] = field(default_factory=list)
    approved: dict[str, PaymentResult] = field(default_factory=dict)
    raise_error: bool = False
    cancelled: int = 0
    charged_again: int = 0

    def charge(self, request: PaymentRequest) -> PaymentResult:
        self.requests.append(request)
        if self.raise_error:
            raise RuntimeError("serial port gone")
        if request.reference in self.approved:
            self.charged_again += 1  # a real terminal would not charge again; the flow should not ask
            return self.approved[request.reference]
        status = self.script.pop(0) if self.script else PaymentStatus.APPROVED
        result = PaymentResult(
            status=status,
            amount=request.amount,
            reference=request.reference,
            processor_reference=f"tx-{len(self.requests)}" if status == PaymentStatus.APPROVED else "",
            brand="VISA" if status == PaymentStatus.APPROVED else "",
            last4="4242" if status == PaymentStatus.APPROVED else "",
            at=NOW,
        )
        if status == PaymentStatus.APPROVED:
            self.approved[request.reference] = result
        return result

    def cancel(self) -> None:
        self.cancelled += 1


class FakePrinter:
    def __init__(self, fail_reason: str | None = None, crash: bool = False) -> None:
        self.tickets: list[Ticket] = []
        self.fail_reason = fail_reason
        self.crash = crash

    def print_ticket(self, ticket: Ticket) -> None:
        if self.crash:
            raise OSError("usb device vanished")
        if self.fail_reason:
            raise PrinterFailure("cannot print", reason=self.fail_reason)
        self.tickets.append(ticket)


class FakeQueue:
    def __init__(self) -> None:
        self.counters: dict[date, int] = {}
        self.days: list[date] = []

    def next_number(self, day: date) -> str:
        self.days.append(day)
        self.counters[day] = self.counters.get(day, 0) + 1
        return f"A-{self.counters[day]:03d}"


def make_config(**overrides: Any) -> FlowConfig:
    base = FlowConfig(
        kiosk_id="kiosk-lobby-1",
        clinic_name="Harbor Family Medicine",
        timezone=TZ,
        reminder_secret=SECRET,
        copay_by_visit_type={"FOLLOWUP": Money(3000)},
        default_copay=Money(2000),
        self_pay_by_visit_type={"FOLLOWUP": Money(12000)},
        default_self_pay=Money(15000),
        wait_area_by_location={"loc-2": "Waiting area B"},
        desk_visit_types=frozenset({"NEWPATIENT"}),
        desk_provider_ids=frozenset({"dr-desk"}),
        balance_limit=Money(10000),
    )
    return replace(base, **overrides)


class Ids:
    """Deterministic check-in ids."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"checkin{self.count:04d}"
