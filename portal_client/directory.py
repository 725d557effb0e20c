"""Reads for the check-in flow: ``kiosk.flow.ports.Directory`` over a FHIR R4 server (DESIGN §5).

Every method goes through ``FhirClient``, so network trouble surfaces as ``portal_client.errors``
(``BackendUnavailable`` is a ``ServiceUnavailable``). Searches are bounded (by birth date, by patient) and
never list all patients. Logs carry counts and ids, never names, birth dates or query strings.

Practice conventions (visit types, forms per visit type, consent templates) are described in
``portal_client.fhir.read_mapping`` and ``portal_client/sandbox/README.md``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

from kiosk.flow.types import JSON, Appointment, ConsentDocument, CoverageInfo, Patient, ScheduledVisit

from .client import FhirClient, Resource
from .errors import NotFound
from .fhir import read_mapping as rm
from .fhir.read_mapping import MappingError
from .fhir.write_common import CHECKIN_SYSTEM

log = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2014'\u2018\u2019\u02bc`\u00b4.]+")
_MAX_CACHED_NAMES = 512


def fold_name(text: str) -> str:
    """Case- and accent-insensitive, letters and digits only: "O'Brien-Núñez" → "obriennunez".

    It drops at least everything the flow's exact match ignores, so it never rejects a patient the flow
    would accept.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


