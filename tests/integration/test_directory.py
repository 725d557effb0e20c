"""FhirDirectory (kiosk.flow.ports.Directory) against the real FHIR sandbox, seeded with the demo practice."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from kiosk.flow.matching import exact_matches
from kiosk.flow.ports import Directory, ServiceUnavailable
from kiosk.flow.types import Appointment, AppointmentStatus, Money, Patient
from portal_client.client import FhirClient
from portal_client.directory import FhirDirectory
from portal_client.errors import BackendUnavailable
from portal_client.sandbox import Sandbox
from portal_client.sandbox import seed as demo
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox

TZ = demo.DEFAULT_TZ


@pytest.fixture
def client(sandbox_url: str) -> Iterator[FhirClient]:
    with FhirClient(sandbox_url, timeout=10.0) as fhir:
        yield fhir


@pytest.fixture
def directory(client: FhirClient, sandbox_seed: SeedInfo) -> FhirDirectory:
    return FhirDirectory(client, tz=TZ, clock=lambda: sandbox_seed.now)


def test_it_is_a_directory(directory: FhirDirectory) -> None:
    assert isinstance(directory, Directory)


# -- identify ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("family", "given", "wanted"),
    [
        ("Whitfield", "Eleanor", demo.DEMO_RETURNING),
        ("WHITFIELD", "eleanor", demo.DEMO_RETURNING),
        ("Álvarez-Núñez", "José", demo.DEMO_NEW_FORMS),
        ("Alvarez-Nunez", "Jose", demo.DEMO_NEW_FORMS),  # no accents typed: the server does not fold them
        ("alvarez nunez", "jose", demo.DEMO_NEW_FORMS),
        ("OConnor", "Grace", demo.DEMO_TWO_VISITS),
        ("O'Connor", "Grace", demo.DEMO_TWO_VISITS),
        ("Brooks Hale", "Daniel", demo.DEMO_ARRIVED),
    ],
)
def test_find_patients_tolerates_case_accents_and_separators(
    directory: FhirDirectory, family: str, given: str, wanted: demo.DemoPatient
) -> None:
    found = directory.find_patients(family, given, wanted.birth_date)
    assert [p.id for p in found] == [wanted.patient_id]
    assert exact_matches(found, given, family, wanted.birth_date)[0].id == wanted.patient_id


def test_find_patients_returns_only_that_family_and_birth_date(directory: FhirDirectory) -> None:
    twins = directory.find_patients("Santos", "Maria", demo.DEMO_TWIN_A.birth_date)
    assert {p.id for p in twins} == {demo.DEMO_TWIN_A.patient_id, demo.DEMO_TWIN_B.patient_id}
    # The flow tells them apart by the given name.
    assert [p.id for p in exact_matches(twins, "Lucia", "Santos", demo.DEMO_TWIN_B.birth_date)] == [
        demo.DEMO_TWIN_B.patient_id
    ]
    assert directory.find_patients("Santos", "Maria", date(2015, 5, 21)) == ()
    assert directory.find_patients("Whitfield", "Eleanor", demo.DEMO_TWIN_A.birth_date) == ()
    assert directory.find_patients("Whit", "Eleanor", demo.DEMO_RETURNING.birth_date) == ()  # no prefix match
    assert directory.find_patients(" - ", "Eleanor", demo.DEMO_RETURNING.birth_date) == ()


def test_find_patients_never_lists_all_patients(directory: FhirDirectory, client: FhirClient) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    original = client.search_all

    def spy(resource_type: str, params: Mapping[str, Any], limit: int = 500) -> Iterator[dict[str, Any]]:
        seen.append((resource_type, dict(params)))
        return original(resource_type, params, limit)

    client.search_all = spy  # type: ignore[method-assign]
    directory.find_patients("Alvarez", "Jose", demo.DEMO_NEW_FORMS.birth_date)
    assert seen and all(t == "Patient" and params.get("birthdate") for t, params in seen)


def test_patient_mapping_from_the_server(directory: FhirDirectory) -> None:
    patient = directory.get_patient(demo.DEMO_RETURNING.patient_id)
    assert patient is not None
    assert (patient.given, patient.family, patient.birth_date) == ("Eleanor", "Whitfield", date(1948, 6, 12))
    assert patient.version  # needed for If-Match
    assert patient.demographics.phone == "(555) 201-4410"
    assert patient.demographics.address.city == "Riverside"
    assert patient.balance is None
    assert patient.source["resourceType"] == "Patient"
    jenkins = directory.get_patient(demo.DEMO_BALANCE.patient_id)
    assert jenkins is not None and jenkins.balance == Money(25000, "USD")
    assert directory.get_patient("no-such-patient") is None


# -- appointments -----------------------------------------------------------------------------------------
def test_appointments_today_with_names_resolved(directory: FhirDirectory, sandbox_seed: SeedInfo) -> None:
    today = sandbox_seed.today
    (visit,) = directory.appointments_on(demo.DEMO_RETURNING.patient_id, today)
    assert visit.id == sandbox_seed.appointment_ids["returning"]
    assert visit.status is AppointmentStatus.BOOKED
    assert visit.start == sandbox_seed.now + timedelta(minutes=20)
    assert visit.start.utcoffset() is not None
    assert (visit.provider_id, visit.provider_name) == (demo.PRACTITIONER_CHEN, "Dr. Maya Chen")
    assert (visit.location_id, visit.location_name) == (demo.LOCATION_MAIN, "Main waiting room")
    assert (visit.visit_type_code, visit.visit_type_display) == ("FOLLOWUP", "Follow-up visit")
    assert visit.patient_id == demo.DEMO_RETURNING.patient_id
    assert visit.version

    two = directory.appointments_on(demo.DEMO_TWO_VISITS.patient_id, today)
    assert [a.start for a in two] == sorted(a.start for a in two) and len(two) == 2
    assert two[1].location_name == "East wing - Pediatrics"
    assert two[1].provider_name == "Priya Patel"

    (arrived,) = directory.appointments_on(demo.DEMO_ARRIVED.patient_id, today)
    assert arrived.status is AppointmentStatus.ARRIVED
    assert directory.appointments_on(demo.DEMO_RETURNING.patient_id, today + timedelta(days=1)) == ()
    assert directory.appointments_on(demo.DEMO_RETURNING.patient_id, today - timedelta(days=1)) == ()


def test_appointments_on_uses_the_practice_day_not_utc(client: FhirClient, sandbox_url: str) -> None:
    """A 9 pm New York appointment is the next day in UTC: it still belongs to its local day."""
    patient_id = demo.DEMO_LATE.patient_id
    late_evening = datetime(2025, 3, 12, 21, 0, tzinfo=TZ)
    just_after_midnight = datetime(2025, 3, 13, 0, 5, tzinfo=TZ)
    for start in (late_evening, just_after_midnight):
        appt = {
            "resourceType": "Appointment",
            "status": "booked",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=15)).isoformat(),
            "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
        }
        client.create(appt)
    directory = FhirDirectory(client, tz=TZ)
    day = [a.start for a in directory.appointments_on(patient_id, date(2025, 3, 12))]
    assert late_evening in day and just_after_midnight not in day
    next_day = directory.appointments_on(patient_id, date(2025, 3, 13))
    assert [a.start for a in next_day] == [just_after_midnight]
    assert next_day[0].provider_id is None and next_day[0].visit_type_code == ""


def test_get_appointment(directory: FhirDirectory, sandbox_seed: SeedInfo) -> None:
    appt = directory.get_appointment(sandbox_seed.appointment_ids["twin_b"])
    assert appt is not None
    assert appt.provider_id in sandbox_seed.desk_provider_ids
    assert appt.provider_name == "Dr. Samuel Okafor"
    assert directory.get_appointment("no-such-appointment") is None


# -- coverage ---------------------------------------------------------------------------------------------
def test_coverage_on_file(directory: FhirDirectory) -> None:
    cov = directory.coverage_for(demo.DEMO_RETURNING.patient_id)
    assert cov is not None
    assert cov.payer_name == "Blue Harbor Health"
    assert cov.member_id == "BHH847261935"
    assert cov.group_number == "GRP-20417"
    assert cov.plan_name == "Gold PPO"
    assert cov.copay == Money(2500, "USD")
    assert (cov.rx_bin, cov.rx_pcn, cov.rx_group) == ("610014", "BHHRX", "RX20417")
    assert not cov.self_pay and cov.subscriber_name == ""

    medicare = directory.coverage_for(demo.DEMO_TOO_EARLY.patient_id)
    assert medicare is not None
    assert medicare.payer_name == "Medicare"  # payor had no display: resolved from the Organization
    assert medicare.copay is None

    child = directory.coverage_for(demo.DEMO_TWIN_A.patient_id)
    assert child is not None and child.subscriber_name == "Ana Santos"

    assert directory.coverage_for(demo.DEMO_NEW_PATIENT.patient_id) is None


def test_ended_or_cancelled_coverage_is_not_on_file(client: FhirClient, sandbox_seed: SeedInfo) -> None:
    cov = client.read("Coverage", sandbox_seed.coverage_ids["returning"])
    client.update({**cov, "period": {"start": "2020-01-01", "end": "2024-12-31"}})
    directory = FhirDirectory(client, tz=TZ, clock=lambda: sandbox_seed.now)
    assert directory.coverage_for(demo.DEMO_RETURNING.patient_id) is None
    cov = client.read("Coverage", sandbox_seed.coverage_ids["new_forms"])
    client.update({**cov, "status": "cancelled"})
    assert directory.coverage_for(demo.DEMO_NEW_FORMS.patient_id) is None


# -- forms and consents -----------------------------------------------------------------------------------
def _first(directory: FhirDirectory, who: demo.DemoPatient, day: date) -> tuple[Patient, Appointment]:
    patient = directory.get_patient(who.patient_id)
    assert patient is not None
    (appointment, *_) = directory.appointments_on(who.patient_id, day)
    return patient, appointment


def test_returning_patient_has_nothing_due(directory: FhirDirectory, sandbox_seed: SeedInfo) -> None:
    patient, appointment = _first(directory, demo.DEMO_RETURNING, sandbox_seed.today)
    assert directory.questionnaires_due(patient, appointment) == ()
    assert directory.consents_due(patient, appointment) == ()


def test_forms_and_consent_due_by_visit_type(directory: FhirDirectory, sandbox_seed: SeedInfo) -> None:
    patient, annual = _first(directory, demo.DEMO_NEW_FORMS, sandbox_seed.today)
    forms = directory.questionnaires_due(patient, annual)
    assert [q["id"] for q in forms] == [demo.QUESTIONNAIRE_HEALTH_HISTORY, demo.QUESTIONNAIRE_PHQ9]
    assert all(q["resourceType"] == "Questionnaire" and q["status"] == "active" for q in forms)
    (consent,) = directory.consents_due(patient, annual)
    assert consent.id == demo.CONSENT_DOCUMENT_ID
    assert consent.url == f"DocumentReference/{demo.CONSENT_DOCUMENT_ID}"
    assert consent.version == "general-consent-2025-01"
    assert consent.title == "Consent to treatment"
    assert consent.text.startswith("# Consent to treatment")

    patient, sick = _first(directory, demo.DEMO_LATE, sandbox_seed.today)
    assert directory.questionnaires_due(patient, sick) == ()
    patient, new = _first(directory, demo.DEMO_NEW_PATIENT, sandbox_seed.today)
    assert [q["id"] for q in directory.questionnaires_due(patient, new)] == [
        demo.QUESTIONNAIRE_HEALTH_HISTORY
    ]


def test_consent_text_in_the_directorys_language(client: FhirClient, sandbox_seed: SeedInfo) -> None:
    spanish = FhirDirectory(client, tz=TZ, language="es")
    patient, appointment = _first(spanish, demo.DEMO_NEW_FORMS, sandbox_seed.today)
    (consent,) = spanish.consents_due(patient, appointment)
    assert consent.title == "Consentimiento para el tratamiento"
    assert "Consentimiento" in consent.text


def test_an_answered_form_is_not_due_until_its_renewal(client: FhirClient, sandbox_seed: SeedInfo) -> None:
    directory = FhirDirectory(client, tz=TZ)
    patient, appointment = _first(directory, demo.DEMO_RETURNING, sandbox_seed.today)
    qr = client.read("QuestionnaireResponse", "qr-whitfield-phq9")
    # PHQ-9 renews after 30 days: answered 31 days before the visit, it is due again.
    client.update({**qr, "authored": (sandbox_seed.now - timedelta(days=31)).isoformat()})
    forms = directory.questionnaires_due(patient, appointment)
    assert [q["id"] for q in forms] == [demo.QUESTIONNAIRE_PHQ9]
    # An in-progress answer does not count.
    client.update({**qr, "status": "in-progress"})
    assert len(directory.questionnaires_due(patient, appointment)) == 1


def test_a_new_consent_version_must_be_signed_again(client: FhirClient, sandbox_seed: SeedInfo) -> None:
    directory = FhirDirectory(client, tz=TZ)
    patient, appointment = _first(directory, demo.DEMO_RETURNING, sandbox_seed.today)
    old = client.read("DocumentReference", demo.CONSENT_DOCUMENT_ID)
    new = {k: v for k, v in old.items() if k not in ("id", "meta")}
    new["masterIdentifier"] = {**old["masterIdentifier"], "value": "general-consent-2025-06"}
    new["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{old['id']}"}}]
    created = client.create(new)
    client.update({**old, "status": "superseded"})
    (due,) = directory.consents_due(patient, appointment)
    assert due.id == created["id"] and due.version == "general-consent-2025-06"


# -- the back-end is down ---------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_backend_down_is_backend_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FhirClient(f"http://127.0.0.1:{_closed_port()}/fhir/R4", timeout=2.0) as fhir:
        directory = FhirDirectory(fhir, tz=TZ)
        who = demo.DEMO_NEW_FORMS
        with pytest.raises(BackendUnavailable) as caught:
            directory.find_patients(who.family, who.given, who.birth_date)
        assert isinstance(caught.value, ServiceUnavailable)
        assert caught.value.key == "backend_unavailable"
        with pytest.raises(BackendUnavailable):
            directory.appointments_on(who.patient_id, date(2025, 3, 12))
    text = str(caught.value) + caplog.text
    for secret in ("lvarez", "1957", "José", "Jose"):
        assert secret not in text


def test_sandbox_stopped_mid_session_is_backend_unavailable() -> None:
    with Sandbox() as own:
        demo.seed(own.base_url, now=demo.TEST_NOW)
        fhir = FhirClient(own.base_url, timeout=2.0)
        directory = FhirDirectory(fhir, tz=TZ)
        assert directory.get_patient(demo.DEMO_RETURNING.patient_id) is not None
    try:
        with pytest.raises(BackendUnavailable):
            directory.get_patient(demo.DEMO_RETURNING.patient_id)
        with pytest.raises(BackendUnavailable):
            directory.coverage_for(demo.DEMO_RETURNING.patient_id)
    finally:
        fhir.close()


def test_server_error_is_backend_unavailable() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"resourceType": "OperationOutcome", "issue": []})

    with (
        FhirClient("http://127.0.0.1:9/fhir/R4", transport=httpx.MockTransport(broken)) as fhir,
        pytest.raises(BackendUnavailable),
    ):
        FhirDirectory(fhir, tz=TZ).get_patient(demo.DEMO_RETURNING.patient_id)
