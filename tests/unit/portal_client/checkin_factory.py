"""CheckinRecords for the write-side tests (unit and sandbox integration).

Patient and Appointment sources are HL7's published examples (tests/fixtures/portal_client, CC0); the
signature and card images are real PNG/JPEG files drawn with Pillow.
"""

from __future__ import annotations

import copy
import io
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from kiosk.flow.types import (
    Address,
    Answer,
    AnswerKind,
    Appointment,
    CardImage,
    CheckinRecord,
    ConsentDocument,
    CoverageChoice,
    CoverageInfo,
    Demographics,
    DeskReason,
    InsuranceResult,
    Money,
    Patient,
    PaymentResult,
    PaymentStatus,
    QuestionnaireResult,
    ResponseItem,
    Signature,
    SignedConsent,
)
from portal_client.fhir import read_mapping

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "portal_client"
EASTERN = timezone(timedelta(hours=-5))
STARTED = datetime(2025, 3, 14, 9, 12, 5, tzinfo=EASTERN)
COMPLETED = STARTED + timedelta(minutes=6, seconds=40)
CHECKIN_ID = "5f0c3b7de2a94c1f8e6a2b9d0c4e7f11"
MEMBER_ID = "ZXQ90817263"
GROUP = "GRP-44512"


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def patient_source() -> dict[str, Any]:
    src = fixture_json("patient-example.json")
    src["meta"] = {**src.get("meta", {}), "versionId": "7"}
    return src


def appointment_source(patient_id: str = "example") -> dict[str, Any]:
    src = fixture_json("appointment-example.json")
    src["participant"][0]["actor"]["reference"] = f"Patient/{patient_id}"
    src["meta"] = {**src.get("meta", {}), "versionId": "3"}
    return src


def png_signature(width: int = 400, height: int = 150) -> bytes:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line(
        [(20, 100), (90, 40), (150, 110), (220, 30), (300, 95), (380, 60)], fill=(0, 0, 0, 255), width=4
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_card(text: str, colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (856, 540), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([30, 30, 826, 510], outline=(20, 20, 20), width=5)
    draw.text((60, 60), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_patient(source: dict[str, Any] | None = None, patient_id: str = "example") -> Patient:
    """The Patient as the kiosk reads it (``read_mapping.patient``: real reading, demographics shown)."""
    src = copy.deepcopy(source) if source is not None else patient_source()
    src["id"] = patient_id
    return read_mapping.patient(src)


def make_appointment(source: dict[str, Any] | None = None, patient_id: str = "example") -> Appointment:
    src = copy.deepcopy(source) if source is not None else appointment_source(patient_id)
    return read_mapping.appointment(src)


def questionnaire_results() -> tuple[QuestionnaireResult, ...]:
    intake = QuestionnaireResult(
        questionnaire_id="intake",
        questionnaire_url="http://example.org/Questionnaire/intake|2",
        title="Intake",
        completed_at=STARTED + timedelta(minutes=3),
        items=(
            ResponseItem("smoker", "Do you smoke?", (Answer(AnswerKind.BOOLEAN, False),)),
            ResponseItem("weight", "Weight (kg)", (Answer(AnswerKind.DECIMAL, "72.50"),)),
            ResponseItem("children", "Number of children", (Answer(AnswerKind.INTEGER, "2"),)),
            ResponseItem("last-visit", "Last visit", (Answer(AnswerKind.DATE, date(2024, 11, 2)),)),
            ResponseItem("concern", "Main concern", (Answer(AnswerKind.STRING, "Follow-up on knee"),)),
            ResponseItem(
                "allergies",
                "Allergies",
                items=(
                    ResponseItem(
                        "allergy",
                        "Allergy",
                        (
                            Answer(
                                AnswerKind.CODING, "91936005", "http://snomed.info/sct", "Penicillin allergy"
                            ),
                        ),
                        items=(ResponseItem("reaction", "Reaction", (Answer(AnswerKind.STRING, "Rash"),)),),
                    ),
                    ResponseItem("unanswered", "Anything else?"),
                ),
            ),
            ResponseItem("empty-group", "Nothing here", items=(ResponseItem("x", "X"),)),
        ),
    )
    phq = QuestionnaireResult(
        questionnaire_id="phq-2",
        questionnaire_url="http://example.org/Questionnaire/phq-2",
        title="PHQ-2",
        completed_at=STARTED + timedelta(minutes=4),
        items=(
            ResponseItem(
                "q1",
                "Little interest",
                (Answer(AnswerKind.CODING, "LA6568-5", "http://loinc.org", "Not at all"),),
            ),
        ),
    )
    return intake, phq


def consents() -> tuple[SignedConsent, ...]:
    sig = Signature(
        strokes=(((20.0, 100.0), (90.0, 40.0)),),
        png=png_signature(),
        pad_size=(400, 150),
        signed_at=STARTED + timedelta(minutes=5),
    )
    treatment = ConsentDocument(
        id="consent-treatment",
        title="Consent to treatment",
        text="...",
        version="3",
        url="http://example.org/consent/treatment",
    )
    privacy = ConsentDocument(id="npp", title="Notice of privacy practices", text="...", version="2",
                              url="DocumentReference/npp")  # fmt: skip
    return SignedConsent(treatment, sig), SignedConsent(privacy, sig)


def coverage_updated() -> InsuranceResult:
    info = CoverageInfo(
        id=None,
        payer_name="Acme Health Plan",
        member_id=MEMBER_ID,
        group_number=GROUP,
        plan_name="Gold PPO",
        subscriber_name="",
        rx_bin="610014",
        rx_pcn="MEDDPRIME",
        rx_group="RX4455",
        copay=Money(2500),
    )
    images = (
        CardImage("front", "image/jpeg", jpeg_card("ACME HEALTH front", (200, 220, 255))),
        CardImage("back", "image/jpeg", jpeg_card("ACME HEALTH back", (230, 230, 230))),
    )
    return InsuranceResult(CoverageChoice.UPDATED, info, images)


def full_record(**changes: Any) -> CheckinRecord:
    """Every option at once: arrival, demographics changed, new insurance with images, two forms, two
    consents, an approved payment."""
    patient = changes.pop("patient", None) or make_patient()
    appointment = changes.pop("appointment", None) or make_appointment(patient_id=patient.id)
    record = CheckinRecord(
        checkin_id=CHECKIN_ID,
        kiosk_id="lobby-1",
        started_at=STARTED,
        completed_at=COMPLETED,
        language="en",
        patient=patient,
        appointment=appointment,
        demographics=Demographics(
            phone="(03) 5555 0000",
            email="peter@example.org",
            address=Address("12 New Road", "Unit 4", "Springfield", "Vic", "3998"),
        ),
        insurance=coverage_updated(),
        responses=questionnaire_results(),
        consents=consents(),
        payment=PaymentResult(
            PaymentStatus.APPROVED,
            Money(2500),
            CHECKIN_ID,
            processor_reference="txn_8812ab",
            brand="VISA",
            last4="4242",
            auth_code="A1B2C3",
            at=COMPLETED,
        ),
        queue_number="A-017",
    )
    return replace(record, **changes)


def desk_record(**changes: Any) -> CheckinRecord:
    base = full_record(
        needs_staff=True, desk_reason=DeskReason.BALANCE_DUE, payment=None, payment_deferred=Money(4000)
    )
    return replace(base, **changes)