class FhirDirectory:
    """``Directory`` over FHIR. One per process; thread-safe as far as ``FhirClient`` is."""

    def __init__(
        self,
        client: FhirClient,
        *,
        tz: tzinfo,
        language: str = "en",
        default_renewal: timedelta = timedelta(days=365),
        clock: Callable[[], datetime] | None = None,
        page_size: int = 50,
    ) -> None:
        self.client = client
        self.tz = tz
        self.language = language
        self.default_renewal = default_renewal
        self._clock = clock or (lambda: datetime.now(tz))
        self.page_size = page_size
        self._names: dict[str, str] = {}  # "Practitioner/x" -> display name (not personal: staff, places)

    # -- patients ---------------------------------------------------------------------------------------
    def find_patients(self, family: str, given: str, birth_date: date) -> Sequence[Patient]:
        """Patients born on ``birth_date`` whose family name folds to the entered one.

        The server is asked for ``family`` (its first word) + ``birthdate``. FHIR string search is a
        case-insensitive prefix match, but not every server ignores accents (Medplum does not): when that
        finds nobody, the birth date alone is searched and the names compared here.
        """
        wanted = fold_name(family)
        first_word = next((w for w in _SEPARATORS.split(family.strip()) if w), "")
        if not wanted or not first_word:
            return ()
        params = {"birthdate": birth_date.isoformat(), "_count": str(self.page_size)}
        found = self._matching_patients({**params, "family": first_word}, wanted, birth_date)
        if not found:
            found = self._matching_patients(params, wanted, birth_date)
            log.debug("find_patients: birth-date-only search, %d candidate(s)", len(found))
        return tuple(found)

    def _matching_patients(self, params: Mapping[str, str], wanted: str, birth_date: date) -> list[Patient]:
        out = []
        for resource in self.client.search_all("Patient", params, limit=self.page_size):
            patient = _mapped(rm.patient, resource)
            if patient is None or patient.birth_date != birth_date:
                continue
            families = {fold_name(n.get("family") or "") for n in resource.get("name") or []}
            if wanted in families | {fold_name(patient.family)}:
                out.append(patient)
        return out

    def get_patient(self, patient_id: str) -> Patient | None:
        resource = self._read("Patient", patient_id)
        return _mapped(rm.patient, resource) if resource else None

    # -- appointments -----------------------------------------------------------------------------------
    def get_appointment(self, appointment_id: str) -> Appointment | None:
        resource = self._read("Appointment", appointment_id)
        if resource is None:
            return None
        names = self.resolve_names(rm.appointment_references(resource))
        return _mapped(rm.appointment, resource, names)

    def appointments_on(self, patient_id: str, day: date) -> Sequence[Appointment]:
        """The patient's appointments starting on that local day (practice timezone), any status, by time."""
        start = datetime.combine(day, time.min, self.tz)
        end = datetime.combine(day + timedelta(days=1), time.min, self.tz)
        params = {
            "patient": f"Patient/{patient_id}",
            "date": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"],
            "_sort": "date",
            "_count": str(self.page_size),
        }
        resources = list(self.client.search_all("Appointment", params, limit=self.page_size))
        refs = [key for resource in resources for key in rm.appointment_references(resource)]
        names = self.resolve_names(refs)
        out = []
        for resource in resources:
            appt = _mapped(rm.appointment, resource, names)
            if (
                appt is not None
                and appt.patient_id == patient_id
                and appt.start.astimezone(self.tz).date() == day
            ):
                out.append(appt)
        out.sort(key=lambda a: a.start)
        log.debug("appointments_on: %d appointment(s) for Patient/%s", len(out), patient_id)
        return tuple(out)

    # -- the day's schedule (tablet mode: kiosk.flow.ports.Schedule) -------------------------------------
    def appointments_for_day(self, day: date) -> Sequence[ScheduledVisit]:
        """Every appointment starting on that local day, with its patient (one ``_id`` search for all)."""
        start = datetime.combine(day, time.min, self.tz)
        end = datetime.combine(day + timedelta(days=1), time.min, self.tz)
        params = {"date": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"], "_sort": "date", "_count": "200"}
        resources = list(self.client.search_all("Appointment", params, limit=500))
        names = self.resolve_names([key for r in resources for key in rm.appointment_references(r)])
        appointments = [a for r in resources if (a := _mapped(rm.appointment, r, names)) is not None]
        appointments = [a for a in appointments if a.start.astimezone(self.tz).date() == day]
        patients = self._patients({a.patient_id for a in appointments if a.patient_id})
        appointments.sort(key=lambda a: a.start)
        log.debug("appointments_for_day: %d appointment(s), %d patient(s)", len(appointments), len(patients))
        return tuple(ScheduledVisit(a, patients.get(a.patient_id)) for a in appointments)

    def _patients(self, ids: set[str]) -> dict[str, Patient]:
        out: dict[str, Patient] = {}
        wanted = sorted(ids)
        for i in range(0, len(wanted), 50):
            chunk = wanted[i : i + 50]
            params = {"_id": ",".join(chunk), "_count": str(len(chunk))}
            for resource in self.client.search_all("Patient", params, limit=len(chunk)):
                patient = _mapped(rm.patient, resource)
                if patient is not None:
                    out[patient.id] = patient
        return out

    def find_checkin(self, checkin_id: str) -> ScheduledVisit | None:
        """The visit of a kiosk check-in (a ticket's ``CKI-TICKET:<id>``): its Encounter, made with the
        check-in id as identifier, names the patient and the appointment. None until it reached the server."""
        params = {"identifier": f"{CHECKIN_SYSTEM}|{checkin_id}", "_count": "1"}
        encounter = next(iter(self.client.search_all("Encounter", params, limit=1)), None)
        if encounter is None:
            return None
        patient_id = rm.reference_id(str((encounter.get("subject") or {}).get("reference") or ""), "Patient")
        refs = [rm.reference_id(str(a.get("reference") or ""), "Appointment")
                for a in encounter.get("appointment") or []]  # fmt: skip
        appointment_id = next((r for r in refs if r), None)
        if not patient_id or not appointment_id:
            return None
        appointment = self.get_appointment(appointment_id)
        if appointment is None or appointment.patient_id != patient_id:
            return None
        return ScheduledVisit(appointment, self.get_patient(patient_id))

    # -- insurance --------------------------------------------------------------------------------------
    def coverage_for(self, patient_id: str) -> CoverageInfo | None:
        """The active Coverage on file: insurance before self-pay, then by ``order``, newest period first."""
        now = self._clock()
        candidates = []
        params = {"beneficiary": f"Patient/{patient_id}", "status": "active", "_count": str(self.page_size)}
        for resource in self.client.search_all("Coverage", params, limit=self.page_size):
            end = (resource.get("period") or {}).get("end")
            if end and _ended(end, now):
                continue
            candidates.append(resource)
        if not candidates:
            return None

        def rank(resource: Resource) -> tuple[bool, int]:
            self_pay = rm.has_code(resource.get("type"), rm.COVERAGE_SELFPAY_SYSTEM, "pay")
            return self_pay, int(resource.get("order") or 99)

        # Newest period first, then (stable sort) insurance before self-pay and by ``order``.
        candidates.sort(key=lambda r: str((r.get("period") or {}).get("start") or ""), reverse=True)
        for resource in sorted(candidates, key=rank):
            payer = rm.payer_reference(resource)
            has_display = bool(((resource.get("payor") or [{}])[0]).get("display"))
            names = self.resolve_names([payer] if payer and not has_display else [])
            info = _mapped(rm.coverage, resource, names)
            if info is not None:
                return info
        return None

    # -- forms and consents -----------------------------------------------------------------------------
    def questionnaires_due(self, patient: Patient, appointment: Appointment) -> Sequence[JSON]:
        """Active Questionnaires for this visit type (or every visit) not answered within their renewal."""
        codes = [c for c in (appointment.visit_type_code, rm.VISIT_TYPE_ANY) if c]
        context = ",".join(f"{rm.VISIT_TYPE_SYSTEM}|{code}" for code in codes)
        params = {"status": "active", "context": context, "_count": str(self.page_size)}
        questionnaires = [
            q
            for q in self.client.search_all("Questionnaire", params, limit=self.page_size)
            if rm.questionnaire_visit_types(q) & set(codes)
        ]
        if not questionnaires:
            return ()
        at = appointment.start
        longest = max((rm.renewal_period(q) or self.default_renewal) for q in questionnaires)
        responses = list(
            self.client.search_all(
                "QuestionnaireResponse",
                {
                    "subject": f"Patient/{patient.id}",
                    "authored": f"ge{(at - longest).date().isoformat()}",
                    "_count": "200",
                },
                limit=200,
            )
        )
        due = [q for q in questionnaires if questionnaire_is_due(q, responses, at, self.default_renewal)]
        due.sort(key=lambda q: (str(q.get("title") or q.get("name") or ""), str(q.get("id"))))
        log.debug("questionnaires_due: %d of %d for Patient/%s", len(due), len(questionnaires), patient.id)
        return tuple(due)

    def consents_due(self, patient: Patient, appointment: Appointment) -> Sequence[ConsentDocument]:
        """Current consent templates without an active Consent of this patient pointing at them."""
        params = {
            "type": f"{rm.DOCUMENT_TYPE_SYSTEM}|{rm.CONSENT_TEMPLATE_CODE}",
            "status": "current",
            "_count": str(self.page_size),
        }
        templates = [
            d for d in self.client.search_all("DocumentReference", params) if rm.is_consent_template(d)
        ]
        if not templates:
            return ()
        consents = list(
            self.client.search_all(
                "Consent",
                {"patient": f"Patient/{patient.id}", "status": "active", "_count": "200"},
                limit=200,
            )
        )
        due = []
        for template in templates:
            if consent_is_signed(str(template.get("id")), consents, appointment.start):
                continue
            document = _mapped(rm.consent_document, template, self.language)
            if document is not None:
                due.append(document)
        due.sort(key=lambda d: (d.title, d.id))
        return tuple(due)

    # -- helpers ----------------------------------------------------------------------------------------
    def _read(self, resource_type: str, resource_id: str) -> Resource | None:
        try:
            return self.client.read(resource_type, resource_id)
        except NotFound:
            return None

    def resolve_names(self, keys: Iterable[str]) -> dict[str, str]:
        """Display names of Practitioner/Location/Organization references: one ``_id`` search per type."""
        wanted = set(keys)
        missing: dict[str, set[str]] = {}
        for key in wanted - self._names.keys():
            kind, _, rid = key.partition("/")
            missing.setdefault(kind, set()).add(rid)
        if len(self._names) > _MAX_CACHED_NAMES:
            self._names.clear()
        for kind, ids in missing.items():
            params = {"_id": ",".join(sorted(ids)), "_count": str(len(ids))}
            for resource in self.client.search_all(kind, params, limit=len(ids)):
                self._names[f"{kind}/{resource.get('id')}"] = rm.display_name(resource)
        return {key: self._names[key] for key in wanted if key in self._names}


T = TypeVar("T")


def _mapped(fn: Callable[..., T], resource: Resource, *args: Any) -> T | None:
    """Map one resource; a malformed one is skipped with a warning naming its id (never its content)."""
    try:
        return fn(resource, *args)
    except MappingError as exc:
        log.warning("skipping a resource the kiosk cannot use: %s", exc)
        return None


def _ended(value: str, now: datetime) -> bool:
    try:
        return _period_end(value) <= now
    except MappingError:
        return False


# -- due rules (pure) ----------------------------------------------------------------------------------------
def consent_is_signed(document_id: str, consents: Iterable[JSON], at: datetime) -> bool:
    """An active Consent for this DocumentReference whose period has not ended.

    The document is named by ``sourceReference`` (consents signed on paper and scanned) or, for consents the
    kiosk writes (whose ``sourceAttachment`` holds the signature, and R4 allows only one source), by
    ``policy[].uri``."""
    for consent in consents:
        if consent.get("status") != "active":
            continue
        source = (consent.get("sourceReference") or {}).get("reference")
        named = [source] + [p.get("uri") for p in consent.get("policy") or [] if isinstance(p, dict)]
        if not any(rm.reference_id(ref, "DocumentReference") == document_id for ref in named if ref):
            continue
        end = ((consent.get("provision") or {}).get("period") or {}).get("end")
        if end and _period_end(end) <= at:
            continue
        return True
    return False


def _period_end(value: str) -> datetime:
    if len(value) == 10:  # a date: the period ends at the end of that day (UTC is close enough here)
        return _loose_datetime(value) + timedelta(days=1)
    return _loose_datetime(value)


def _loose_datetime(value: str) -> datetime:
    """A FHIR dateTime that may be a bare date (taken as midnight UTC)."""
    if len(value) == 10:
        try:
            return datetime.fromisoformat(value + "T00:00:00+00:00")
        except ValueError:
            raise MappingError("not a date") from None
    return rm.parse_instant(value, where="dateTime")


def answers_questionnaire(response: JSON, questionnaire: JSON) -> bool:
    target = str(response.get("questionnaire") or "")
    url = questionnaire.get("url")
    if url and target.split("|", 1)[0] == url:
        return True
    return bool(questionnaire.get("id")) and rm.reference_id(target, "Questionnaire") == questionnaire.get(
        "id"
    )


def questionnaire_is_due(
    questionnaire: JSON, responses: Iterable[JSON], at: datetime, default_renewal: timedelta
) -> bool:
    """Due unless a completed/amended response was authored within the renewal period before ``at``."""
    cutoff = at - (rm.renewal_period(questionnaire) or default_renewal)
    for response in responses:
        if response.get("status") not in ("completed", "amended"):
            continue
        if not answers_questionnaire(response, questionnaire):
            continue
        authored = response.get("authored") or (response.get("meta") or {}).get("lastUpdated")
        try:
            when = _loose_datetime(str(authored or ""))
        except MappingError:
            continue
        if when >= cutoff:
            return False
    return True
