"""Insurance from one check-in → Coverage and DocumentReference entries of the transaction Bundle.

- ``UPDATED``: a new Coverage (conditional create on ``<checkin_id>:coverage``): payor by reference when it
  is the payer already on file, else by display; ``subscriberId`` and a member-id identifier; ``class``
  entries for group, plan, RxBIN/PCN/group; co-pay as ``costToBeneficiary``. The Coverage on file is left
  alone: staff retire it (the kiosk cannot tell a second policy from a replacement).
- ``SELF_PAY``: a Coverage shaped like HL7's ``coverage-example-selfpay`` (type ``coverage-selfpay#pay``,
  the patient as subscriber, beneficiary and payor).
- ``NO_CARD`` writes no Coverage (the bundle adds a desk Task); ``UNCHANGED`` writes nothing.
- Card images: one DocumentReference per side, LOINC 64290-0 "Health insurance card", the image inline.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.flow.types import CardImage, CheckinRecord, CoverageChoice, CoverageInfo

from .write_common import (
    COVERAGE_CLASS,
    COVERAGE_COPAY_TYPE,
    COVERAGE_SELFPAY,
    LOINC,
    SUBSCRIBER_RELATIONSHIP,
    V2_IDENTIFIER_TYPE,
    Json,
    b64,
    checkin_value,
    concept,
    conditional_create,
    fhir_date,
    instant,
    kiosk_identifier,
    money,
    ref,
    urn_uuid,
)

INSURANCE_CARD_TYPE = concept(LOINC, "64290-0", "Health insurance card", text="Insurance card")


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _payor(info: CoverageInfo) -> list[Json]:
    """The payer on file (by reference) when the patient kept the same payer name, else by display."""
    for payor in info.source.get("payor", []) if info.source else []:
        if payor.get("reference") and _norm(str(payor.get("display", ""))) == _norm(info.payer_name):
            return [{"reference": payor["reference"], "display": info.payer_name}]
    return [{"display": info.payer_name or "Unknown payer"}]


def _classes(info: CoverageInfo) -> list[Json]:
    out: list[Json] = []
    for code, value, name in (
        ("group", info.group_number, ""),
        ("plan", info.plan_name, info.plan_name),
        ("rxbin", info.rx_bin, ""),
        ("rxpcn", info.rx_pcn, ""),
        ("rxgroup", info.rx_group, ""),
    ):
        if value.strip():
            item: Json = {"type": concept(COVERAGE_CLASS, code), "value": value.strip()}
            if name:
                item["name"] = name.strip()
            out.append(item)
    return out


def _subscriber(record: CheckinRecord, info: CoverageInfo) -> Json:
    patient = record.patient
    name = _norm(info.subscriber_name)
    own_names = {_norm(f"{patient.given} {patient.family}"), _norm(f"{patient.family}, {patient.given}")}
    if not name or name in own_names:
        return {
            "subscriber": ref("Patient", patient.id),
            "relationship": concept(SUBSCRIBER_RELATIONSHIP, "self", "Self"),
        }
    return {"subscriber": {"display": info.subscriber_name.strip()}}


def _insured_coverage(record: CheckinRecord, info: CoverageInfo) -> Json:
    identifier: list[Json] = [kiosk_identifier(checkin_value(record.checkin_id, "coverage"))]
    coverage: Json = {"resourceType": "Coverage", "identifier": identifier, "status": "active"}
    member_id = info.member_id.strip()
    if member_id:
        identifier.append({"type": concept(V2_IDENTIFIER_TYPE, "MB", "Member Number"), "value": member_id})
        coverage["subscriberId"] = member_id
    coverage.update(_subscriber(record, info))
    coverage["beneficiary"] = ref("Patient", record.patient.id)
    coverage["period"] = {"start": fhir_date(record.completed_at)}
    coverage["payor"] = _payor(info)
    classes = _classes(info)
    if classes:
        coverage["class"] = classes
    if info.copay is not None:
        coverage["costToBeneficiary"] = [
            {"type": concept(COVERAGE_COPAY_TYPE, "copay", "Copay Amount"), "valueMoney": money(info.copay)}
        ]
    return coverage


def _self_pay_coverage(record: CheckinRecord) -> Json:
    patient = ref("Patient", record.patient.id)
    return {
        "resourceType": "Coverage",
        "identifier": [kiosk_identifier(checkin_value(record.checkin_id, "coverage"))],
        "status": "active",
        "type": concept(COVERAGE_SELFPAY, "pay", "PAY"),
        "subscriber": patient,
        "beneficiary": patient,
        "relationship": concept(SUBSCRIBER_RELATIONSHIP, "self", "Self"),
        "period": {"start": fhir_date(record.completed_at)},
        "payor": [patient],
    }


def coverage_entries(record: CheckinRecord, encounter_url: str) -> tuple[list[Json], str | None]:
    """(entries, fullUrl of the new Coverage or None) for the record's insurance step."""
    insurance = record.insurance
    if insurance is None or insurance.choice in (CoverageChoice.UNCHANGED, CoverageChoice.NO_CARD):
        return [], None
    if (
        insurance.choice is CoverageChoice.SELF_PAY
        or insurance.coverage is None
        or insurance.coverage.self_pay
    ):
        resource = _self_pay_coverage(record)
    else:
        resource = _insured_coverage(record, insurance.coverage)
    coverage_url = urn_uuid(record.checkin_id, "coverage")
    entries = [
        conditional_create(
            resource, full_url=coverage_url, identifier_value=checkin_value(record.checkin_id, "coverage")
        )
    ]
    if insurance.choice is CoverageChoice.UPDATED:
        seen: dict[str, int] = {}
        for image in insurance.images:
            seen[image.side] = seen.get(image.side, 0) + 1
            key = image.side if seen[image.side] == 1 else f"{image.side}-{seen[image.side]}"
            entries.append(_card_document(record, image, key, coverage_url, encounter_url))
    return entries, coverage_url


def _card_document(
    record: CheckinRecord, image: CardImage, key: str, coverage_url: str, encounter_url: str
) -> Json:
    """One side of the insurance card as a DocumentReference.

    Why ``context.related`` points at the Coverage: in R4, Coverage has no element that can hold or point
    to an image, and DocumentReference has no ``about``/``subject``-like element for non-patient
    resources; ``context.related`` ("related identifiers or resources associated with the document") is
    the element R4 offers for "this document is about that resource", and it is searchable
    (``DocumentReference?related=Coverage/…``), so staff and the billing system find the card from the
    Coverage. ``subject`` stays the Patient, ``context.encounter`` the visit it was captured at.
    """
    value = checkin_value(record.checkin_id, "card", key)
    taken: datetime = record.completed_at
    resource: Json = {
        "resourceType": "DocumentReference",
        "identifier": [kiosk_identifier(value)],
        "status": "current",
        "docStatus": "final",
        "type": INSURANCE_CARD_TYPE,
        "subject": ref("Patient", record.patient.id),
        "date": instant(taken),
        "description": f"Insurance card ({image.side})",
        "content": [
            {
                "attachment": {
                    "contentType": image.content_type,
                    "data": b64(image.data),
                    "size": len(image.data),
                    "title": f"insurance-card-{key}",
                    "creation": instant(taken),
                }
            }
        ],
        "context": {"encounter": [{"reference": encounter_url}], "related": [{"reference": coverage_url}]},
    }
    return conditional_create(
        resource, full_url=urn_uuid(record.checkin_id, f"card-{key}"), identifier_value=value
    )
