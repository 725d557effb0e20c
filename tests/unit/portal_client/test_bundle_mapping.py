"""CheckinRecord → transaction Bundle: every option, checked element by element, and valid R4(B)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from checkin_factory import (
    CHECKIN_ID,
    COMPLETED,
    GROUP,
    MEMBER_ID,
    STARTED,
    coverage_updated,
    desk_record,
    full_record,
    make_appointment,
    make_patient,
    png_signature,
)

from kiosk.flow.types import (
    Answer,
    AnswerKind,
    AppointmentStatus,
    ConsentDocument,
    CoverageChoice,
    Demographics,
    DeskReason,
    InsuranceResult,
    Money,
    PaymentResult,
    PaymentStatus,
    QuestionnaireResult,
    ResponseItem,
)
from portal_client.fhir.bundle import build_bundle, patient_changes
from portal_client.fhir.forms_write import MappingError, consent_document_uri
from portal_client.fhir.validate import validate_bundle

Json = dict[str, Any]


def entries_of(bundle: Json, rtype: str) -> list[Json]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def one(bundle: Json, rtype: str) -> Json:
    found = entries_of(bundle, rtype)
    assert len(found) == 1, f"{rtype}: {len(found)} entries"
    return found[0]


@pytest.fixture(scope="module")
def full() -> Json:
    return build_bundle(full_record())


def test_full_bundle_is_one_valid_transaction_in_dependency_order(full: Json) -> None:
    assert full["resourceType"] == "Bundle" and full["type"] == "transaction"
    kinds = [(e["request"]["method"], e["resource"]["resourceType"]) for e in full["entry"]]
    assert kinds == [
        ("PUT", "Appointment"),
        ("PUT", "Patient"),
        ("POST", "Encounter"),
        ("POST", "Coverage"),
        ("POST", "DocumentReference"),
        ("POST", "DocumentReference"),
        ("POST", "QuestionnaireResponse"),
        ("POST", "QuestionnaireResponse"),
        ("POST", "Consent"),
        ("POST", "Consent"),
        ("POST", "PaymentReconciliation"),
        ("POST", "Provenance"),
    ]
    validate_bundle(full)
    # every create is conditional on a kiosk identifier derived from the check-in id
    for entry in full["entry"]:
        if entry["request"]["method"] == "POST":
            assert entry["fullUrl"].startswith("urn:uuid:")
            assert CHECKIN_ID in entry["request"]["ifNoneExist"]


def test_mapping_is_deterministic() -> None:
    assert build_bundle(full_record()) == build_bundle(full_record())


def test_appointment_put_with_quoted_if_match_and_only_the_status_changed(full: Json) -> None:
    entry = one(full, "Appointment")
    assert entry["request"] == {"method": "PUT", "url": "Appointment/example", "ifMatch": 'W/"3"'}
    resource = entry["resource"]
    source = make_appointment().source
    assert resource["status"] == "arrived"
    assert "versionId" not in resource.get("meta", {})
    for key in ("participant", "start", "end", "serviceType", "comment", "basedOn", "reasonReference"):
        assert resource[key] == source[key]
    assert resource["meta"]["tag"] == source["meta"]["tag"]


def test_patient_put_applies_only_the_changes(full: Json) -> None:
    entry = one(full, "Patient")
    assert entry["request"] == {"method": "PUT", "url": "Patient/example", "ifMatch": 'W/"7"'}
    patient = entry["resource"]
    source = make_patient().source
    for key in ("name", "identifier", "birthDate", "_birthDate", "contact", "gender", "managingOrganization"):
        assert patient[key] == source[key]
    phones = [t for t in patient["telecom"] if t.get("system") == "phone"]
    # the phone the kiosk showed (mobile) gets the new number; work and the old number stay
    assert phones[0] == source["telecom"][1]
    assert phones[1] == {"system": "phone", "value": "(03) 5555 0000", "use": "mobile", "rank": 2}
    assert phones[2]["use"] == "old"
    assert {"system": "email", "value": "peter@example.org"} in patient["telecom"]
    home = patient["address"][0]
    assert home["line"] == ["12 New Road", "Unit 4"] and home["city"] == "Springfield"
    assert home["postalCode"] == "3998" and home["state"] == "Vic"
    assert "text" not in home and "district" not in home  # would describe the old address
    assert home["use"] == "home" and home["period"] == source["address"][0]["period"]


def test_encounter(full: Json) -> None:
    entry = one(full, "Encounter")
    assert entry["request"] == {
        "method": "POST",
        "url": "Encounter",
        "ifNoneExist": f"identifier=urn:open-checkin-kiosk:checkin|{CHECKIN_ID}",
    }
    enc = entry["resource"]
    assert enc["status"] == "arrived"
    assert enc["class"]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    assert enc["class"]["code"] == "AMB"
    assert enc["subject"] == {"reference": "Patient/example"}
    assert enc["appointment"] == [{"reference": "Appointment/example"}]
    assert enc["identifier"] == [{"system": "urn:open-checkin-kiosk:checkin", "value": CHECKIN_ID}]
    assert enc["participant"][0]["individual"]["reference"] == "Practitioner/example"
    assert enc["location"][0]["location"]["reference"] == "Location/1"
    assert enc["period"]["start"] == STARTED.isoformat()


def test_coverage_and_card_images(full: Json) -> None:
    coverage_entry = one(full, "Coverage")
    cov = coverage_entry["resource"]
    assert cov["status"] == "active"
    assert cov["subscriberId"] == MEMBER_ID
    assert cov["beneficiary"] == {"reference": "Patient/example"}
    assert cov["payor"] == [{"display": "Acme Health Plan"}]
    assert cov["relationship"]["coding"][0]["code"] == "self"
    classes = {c["type"]["coding"][0]["code"]: c["value"] for c in cov["class"]}
    assert classes == {
        "group": GROUP,
        "plan": "Gold PPO",
        "rxbin": "610014",
        "rxpcn": "MEDDPRIME",
        "rxgroup": "RX4455",
    }
    assert cov["costToBeneficiary"][0]["valueMoney"] == {"value": 25.0, "currency": "USD"}
    assert coverage_entry["request"]["ifNoneExist"].endswith(f"|{CHECKIN_ID}:coverage")

    docs = entries_of(full, "DocumentReference")
    images = {i.side: i for i in coverage_updated().images}
    assert [d["resource"]["description"] for d in docs] == ["Insurance card (front)", "Insurance card (back)"]
    encounter_url = one(full, "Encounter")["fullUrl"]
    for doc, side in zip(docs, ("front", "back"), strict=True):
        res = doc["resource"]
        assert res["type"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": "64290-0",
            "display": "Health insurance card",
        }
        assert res["context"]["related"] == [{"reference": coverage_entry["fullUrl"]}]
        assert res["context"]["encounter"] == [{"reference": encounter_url}]
        att = res["content"][0]["attachment"]
        assert att["contentType"] == "image/jpeg"
        assert base64.b64decode(att["data"]) == images[side].data
        assert base64.b64decode(att["data"])[:3] == b"\xff\xd8\xff"


def test_questionnaire_responses_typed_and_nested(full: Json) -> None:
    intake, phq = entries_of(full, "QuestionnaireResponse")
    qr = intake["resource"]
    assert qr["status"] == "completed"
    assert qr["questionnaire"] == "http://example.org/Questionnaire/intake|2"
    assert qr["subject"] == qr["source"] == {"reference": "Patient/example"}
    assert qr["encounter"] == {"reference": one(full, "Encounter")["fullUrl"]}
    assert qr["identifier"] == {
        "system": "urn:open-checkin-kiosk:checkin",
        "value": f"{CHECKIN_ID}:qr:intake",
    }
    assert intake["request"]["ifNoneExist"].endswith(f"|{CHECKIN_ID}:qr:intake")
    answers = {i["linkId"]: i.get("answer") for i in qr["item"]}
    assert answers["smoker"] == [{"valueBoolean": False}]
    assert answers["weight"] == [{"valueDecimal": 72.5}] and isinstance(
        answers["weight"][0]["valueDecimal"], float
    )
    assert answers["children"] == [{"valueInteger": 2}]
    assert answers["last-visit"] == [{"valueDate": "2024-11-02"}]
    assert answers["concern"] == [{"valueString": "Follow-up on knee"}]
    assert "empty-group" not in answers  # nothing answered at any depth
    group = next(i for i in qr["item"] if i["linkId"] == "allergies")
    assert [i["linkId"] for i in group["item"]] == ["allergy"]  # the unanswered question is left out
    allergy = group["item"][0]["answer"][0]
    assert allergy["valueCoding"] == {
        "system": "http://snomed.info/sct",
        "code": "91936005",
        "display": "Penicillin allergy",
    }
    assert allergy["item"][0]["answer"] == [
        {"valueString": "Rash"}
    ]  # children of a question: under its answer
    assert phq["resource"]["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6568-5"


def test_consents_with_signature_and_document(full: Json) -> None:
    treatment, privacy = (e["resource"] for e in entries_of(full, "Consent"))
    assert treatment["status"] == "active"
    assert treatment["scope"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
        "code": "treatment",
        "display": "Treatment",
    }
    assert treatment["category"][0]["coding"][0]["code"] == "59284-0"
    assert treatment["patient"] == {"reference": "Patient/example"}
    assert treatment["performer"] == [{"reference": "Patient/example"}]
    assert treatment["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert treatment["dateTime"] == "2025-03-14T09:17:05-05:00"
    att = treatment["sourceAttachment"]
    assert att["contentType"] == "image/png"
    assert base64.b64decode(att["data"]) == png_signature()
    assert att["title"] == "Signature: Consent to treatment (version 3)"
    assert treatment["policy"] == [{"uri": "http://example.org/consent/treatment|3"}]
    assert privacy["policy"] == [{"uri": "DocumentReference/npp"}]
    assert privacy["identifier"][0]["value"] == f"{CHECKIN_ID}:consent:npp"


@pytest.mark.parametrize(
    ("document", "uri"),
    [
        (ConsentDocument("a", "A", "", "3", "DocumentReference/a"), "DocumentReference/a"),
        (ConsentDocument("a", "A", "", "3", "http://example.org/c"), "http://example.org/c|3"),
        (ConsentDocument("a", "A", "", "3", "http://example.org/c|2"), "http://example.org/c|2"),
        (ConsentDocument("a", "A", "", "", "", {"resourceType": "Contract"}), "Contract/a"),
        (ConsentDocument("a", "A", ""), None),
    ],
)
def test_consent_document_reference(document: ConsentDocument, uri: str | None) -> None:
    assert consent_document_uri(document) == uri


def test_payment_reconciliation_brand_and_last4_only(full: Json) -> None:
    entry = one(full, "PaymentReconciliation")
    pr = entry["resource"]
    assert pr["status"] == "active" and pr["outcome"] == "complete"
    assert pr["disposition"] == "Co-pay at kiosk"
    assert pr["paymentAmount"] == {"value": 25.0, "currency": "USD"}
    assert pr["paymentIdentifier"]["value"] == "txn_8812ab"
    assert pr["paymentDate"] == COMPLETED.date().isoformat()
    assert pr["created"] == COMPLETED.isoformat()
    detail = pr["detail"][0]
    assert detail["type"]["coding"][0]["code"] == "payment"
    assert detail["request"] == {"reference": one(full, "Encounter")["fullUrl"]}
    assert detail["amount"] == {"value": 25.0, "currency": "USD"}
    assert pr["processNote"] == [{"type": "display", "text": "VISA ending 4242"}]
    assert "A1B2C3" not in json.dumps(full)  # the auth code is not card data we keep


def test_card_summary_never_keeps_more_than_last_four() -> None:
    record = full_record(
        payment=PaymentResult(
            PaymentStatus.APPROVED, Money(1000), CHECKIN_ID, brand="Master<Card>!", last4="5555444433331111"
        )
    )
    pr = one(build_bundle(record), "PaymentReconciliation")["resource"]
    assert pr["processNote"][0]["text"] == "MasterCard ending 1111"
    assert "5555444433331111" not in json.dumps(pr)


def test_provenance_names_every_entry_and_the_kiosk(full: Json) -> None:
    entry = one(full, "Provenance")
    prov = entry["resource"]
    expected = [e.get("fullUrl") or e["request"]["url"] for e in full["entry"][:-1]]
    assert [t["reference"] for t in prov["target"]] == expected
    assert "Appointment/example" in expected and "Patient/example" in expected
    assert prov["recorded"] == COMPLETED.isoformat()
    assert prov["activity"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
        "code": "CREATE",
        "display": "create",
    }
    device = prov["agent"][0]["who"]
    assert device["identifier"] == {"system": "urn:open-checkin-kiosk:device", "value": "lobby-1"}
    assert device["display"] == "Check-in kiosk lobby-1"
    assert prov["agent"][1]["who"] == {"reference": "Patient/example"}
    assert entry["request"]["ifNoneExist"] == f"_tag=urn:open-checkin-kiosk:checkin|{CHECKIN_ID}"
    assert prov["meta"]["tag"] == [{"system": "urn:open-checkin-kiosk:checkin", "code": CHECKIN_ID}]


def test_desk_hand_off_leaves_appointment_alone_and_asks_for_staff() -> None:
    bundle = build_bundle(desk_record())
    validate_bundle(bundle)
    assert not entries_of(bundle, "Appointment")
    assert not entries_of(bundle, "PaymentReconciliation")
    tasks = {e["resource"]["code"]["coding"][0]["code"]: e for e in entries_of(bundle, "Task")}
    assert set(tasks) == {"desk-handoff", "collect-payment"}
    desk = tasks["desk-handoff"]["resource"]
    assert desk["status"] == "requested" and desk["intent"] == "order"
    assert desk["code"]["text"] == "Kiosk desk hand-off"
    assert desk["businessStatus"]["coding"][0]["code"] == "balance_due"
    assert desk["reasonCode"]["coding"][0]["code"] == "balance_due"
    assert desk["for"] == {"reference": "Patient/example"}
    assert desk["focus"] == {"reference": one(bundle, "Encounter")["fullUrl"]}
    assert tasks["desk-handoff"]["request"]["ifNoneExist"].endswith(f"|{CHECKIN_ID}:task:desk")
    owed = tasks["collect-payment"]["resource"]
    assert owed["input"][0]["valueMoney"] == {"value": 40.0, "currency": "USD"}
    for task in tasks.values():  # descriptions hold no personal data
        text = task["resource"]["description"]
        for personal in ("Peter", "Chalmers", "1974", MEMBER_ID, "Erewhon"):
            assert personal not in text
    # the encounter still records that the patient is here, linked to the appointment
    assert one(bundle, "Encounter")["resource"]["appointment"] == [{"reference": "Appointment/example"}]


def test_desk_hand_off_without_reason_or_appointment() -> None:
    record = desk_record(desk_reason=None, appointment=None, payment_deferred=None, demographics=None)
    bundle = build_bundle(record)
    validate_bundle(bundle)
    task = one(bundle, "Task")["resource"]
    assert task["businessStatus"]["coding"][0]["code"] == DeskReason.PATIENT_REQUEST.value
    enc = one(bundle, "Encounter")["resource"]
    assert "appointment" not in enc and "participant" not in enc


def test_self_pay_coverage_like_hl7_example() -> None:
    bundle = build_bundle(full_record(insurance=InsuranceResult(CoverageChoice.SELF_PAY, None)))
    validate_bundle(bundle)
    cov = one(bundle, "Coverage")["resource"]
    assert cov["type"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
    assert cov["type"]["coding"][0]["code"] == "pay"
    assert cov["payor"] == [{"reference": "Patient/example"}]
    assert cov["beneficiary"] == cov["subscriber"] == {"reference": "Patient/example"}
    assert not entries_of(bundle, "DocumentReference")


@pytest.mark.parametrize("choice", [CoverageChoice.UNCHANGED, CoverageChoice.NO_CARD])
def test_unchanged_or_no_card_writes_no_coverage(choice: CoverageChoice) -> None:
    bundle = build_bundle(full_record(insurance=InsuranceResult(choice, None)))
    validate_bundle(bundle)
    assert not entries_of(bundle, "Coverage") and not entries_of(bundle, "DocumentReference")
    tasks = [e["resource"]["code"]["coding"][0]["code"] for e in entries_of(bundle, "Task")]
    assert tasks == (["insurance-card"] if choice is CoverageChoice.NO_CARD else [])


def test_payor_reference_kept_when_payer_is_the_one_on_file() -> None:
    info = replace(
        coverage_updated().coverage,  # type: ignore[type-var]
        source={"payor": [{"reference": "Organization/acme", "display": "ACME health  plan"}]},
        subscriber_name="Jane Chalmers",
    )
    bundle = build_bundle(full_record(insurance=InsuranceResult(CoverageChoice.UPDATED, info)))
    cov = one(bundle, "Coverage")["resource"]
    assert cov["payor"] == [{"reference": "Organization/acme", "display": "Acme Health Plan"}]
    assert cov["subscriber"] == {"display": "Jane Chalmers"} and "relationship" not in cov


def test_no_patient_entry_when_demographics_unchanged() -> None:
    record = full_record(demographics=None)
    assert not entries_of(build_bundle(record), "Patient")
    record = full_record(demographics=make_patient().demographics)
    assert patient_changes(record) == {}
    assert not entries_of(build_bundle(record), "Patient")


def test_no_appointment_update_when_already_arrived() -> None:
    source = make_appointment().source
    appointment = make_appointment({**source, "status": "arrived"})
    assert appointment.status is AppointmentStatus.ARRIVED
    bundle = build_bundle(full_record(appointment=appointment))
    assert not entries_of(bundle, "Appointment")
    assert "Appointment/example" not in [
        t["reference"] for t in one(bundle, "Provenance")["resource"]["target"]
    ]


def test_unknown_versions_leave_if_match_out_for_the_sync_worker() -> None:
    appointment = replace(make_appointment(), version=None, source={})
    patient = replace(make_patient(), version=None, source={})
    bundle = build_bundle(full_record(appointment=appointment, patient=patient))
    validate_bundle(bundle)
    assert "ifMatch" not in one(bundle, "Appointment")["request"]
    assert "ifMatch" not in one(bundle, "Patient")["request"]
    patient_entry = one(bundle, "Patient")  # a stand-in: the worker re-reads and re-applies before sending
    assert patient_entry["resource"]["id"] == "example" and "ifMatch" not in patient_entry["request"]


def test_declined_payment_and_no_forms() -> None:
    record = full_record(
        payment=PaymentResult(PaymentStatus.DECLINED, Money(2500), CHECKIN_ID, message_key="card_declined"),
        responses=(),
        consents=(),
        insurance=None,
    )
    bundle = build_bundle(record)
    validate_bundle(bundle)
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types == ["Appointment", "Patient", "Encounter", "Provenance"]


def test_duplicate_questionnaire_ids_get_distinct_identifiers() -> None:
    first = full_record().responses[1]
    bundle = build_bundle(full_record(responses=(first, first)))
    values = [e["resource"]["identifier"]["value"] for e in entries_of(bundle, "QuestionnaireResponse")]
    assert values == [f"{CHECKIN_ID}:qr:phq-2", f"{CHECKIN_ID}:qr:phq-2-2"]
    validate_bundle(bundle)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(AnswerKind.DECIMAL, "25.00"), {"valueDecimal": 25.0}),
        (Answer(AnswerKind.DECIMAL, 3), {"valueDecimal": 3}),
        (Answer(AnswerKind.DECIMAL, Decimal("72.50")), {"valueDecimal": 72.5}),  # what the flow's forms give
        (Answer(AnswerKind.DATE, date(2024, 2, 29)), {"valueDate": "2024-02-29"}),
        (Answer(AnswerKind.INTEGER, 7), {"valueInteger": 7}),
        (Answer(AnswerKind.DATE, "2024-02"), {"valueDate": "2024-02"}),
        (Answer(AnswerKind.CODING, "y"), {"valueCoding": {"code": "y"}}),
    ],
)
def test_answer_values(answer: Answer, expected: Json) -> None:
    result = QuestionnaireResult(
        "q", "http://example.org/q", "Q", (ResponseItem("a", "", (answer,)),), COMPLETED
    )
    bundle = build_bundle(full_record(responses=(result,)))
    validate_bundle(bundle)
    assert one(bundle, "QuestionnaireResponse")["resource"]["item"][0]["answer"] == [expected]


@pytest.mark.parametrize(
    "answer",
    [
        Answer(AnswerKind.INTEGER, "12 kids"),
        Answer(AnswerKind.INTEGER, True),
        Answer(AnswerKind.DECIMAL, "about 70"),
        Answer(AnswerKind.DECIMAL, "NaN"),
        Answer(AnswerKind.BOOLEAN, "yes"),
        Answer(AnswerKind.DATE, "25/12/1974"),
        Answer(AnswerKind.STRING, "  "),
    ],
)
def test_bad_answers_raise_without_the_value(answer: Answer) -> None:
    result = QuestionnaireResult(
        "q", "http://example.org/q", "Q", (ResponseItem("a1", "", (answer,)),), COMPLETED
    )
    with pytest.raises(MappingError) as info:
        build_bundle(full_record(responses=(result,)))
    assert "a1" in str(info.value)
    assert str(answer.value).strip() == "" or str(answer.value) not in str(info.value)


def test_naive_datetimes_are_local_time_with_an_offset() -> None:
    naive = COMPLETED.replace(tzinfo=None)
    bundle = build_bundle(full_record(completed_at=naive, started_at=naive))
    validate_bundle(bundle)
    recorded = one(bundle, "Provenance")["resource"]["recorded"]
    assert recorded[19:] and recorded[19] in "+-Z"


def test_demographics_cleared_email_removes_it() -> None:
    source = make_patient().source
    source["telecom"].append({"system": "email", "value": "old@example.org"})
    patient = make_patient(source)
    demo = patient.demographics
    assert demo.email == "old@example.org"
    record = full_record(
        patient=patient, demographics=Demographics(phone=demo.phone, email="", address=demo.address)
    )
    entry = one(build_bundle(record), "Patient")
    assert not [t for t in entry["resource"]["telecom"] if t.get("system") == "email"]
    assert patient_changes(record) == {"email": {"from": "old@example.org", "to": ""}}


def test_unfinished_form_goes_out_in_progress() -> None:
    record = full_record()
    unfinished = replace(record.responses[0], complete=False)
    bundle = build_bundle(replace(record, responses=(unfinished, *record.responses[1:]), needs_staff=True))
    statuses = [e["resource"]["status"] for e in entries_of(bundle, "QuestionnaireResponse")]
    assert statuses[0] == "in-progress" and all(s == "completed" for s in statuses[1:])
    validate_bundle(bundle)


def test_an_already_checked_in_patient_at_the_kiosk_again_makes_no_second_encounter() -> None:
    """ "Did it work?": the desk gets a Task about the patient, the visit keeps its one arrived Encounter."""
    record = desk_record(desk_reason=DeskReason.ALREADY_CHECKED_IN, appointment=None, demographics=None,
                         insurance=None, responses=(), consents=(), payment_deferred=None)  # fmt: skip
    bundle = build_bundle(record)
    validate_bundle(bundle)
    assert not entries_of(bundle, "Encounter")
    task = one(bundle, "Task")["resource"]
    assert task["focus"] == {"reference": "Patient/example"}
    assert task["businessStatus"]["coding"][0]["code"] == "already_checked_in"
    assert [t["reference"] for t in one(bundle, "Provenance")["resource"]["target"]] == [one(bundle, "Task")["fullUrl"]]
    # Something entered that hangs off an Encounter (a form begun): the hand-off keeps its own Encounter.
    kept = build_bundle(replace(record, responses=desk_record().responses))
    validate_bundle(kept)
    assert one(kept, "Task")["resource"]["focus"] == {"reference": one(kept, "Encounter")["fullUrl"]}
