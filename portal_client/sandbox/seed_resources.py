"""FHIR JSON builders for the demo practice (pure; seed.py decides who gets what).

Every resource has a fixed id (PUT = update-as-create) so config files and tests can name them; the server
assigns versions. The conventions the kiosk reads (visit types, forms per visit type, consent templates,
balances) are defined in ``portal_client.fhir.read_mapping`` and documented in README.md.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from portal_client.fhir.read_mapping import (
    BALANCE_EXTENSION_URL,
    COVERAGE_CLASS_SYSTEM,
    COVERAGE_COPAY_TYPE_SYSTEM,
    DOCUMENT_TYPE_SYSTEM,
    RENEWAL_EXTENSION_URL,
    USAGE_CONTEXT_TYPE_SYSTEM,
    V2_IDENTIFIER_TYPE_SYSTEM,
    VISIT_TYPE_SYSTEM,
)

Json = dict[str, Any]
SEED_DATA = Path(__file__).resolve().parent / "seed_data"

VISIT_TYPES = {
    "NEW": "New patient visit",
    "FOLLOWUP": "Follow-up visit",
    "ANNUAL": "Annual physical",
    "SICK": "Sick visit",
    "WELLCHILD": "Well-child visit",
}


def put(resource: Json) -> Json:
    return {
        "fullUrl": f"{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"},
    }


def transaction(resources: list[Json]) -> Json:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [put(r) for r in resources]}


def ref(resource_type: str, resource_id: str, display: str = "") -> Json:
    out: Json = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def _concept(system: str, code: str, display: str = "") -> Json:
    coding: Json = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], **({"text": display} if display else {})}


def _money(amount: str) -> Json:
    return {"value": float(amount), "currency": "USD"}


# -- the practice ------------------------------------------------------------------------------------------
def organization(org_id: str, name: str, *, payer: bool = False, phone: str = "") -> Json:
    kind = ("pay", "Payer") if payer else ("prov", "Healthcare Provider")
    org: Json = {
        "resourceType": "Organization",
        "id": org_id,
        "active": True,
        "type": [_concept("http://terminology.hl7.org/CodeSystem/organization-type", *kind)],
        "name": name,
    }
    if phone:
        org["telecom"] = [{"system": "phone", "value": phone, "use": "work"}]
    return org


def location(loc_id: str, name: str, org_id: str, description: str) -> Json:
    return {
        "resourceType": "Location",
        "id": loc_id,
        "status": "active",
        "name": name,
        "description": description,
        "mode": "instance",
        "physicalType": _concept(
            "http://terminology.hl7.org/CodeSystem/location-physical-type", "ro", "Room"
        ),
        "managingOrganization": ref("Organization", org_id),
    }


def practitioner(prac_id: str, prefix: str, given: str, family: str, suffix: str, npi: str) -> Json:
    name: Json = {"use": "official", "family": family, "given": [given], "suffix": [suffix]}
    if prefix:
        name["prefix"] = [prefix]
    return {
        "resourceType": "Practitioner",
        "id": prac_id,
        "active": True,
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}],
        "name": [name],
    }


# -- forms and documents -----------------------------------------------------------------------------------
def _visit_context(*codes: str) -> list[Json]:
    return [
        {
            "code": {"system": USAGE_CONTEXT_TYPE_SYSTEM, "code": "task", "display": "Workflow Task"},
            "valueCodeableConcept": _concept(VISIT_TYPE_SYSTEM, code, VISIT_TYPES.get(code, "")),
        }
        for code in codes
    ]


def _renewal(days: int) -> Json:
    return {
        "url": RENEWAL_EXTENSION_URL,
        "valueDuration": {"value": days, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
    }


def health_history_questionnaire(q_id: str, *visit_types: str, renewal_days: int) -> Json:
    q: Json = json.loads((SEED_DATA / "health-history-questionnaire.json").read_text(encoding="utf-8"))
    q["id"] = q_id
    q["extension"] = [_renewal(renewal_days)]
    q["useContext"] = _visit_context(*visit_types)
    return q


def phq9_questionnaire(q_id: str, *visit_types: str, renewal_days: int) -> Json:
    """HL7 PCO IG's LOINC PHQ-9 (CC0), made active; the total score is read-only (staff compute it)."""
    q: Json = json.loads((SEED_DATA / "phq-9-questionnaire-loinc.json").read_text(encoding="utf-8"))
    q.pop("meta", None)
    q["id"] = q_id
    q["status"] = "active"
    q["extension"] = [_renewal(renewal_days)]
    q["useContext"] = _visit_context(*visit_types)
    for item in q["item"]:
        if item["linkId"] == "14372":  # "Patient health questionnaire 9 item total score"
            item["readOnly"] = True
    return q


