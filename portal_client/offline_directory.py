"""``OfflineDirectory``: the flow's ``Directory`` that keeps working through a back-end outage.

Each read goes to the live ``FhirDirectory`` first. When the back-end is unreachable (``ServiceUnavailable``)
or refuses the kiosk's credentials (``AuthError``: an expired certificate must not stop a lobby) and a
snapshot of today exists (``offline.DayCache``), the answer comes from the snapshot instead, and for the
next ``retry_live_after`` the kiosk does not try the network at all (a silent network costs a whole timeout
per read; a check-in makes several). Without a snapshot the error goes to the flow as before.

Whatever the source, an appointment whose check-in still waits in the outbox (``LocalArrivals``) reads as
``arrived``: a patient who checked in during an outage, or just before the kiosk restarted, is told they are
already checked in instead of being checked in twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TypeVar

from kiosk.flow.ports import Clock, ServiceUnavailable
from kiosk.flow.types import JSON, Appointment, AppointmentStatus, ConsentDocument, CoverageInfo, Patient

from .crypto import CryptoError
from .delivery import arrived_appointments
from .directory import FhirDirectory, fold_name
from .errors import AuthError
from .fhir import read_mapping as rm
from .offline import DayCache, Snapshot
from .outbox import Outbox, RowState

log = logging.getLogger(__name__)

T = TypeVar("T")
_OPEN = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.PENDING})


class LocalArrivals:
    """Ids of the Appointments that outbox rows still have to mark ``arrived``. Thread-safe.

    Each row is decrypted once (cached by row id); rows that are gone are forgotten."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._lock = threading.Lock()
        self._by_row: dict[int, frozenset[str]] = {}

    def __call__(self) -> set[str]:
        ids = self._outbox.row_ids(RowState.PENDING, RowState.IN_FLIGHT)
        with self._lock:
            self._by_row = {i: v for i, v in self._by_row.items() if i in ids}
            for row_id in ids:
                if row_id in self._by_row:
                    continue
                try:
                    row = self._outbox.get(row_id)
                except CryptoError:
                    row = None
                self._by_row[row_id] = frozenset(arrived_appointments(row.payload)) if row else frozenset()
            return set().union(*self._by_row.values()) if self._by_row else set()


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OfflineDirectory:
    """Implements ``kiosk.flow.ports.Directory`` over a live directory, a day snapshot and the outbox."""

    def __init__(
        self,
        live: FhirDirectory,
        cache: DayCache | None = None,
        *,
        arrivals: Callable[[], set[str]] | None = None,
        clock: Clock | None = None,
        retry_live_after: timedelta = timedelta(seconds=30),
    ) -> None:
        self.live = live
        self.cache = cache
        self._arrivals = arrivals
        self._clock: Clock = clock or _UtcClock()
        self._retry_live_after = retry_live_after
        self._offline_until: datetime | None = None
        self.served_offline = 0  # reads answered from the snapshot (status screen, tests)

    @property
    def tz(self) -> tzinfo:
        return self.live.tz

    @property
    def offline(self) -> bool:
        """True while reads skip the network (after a failure, for ``retry_live_after``)."""
        until = self._offline_until
        return until is not None and self._clock.now() < until

    def _snapshot(self) -> Snapshot | None:
        if self.cache is None:
            return None
        return self.cache.snapshot(self._clock.now().astimezone(self.live.tz).date())

    def _read(self, what: str, live: Callable[[], T], cached: Callable[[Snapshot], T]) -> T:
        snap = self._snapshot() if self.offline else None
        if snap is not None:
            self.served_offline += 1
            return cached(snap)
        try:
            result = live()
        except (ServiceUnavailable, AuthError) as exc:
            snap = self._snapshot()
            if snap is None:
                raise
            self._offline_until = self._clock.now() + self._retry_live_after
            log.warning("back-end unavailable (%s): %s answered from the offline day", exc.key, what)
            self.served_offline += 1
            return cached(snap)
        self._offline_until = None
        return result

    def _mark(self, appointment: Appointment | None, arrived: set[str] | None = None) -> Appointment | None:
        if appointment is None or self._arrivals is None or appointment.status not in _OPEN:
            return appointment
        if appointment.id in (arrived if arrived is not None else self._arrivals()):
            return replace(appointment, status=AppointmentStatus.ARRIVED)
        return appointment

    # -- Directory ------------------------------------------------------------------------------------
    def find_patients(self, family: str, given: str, birth_date: date) -> Sequence[Patient]:
        def cached(snap: Snapshot) -> Sequence[Patient]:
            wanted = fold_name(family)
            out = []
            for resource in snap.patients.values():
                if resource.get("birthDate") != birth_date.isoformat():
                    continue
                families = {fold_name(n.get("family") or "") for n in resource.get("name") or []}
                if wanted and wanted in families:
                    out.append(rm.patient(resource))
            return tuple(out)

        return self._read("find_patients", lambda: self.live.find_patients(family, given, birth_date), cached)

    def get_patient(self, patient_id: str) -> Patient | None:
        def cached(snap: Snapshot) -> Patient | None:
            resource = snap.patients.get(patient_id)
            return rm.patient(resource) if resource else None

        return self._read("get_patient", lambda: self.live.get_patient(patient_id), cached)

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        def cached(snap: Snapshot) -> Appointment | None:
            resource = snap.appointments.get(appointment_id)
            return rm.appointment(resource, snap.names) if resource else None

        found = self._read("get_appointment", lambda: self.live.get_appointment(appointment_id), cached)
        return self._mark(found)

    def appointments_on(self, patient_id: str, day: date) -> Sequence[Appointment]:
        def cached(snap: Snapshot) -> Sequence[Appointment]:
            if day != snap.day:
                return ()
            out = []
            for resource in snap.appointments.values():
                try:
                    appointment = rm.appointment(resource, snap.names)
                except rm.MappingError:
                    continue
                if appointment.patient_id == patient_id:
                    out.append(appointment)
            return tuple(sorted(out, key=lambda a: a.start))

        found = self._read("appointments_on", lambda: self.live.appointments_on(patient_id, day), cached)
        arrived = self._arrivals() if self._arrivals is not None else set()
        return tuple(a for a in (self._mark(a, arrived) for a in found) if a is not None)

    def coverage_for(self, patient_id: str) -> CoverageInfo | None:
        def cached(snap: Snapshot) -> CoverageInfo | None:
            resource = snap.coverage.get(patient_id)
            return rm.coverage(resource, snap.names) if resource else None

        return self._read("coverage_for", lambda: self.live.coverage_for(patient_id), cached)

    def questionnaires_due(self, patient: Patient, appointment: Appointment) -> Sequence[JSON]:
        def cached(snap: Snapshot) -> Sequence[JSON]:
            ids = snap.forms_due.get(appointment.id, [])
            return tuple(snap.questionnaires[i] for i in ids if i in snap.questionnaires)

        return self._read(
            "questionnaires_due", lambda: self.live.questionnaires_due(patient, appointment), cached
        )

    def consents_due(self, patient: Patient, appointment: Appointment) -> Sequence[ConsentDocument]:
        def cached(snap: Snapshot) -> Sequence[ConsentDocument]:
            ids = snap.consents_due.get(appointment.id, [])
            return tuple(
                rm.consent_document(snap.templates[i], self.live.language) for i in ids if i in snap.templates
            )

        return self._read("consents_due", lambda: self.live.consents_due(patient, appointment), cached)
