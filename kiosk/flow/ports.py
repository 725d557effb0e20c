"""What the check-in flow needs from the world, as Protocols (ports).

The flow imports nothing of ours but itself; ``portal_client`` and ``devices`` implement these ports and
raise the exceptions below (or subclasses), which the flow turns into message keys.

Exception tree (split by phase, like httpx's):

    PortError                   anything a port could not do
    ├── ServiceUnavailable      back-end unreachable, 5xx, timeout: retry later / desk
    ├── Rejected                back-end refused the request (4xx): not retried
    ├── StorageError            the local outbox could not persist a record
    └── PrinterFailure          the printer could not print (reason: "out_of_paper", "offline", ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from .types import (
    JSON,
    Appointment,
    CheckinRecord,
    ConsentDocument,
    CoverageInfo,
    Patient,
    PaymentRequest,
    PaymentResult,
    ScheduledVisit,
    Ticket,
)


class PortError(Exception):
    """Base of every error a port raises. ``key`` is a message key, never prose with personal data."""

    key = "port_error"

    def __init__(self, message: str = "", *, key: str | None = None) -> None:
        super().__init__(message or self.key)
        if key is not None:
            self.key = key


class ServiceUnavailable(PortError):
    key = "backend_unavailable"


class Rejected(PortError):
    key = "backend_rejected"


class StorageError(PortError):
    key = "storage_error"


class PrinterFailure(PortError):
    key = "printer_failed"

    def __init__(self, message: str = "", *, reason: str = "error") -> None:
        super().__init__(message, key="printer_failed")
        self.reason = reason  # "out_of_paper" | "offline" | "cover_open" | "error"


@runtime_checkable
class Directory(Protocol):
    """Reads from the practice back-end. Every method may raise ServiceUnavailable."""

    def find_patients(self, family: str, given: str, birth_date: date) -> Sequence[Patient]:
        """Candidates whose family name and birth date match; the flow applies the exact name match."""
        ...

    def get_patient(self, patient_id: str) -> Patient | None: ...

    def get_appointment(self, appointment_id: str) -> Appointment | None: ...

    def appointments_on(self, patient_id: str, day: date) -> Sequence[Appointment]:
        """The patient's appointments on that local calendar day, any status."""
        ...

    def coverage_for(self, patient_id: str) -> CoverageInfo | None:
        """The patient's active Coverage on file, if any."""
        ...

    def questionnaires_due(self, patient: Patient, appointment: Appointment) -> Sequence[JSON]:
        """FHIR R4 Questionnaire resources (JSON) the patient must fill for this visit."""
        ...

    def consents_due(self, patient: Patient, appointment: Appointment) -> Sequence[ConsentDocument]:
        """Consent documents the patient has not signed yet (or whose version changed)."""
        ...


@runtime_checkable
class Schedule(Protocol):
    """Reads a tablet needs besides ``Directory`` (tablet mode, behind staff unlock). May raise
    ServiceUnavailable. ``portal_client.directory.FhirDirectory`` implements both protocols."""

    def appointments_for_day(self, day: date) -> Sequence[ScheduledVisit]:
        """Every appointment starting on that local day, any status, by start time, with its patient."""
        ...

    def find_checkin(self, checkin_id: str) -> ScheduledVisit | None:
        """The visit a kiosk check-in was for (from a ticket's QR), once it reached the back-end."""
        ...


@runtime_checkable
class CheckinSink(Protocol):
    """Durable, local hand-over of a finished check-in (the encrypted outbox). Fast; never the network."""

    def submit(self, record: CheckinRecord) -> None:
        """Persist the record for delivery. Raises StorageError if it cannot be kept."""
        ...


@runtime_checkable
class PaymentTerminal(Protocol):
    """A semi-integrated terminal: amount + reference in, result out. Card data never enters the kiosk."""

    def charge(self, request: PaymentRequest) -> PaymentResult:
        """Blocks until the terminal answers or times out (status TIMEOUT). Never raises for a decline.

        Idempotent per ``request.reference``: a second call with an approved reference returns the first
        result instead of charging again.
        """
        ...

    def cancel(self) -> None:
        """Ask the terminal to abort the charge in progress (called from another thread)."""
        ...


@runtime_checkable
class TicketPrinter(Protocol):
    def print_ticket(self, ticket: Ticket) -> None:
        """Print the visit ticket. Raises PrinterFailure with a reason."""
        ...


@runtime_checkable
class QueueNumbers(Protocol):
    def next_number(self, day: date) -> str:
        """The next queue number for that day, e.g. "A-017"; restarts each day."""
        ...


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware current time."""
        ...
