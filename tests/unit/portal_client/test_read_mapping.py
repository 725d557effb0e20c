"""FHIR JSON → flow types (portal_client.fhir.read_mapping) on HL7's published R4 examples, plus the pure
"due" rules of portal_client.directory. Fixtures: tests/fixtures/fhir (provenance in tests/fixtures/README.md).
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.flow.types import AppointmentStatus, Money
from portal_client.directory import (
    answers_questionnaire,
    consent_is_signed,
    fold_name,
    questionnaire_is_due,
)
from portal_client.fhir import read_mapping as rm
from portal_client.fhir.read_mapping import MappingError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


# -- Patient ----------------------------------------------------------------------------------------------
def test_patient_example() -> None:
    resource = load("patient-example.json")
    patient = rm.patient(resource)
    assert patient.id == "example"
    assert patient.version is None  # the example has no meta.versionId
    # official name first: "Peter James Chalmers" (not the usual "Jim", not the maiden "Windsor")
    assert (patient.given, patient.family) == ("Peter", "Chalmers")
    assert patient.birth_date == date(1974, 12, 25)
    assert patient.demographics.phone == "(03) 3410 5613"  # mobile before work; the "old" number never
    assert patient.demographics.email == ""
    address = patient.demographics.address
    assert (address.line1, address.city, address.state, address.postal_code) == (
        "534 Erewhon St",
        "PleasantVille",
        "Vic",
        "3999",
    )
    assert patient.balance is None
    assert patient.source is resource
    assert patient.display_name == "Peter C."


def test_patient_repr_has_no_personal_data() -> None:
    text = repr(rm.patient(load("patient-example.json")))
    assert "Chalmers" not in text and "Peter" not in text and "1974" not in text


def test_patient_balance_extension_and_version() -> None:
    resource = load("patient-example.json")
    resource["meta"] = {"versionId": "7"}
    resource["extension"] = [
        {"url": rm.BALANCE_EXTENSION_URL, "valueMoney": {"value": 120.5, "currency": "USD"}}
    ]
    patient = rm.patient(resource)
    assert patient.version == "7"
    assert patient.balance == Money(12050, "USD")
    resource["extension"][0]["valueMoney"] = {"value": -10}  # a credit is not a balance
    assert rm.patient(resource).balance is None


@pytest.mark.parametrize(
    ("value", "cents"),
    [(25, 2500), (25.0, 2500), ("25.00", 2500), (0.1, 10), (19.999, 2000), (0.005, 1), (0, 0)],
)
def test_money_in_cents(value: Any, cents: int) -> None:
    assert rm.money({"value": value}) == Money(cents, "USD")


def test_patient_usual_name_when_no_official_and_text_only_names() -> None:
    resource = {
        "resourceType": "Patient",
        "id": "p",
        "birthDate": "2000-01-02",
        "name": [
            {"use": "old", "family": "Before", "given": ["Old"]},
            {"use": "usual", "family": "Núñez", "given": ["José", "Luis"]},
        ],
    }
    assert (rm.patient(resource).given, rm.patient(resource).family) == ("José", "Núñez")
    text_only = {**resource, "name": [{"text": "Ana María Ortiz"}]}
    assert (rm.patient(text_only).given, rm.patient(text_only).family) == ("Ana", "Ortiz")


@pytest.mark.parametrize(
    "change",
    [
        {"birthDate": "1974"},
        {"birthDate": None},
        {"name": [{"use": "official", "given": ["Peter"]}]},
        {"id": None},
    ],
    ids=["partial-birth-date", "no-birth-date", "no-family", "no-id"],
)
def test_patient_that_cannot_be_identified_is_a_mapping_error(change: dict[str, Any]) -> None:
    resource = {**load("patient-example.json"), **change}
    with pytest.raises(MappingError) as caught:
        rm.patient(resource)
    assert "Chalmers" not in str(caught.value) and "1974" not in str(caught.value)


# -- Appointment ------------------------------------------------------------------------------------------
def test_appointment_example() -> None:
    appt = rm.appointment(load("appointment-example.json"))
    assert appt.id == "example"
    assert appt.status is AppointmentStatus.BOOKED
    assert appt.start == datetime(2013, 12, 10, 9, 0, tzinfo=UTC)
    assert appt.end == datetime(2013, 12, 10, 11, 0, tzinfo=UTC)
    assert appt.patient_id == "example"
    assert (appt.provider_id, appt.provider_name) == ("example", "Dr Adam Careful")
    assert (appt.location_id, appt.location_name) == ("1", "South Wing, second floor")
    # appointmentType wins over serviceType
    assert appt.visit_type_code == "FOLLOWUP"
    assert appt.visit_type_display == "A follow up visit from a previous appointment"


def test_appointment_with_two_doctors_takes_the_first_and_has_no_location() -> None:
    appt = rm.appointment(load("appointment-example2doctors.json"))
    assert (appt.provider_id, appt.provider_name) == ("example", "Dr Adam Careful")
    assert appt.location_id is None and appt.location_name == ""
    assert appt.visit_type_code == "WALKIN"


def test_appointment_names_resolved_by_the_caller() -> None:
    resource = load("appointment-example.json")
    for participant in resource["participant"]:
        participant["actor"].pop("display")
    assert rm.appointment_references(resource) == ["Practitioner/example", "Location/1"]
    names = {"Practitioner/example": "Dr. A. Careful", "Location/1": "South Wing"}
    appt = rm.appointment(resource, names)
    assert (appt.provider_name, appt.location_name) == ("Dr. A. Careful", "South Wing")
    assert rm.appointment(resource).provider_name == ""


def test_appointment_visit_type_falls_back_to_service_type() -> None:
    resource = load("appointment-example.json")
    del resource["appointmentType"]
    appt = rm.appointment(resource)
    assert (appt.visit_type_code, appt.visit_type_display) == ("52", "General Discussion")


def test_absolute_and_versioned_references() -> None:
    resource = load("appointment-example.json")
    resource["participant"][0]["actor"]["reference"] = "https://ehr.example/fhir/R4/Patient/p-9/_history/3"
    assert rm.appointment(resource).patient_id == "p-9"
    assert rm.reference_key("#contained") is None
    assert rm.reference_key("urn:uuid:1234") is None


def test_proposed_appointment_without_a_start_is_a_mapping_error() -> None:
    resource = load("appointment-example-request.json")
    assert resource["status"] == "proposed"
    with pytest.raises(MappingError, match="start"):
        rm.appointment(resource)


@pytest.mark.parametrize(
    "change",
    [
        {"status": "checkedin"},
        {"start": "2013-12-10T09:00:00"},
        {"participant": [{"actor": {"display": "x"}}]},
    ],
    ids=["bad-status", "no-offset", "no-patient"],
)
def test_appointment_mapping_errors(change: dict[str, Any]) -> None:
    with pytest.raises(MappingError):
        rm.appointment({**load("appointment-example.json"), **change})


# -- Coverage ---------------------------------------------------------------------------------------------
def test_coverage_example() -> None:
    resource = load("coverage-example.json")
    cov = rm.coverage(resource)
    assert cov.id == "9876B1"
    assert cov.payer_name == ""  # payor is a bare reference: the caller resolves it
    assert rm.payer_reference(resource) == "Organization/2"
    assert rm.coverage(resource, {"Organization/2": "Benefits Inc."}).payer_name == "Benefits Inc."
    assert cov.member_id == "12345"  # no subscriberId, no MB identifier: the only identifier
    assert cov.group_number == "CB135"
    assert cov.plan_name == "Full Coverage: Medical, Dental, Pharmacy, Vision, EHC"
    assert (cov.rx_bin, cov.rx_pcn, cov.rx_group) == ("987654", "234516", "M35PT")
    assert cov.subscriber_name == ""  # the subscriber is the beneficiary
    assert cov.copay is None and not cov.self_pay


def test_coverage_example_2_subscriber_id_and_gp_visit_copay() -> None:
    cov = rm.coverage(load("coverage-example-2.json"))
    assert cov.member_id == "AB9876"
    assert cov.group_number == "WESTAIR"
    assert cov.copay == Money(2000, "USD")


def test_coverage_member_id_from_an_mb_identifier_and_copay_type_copay_first() -> None:
    resource = load("coverage-example-2.json")
    del resource["subscriberId"]
    resource["identifier"].append(
        {"type": {"coding": [{"system": rm.V2_IDENTIFIER_TYPE_SYSTEM, "code": "MB"}]}, "value": "MB-77"}
    )
    resource["costToBeneficiary"].append(
        {
            "type": {"coding": [{"system": rm.COVERAGE_COPAY_TYPE_SYSTEM, "code": "copay"}]},
            "valueMoney": {"value": 35, "currency": "USD"},
        }
    )
    cov = rm.coverage(resource)
    assert cov.member_id == "MB-77"
    assert cov.copay == Money(3500, "USD")


def test_self_pay_coverage() -> None:
    cov = rm.coverage(load("coverage-example-selfpay.json"))
    assert cov.self_pay
    assert (cov.payer_name, cov.member_id) == ("", "")


def test_coverage_ehic_payer_by_identifier_only() -> None:
    resource = load("coverage-example-ehic.json")
    cov = rm.coverage(resource)
    assert cov.member_id == "A123456780"
    assert cov.payer_name == "" and rm.payer_reference(resource) is None


# -- Consent documents ------------------------------------------------------------------------------------
def _template(*texts: tuple[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": "doc-1",
        "meta": {"versionId": "v9"},
        "status": "current",
        "type": {"coding": [{"system": rm.DOCUMENT_TYPE_SYSTEM, "code": rm.CONSENT_TEMPLATE_CODE}]},
        "description": "General consent",
        "content": [
            {
                "attachment": {
                    "contentType": "text/markdown; charset=utf-8",
                    "language": lang,
                    "data": base64.b64encode(text.encode()).decode(),
                    "title": f"title-{lang}",
                }
            }
            for lang, text in texts
        ],
    }


def test_consent_document_language_choice() -> None:
    template = _template(("en", "# Consent"), ("es-MX", "# Consentimiento ñ"))
    assert rm.is_consent_template(template)
    english = rm.consent_document(template)
    assert (english.id, english.title, english.text) == ("doc-1", "title-en", "# Consent")
    assert english.version == "v9"  # no masterIdentifier: the server's version id
    assert english.url == "DocumentReference/doc-1"
    assert rm.consent_document(template, "es").text == "# Consentimiento ñ"
    assert rm.consent_document(template, "fr").text == "# Consent"  # the first one
    template["masterIdentifier"] = {"value": "general-2025-01"}
    assert rm.consent_document(template).version == "general-2025-01"


def test_documentreference_example_is_not_a_usable_consent() -> None:
    resource = load("documentreference-example.json")
    assert not rm.is_consent_template(resource)  # a LOINC outpatient note
    with pytest.raises(MappingError, match="attachment"):
        rm.consent_document(resource)  # XML by URL, nothing inline to show


def test_consent_with_bad_base64_is_a_mapping_error() -> None:
    template = _template(("en", "x"))
    template["content"][0]["attachment"]["data"] = "%%%"
    with pytest.raises(MappingError):
        rm.consent_document(template)


# -- the "due" rules (portal_client.directory) ------------------------------------------------------------
AT = datetime(2025, 3, 12, 10, 30, tzinfo=UTC)


def _consent(reference: str, status: str = "active", end: str | None = None) -> dict[str, Any]:
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "status": status,
        "sourceReference": {"reference": reference},
    }
    if end:
        consent["provision"] = {"period": {"end": end}}
    return consent


def test_consent_is_signed() -> None:
    assert consent_is_signed("doc-1", [_consent("DocumentReference/doc-1")], AT)
    assert consent_is_signed(
        "doc-1", [_consent("https://ehr.example/fhir/DocumentReference/doc-1/_history/2")], AT
    )
    assert not consent_is_signed("doc-1", [_consent("DocumentReference/doc-2")], AT)
    assert not consent_is_signed("doc-1", [_consent("DocumentReference/doc-1", status="inactive")], AT)
    assert not consent_is_signed("doc-1", [_consent("DocumentReference/doc-1", end="2025-03-01")], AT)
    assert consent_is_signed("doc-1", [_consent("DocumentReference/doc-1", end="2025-03-12")], AT)
    assert not consent_is_signed("doc-1", [], AT)


def _phq9(renewal_days: int | None = None) -> dict[str, Any]:
    q = copy.deepcopy(load("phq-9-questionnaire-loinc.json"))
    if renewal_days is not None:
        q["extension"] = [
            {
                "url": rm.RENEWAL_EXTENSION_URL,
                "valueDuration": {"value": renewal_days, "system": "http://unitsofmeasure.org", "code": "d"},
            }
        ]
    q["useContext"] = [
        {
            "code": {"system": rm.USAGE_CONTEXT_TYPE_SYSTEM, "code": "task"},
            "valueCodeableConcept": {
                "coding": [
                    {"system": rm.VISIT_TYPE_SYSTEM, "code": "ANNUAL"},
                    {"system": "http://other", "code": "X"},
                ]
            },
        }
    ]
    return q


def _answer(questionnaire: str, authored: datetime | str, status: str = "completed") -> dict[str, Any]:
    when = authored if isinstance(authored, str) else authored.isoformat()
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire,
        "status": status,
        "authored": when,
    }


def test_questionnaire_visit_types_and_renewal() -> None:
    assert rm.questionnaire_visit_types(_phq9()) == {"ANNUAL"}
    assert rm.renewal_period(_phq9(30)) == timedelta(days=30)
    assert rm.renewal_period(_phq9()) is None
    q = _phq9(2)
    q["extension"][0]["valueDuration"]["code"] = "wk"
    assert rm.renewal_period(q) == timedelta(weeks=2)


def test_questionnaire_is_due() -> None:
    q = _phq9(30)
    url = q["url"]
    default = timedelta(days=365)
    assert questionnaire_is_due(q, [], AT, default)
    assert not questionnaire_is_due(q, [_answer(url, AT - timedelta(days=29))], AT, default)
    assert not questionnaire_is_due(q, [_answer(f"{url}|2.0", AT - timedelta(days=1))], AT, default)
    assert not questionnaire_is_due(
        q, [_answer("Questionnaire/44249-1", AT - timedelta(days=1))], AT, default
    )
    assert not questionnaire_is_due(q, [_answer(url, "2025-03-01")], AT, default)  # a bare date
    assert questionnaire_is_due(q, [_answer(url, AT - timedelta(days=31))], AT, default)
    assert questionnaire_is_due(q, [_answer(url, AT - timedelta(days=1), "in-progress")], AT, default)
    assert questionnaire_is_due(q, [_answer("http://other/q", AT - timedelta(days=1))], AT, default)
    no_renewal = _phq9()
    assert not questionnaire_is_due(no_renewal, [_answer(url, AT - timedelta(days=200))], AT, default)
    assert answers_questionnaire(_answer(url, AT), q) and not answers_questionnaire(_answer("x", AT), q)


@pytest.mark.parametrize(
    ("entered", "on_file"),
    [
        ("Alvarez-Nunez", "Álvarez-Núñez"),
        ("obrien", "O'Brien"),
        ("brooks hale", "Brooks-Hale"),
        ("ÇELİK", "Çelik"),
    ],
)
def test_fold_name(entered: str, on_file: str) -> None:
    assert fold_name(entered) == fold_name(on_file)