def phq9_all_zero_response(qr_id: str, questionnaire: Json, patient_id: str, authored: datetime) -> Json:
    items = []
    for item in questionnaire["item"]:
        if item["type"] == "choice":
            answer: Json = {"valueCoding": item["answerOption"][0]["valueCoding"]}
        else:
            answer = {"valueDecimal": 0}
        items.append({"linkId": item["linkId"], "text": item["text"], "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "subject": ref("Patient", patient_id),
        "authored": authored.isoformat(),
        "item": items,
    }


def consent_template(doc_id: str, org_id: str, version: str, published: date) -> Json:
    content = []
    for language, title in (("en", "Consent to treatment"), ("es", "Consentimiento para el tratamiento")):
        text = (SEED_DATA / f"consent-general.{language}.md").read_bytes()
        content.append(
            {
                "attachment": {
                    "contentType": "text/markdown",
                    "language": language,
                    "data": base64.b64encode(text).decode("ascii"),
                    "title": title,
                    "creation": published.isoformat(),
                }
            }
        )
    return {
        "resourceType": "DocumentReference",
        "id": doc_id,
        "masterIdentifier": {
            "system": "http://open-checkin-kiosk.org/fhir/consent-document",
            "value": version,
        },
        "status": "current",
        "type": _concept(DOCUMENT_TYPE_SYSTEM, "consent-template", "Consent form template"),
        "date": f"{published.isoformat()}T00:00:00Z",
        "author": [ref("Organization", org_id)],
        "description": "Consent to treatment and acknowledgment of privacy practices",
        "content": content,
    }


def signed_consent(consent_id: str, patient_id: str, doc_id: str, org_id: str, signed: datetime) -> Json:
    return {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "active",
        "scope": _concept("http://terminology.hl7.org/CodeSystem/consentscope", "treatment", "Treatment"),
        "category": [_concept("http://loinc.org", "59284-0", "Patient Consent")],
        "patient": ref("Patient", patient_id),
        "dateTime": signed.isoformat(),
        "organization": [ref("Organization", org_id)],
        "sourceReference": ref("DocumentReference", doc_id),
        "policyRule": _concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN", "opt-in"),
        "provision": {"type": "permit", "period": {"start": signed.date().isoformat()}},
    }


# -- patients ----------------------------------------------------------------------------------------------
def patient(
    pat_id: str,
    given: str,
    family: str,
    birth_date: date,
    *,
    gender: str,
    phone: str,
    email: str,
    address: tuple[str, str, str, str],
    mrn: str,
    middle: str = "",
    balance: str = "",
    language: str = "en",
) -> Json:
    line, city, state, postal = address
    givens = [given, middle] if middle else [given]
    pat: Json = {
        "resourceType": "Patient",
        "id": pat_id,
        "identifier": [
            {
                "use": "usual",
                "type": _concept(V2_IDENTIFIER_TYPE_SYSTEM, "MR", "Medical record number"),
                "system": "http://open-checkin-kiosk.org/fhir/demo-mrn",
                "value": mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": family, "given": givens}],
        "telecom": [{"system": "phone", "value": phone, "use": "mobile"}],
        "gender": gender,
        "birthDate": birth_date.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [line],
                "city": city,
                "state": state,
                "postalCode": postal,
                "country": "US",
            }
        ],
        "communication": [{"language": _concept("urn:ietf:bcp:47", language), "preferred": True}],
    }
    if email:
        pat["telecom"].append({"system": "email", "value": email, "use": "home"})
    if balance:
        pat["extension"] = [{"url": BALANCE_EXTENSION_URL, "valueMoney": _money(balance)}]
    return pat


def coverage(
    cov_id: str,
    patient_id: str,
    payer_id: str,
    payer_name: str,
    member_id: str,
    *,
    group: str = "",
    plan: str = "",
    copay: str = "",
    subscriber: str = "",
    start: date = date(2024, 1, 1),
    rx: tuple[str, str, str] | None = None,
) -> Json:
    classes = []
    if group:
        classes.append({"type": _concept(COVERAGE_CLASS_SYSTEM, "group"), "value": group, "name": group})
    if plan:
        classes.append({"type": _concept(COVERAGE_CLASS_SYSTEM, "plan"), "value": plan, "name": plan})
    if rx:
        for code, value in zip(("rxbin", "rxpcn", "rxgroup"), rx, strict=False):
            classes.append({"type": _concept(COVERAGE_CLASS_SYSTEM, code), "value": value})
    cov: Json = {
        "resourceType": "Coverage",
        "id": cov_id,
        "status": "active",
        "identifier": [
            {"type": _concept(V2_IDENTIFIER_TYPE_SYSTEM, "MB", "Member Number"), "value": member_id}
        ],
        "subscriberId": member_id,
        "beneficiary": ref("Patient", patient_id),
        "relationship": _concept(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "child" if subscriber else "self"
        ),
        "period": {"start": start.isoformat()},
        # The payer's display is left out on purpose when payer_name is empty: readers must resolve it.
        "payor": [ref("Organization", payer_id, payer_name)],
    }
    cov["subscriber"] = {"display": subscriber} if subscriber else ref("Patient", patient_id)
    if classes:
        cov["class"] = classes
    if copay:
        cov["costToBeneficiary"] = [
            {
                "type": _concept(COVERAGE_COPAY_TYPE_SYSTEM, "copay", "Copay Amount"),
                "valueMoney": _money(copay),
            }
        ]
    return cov


def appointment(
    appt_id: str,
    patient_id: str,
    practitioner_id: str,
    location_id: str,
    visit_type: str,
    start: datetime,
    *,
    minutes: int = 20,
    status: str = "booked",
) -> Json:
    return {
        "resourceType": "Appointment",
        "id": appt_id,
        "status": status,
        "appointmentType": _concept(VISIT_TYPE_SYSTEM, visit_type, VISIT_TYPES[visit_type]),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "minutesDuration": minutes,
        "participant": [
            {"actor": ref("Patient", patient_id), "required": "required", "status": "accepted"},
            {
                "type": [_concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "ATND")],
                "actor": ref("Practitioner", practitioner_id),
                "required": "required",
                "status": "accepted",
            },
            {"actor": ref("Location", location_id), "required": "required", "status": "accepted"},
        ],
    }
