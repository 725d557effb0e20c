"""One finished check-in (``CheckinRecord``) → ONE FHIR R4 transaction Bundle (DESIGN §5). Pure.

Entry order (every ``urn:uuid`` reference points to an EARLIER entry, so the sync worker may cut the
Bundle into consecutive smaller transactions for servers that cap their size, see ``delivery.py``):

1. ``PUT Appointment/<id>`` status ``arrived``, ``ifMatch W/"<version>"`` — the Appointment as read with only
   its status changed; skipped for a desk hand-off (staff decide) and when it already is ``arrived``.
2. ``PUT Patient/<id>`` with ``ifMatch`` — the Patient as read with only the phone/email/address the
   patient changed on the demographics step (``patient_write``); skipped when nothing changed.
3. ``POST Encounter`` (``arrived``, AMB), conditional on ``identifier=urn:open-checkin-kiosk:checkin|<id>``;
   a tablet's record (``record.tablet``) is conditional on ``appointment=Appointment/<id>`` instead: the
   visit's Encounter, whoever made it (a kiosk check-in, the desk), is used and no second one is created.
4. Coverage + card DocumentReferences (``coverage_write``), QuestionnaireResponses, Consents
   (``forms_write``), a PaymentReconciliation for an approved payment, Tasks for the desk.
5. ``POST Provenance`` naming every entry above, the kiosk (``Device`` identifier) and the patient.

Every POST is a conditional create on an identifier derived from the check-in id (Provenance, which has
no identifier in R4, on ``_tag``): replaying the Bundle creates nothing twice. A PUT whose version is not
known is emitted without ``ifMatch``; the sync worker re-reads and re-applies before sending it (never a
blind overwrite).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kiosk.flow.types import (
    Appointment,
    CheckinRecord,
    CoverageChoice,
    DeskReason,
    Money,
    PaymentResult,
    PaymentStatus,
)

from .coverage_write import coverage_entries
from .forms_write import consent_entry, questionnaire_response_entry, unique_keys
from .patient_write import apply_changes, changes_between, mark_arrived, same_content
from .write_common import (
    CHECKIN_SYSTEM,
    DESK_REASON_SYSTEM,
    DEVICE_SYSTEM,
    PAYMENT_TYPE,
    PROVENANCE_AGENT_TYPE,
    TASK_SYSTEM,
    V3_ACT_CODE,
    V3_DATA_OPERATION,
    V3_PARTICIPATION_TYPE,
    Json,
    checkin_value,
    coding,
    concept,
    conditional_create,
    fhir_date,
    if_none_exist,
    instant,
    kiosk_identifier,
    money,
    ref,
    transaction_entry,
    urn_uuid,
    weak_etag,
)

PROCESSOR_SYSTEM = "urn:open-checkin-kiosk:payment-processor"
DESK_HANDOFF_TEXT = "Kiosk desk hand-off"


def build_bundle(record: CheckinRecord) -> Json:
    """The transaction Bundle for one check-in."""
    encounter_url = urn_uuid(record.checkin_id, "encounter")
    entries: list[Json] = []
    if record.appointment is not None and not record.needs_staff:
        appointment_entry = _appointment_entry(record.appointment)
        if appointment_entry is not None:
            entries.append(appointment_entry)
    changes = patient_changes(record)
    if changes:
        patient_entry = _patient_entry(record, changes)
        if patient_entry is not None:
            entries.append(patient_entry)
    entries.append(_encounter_entry(record, encounter_url))
    coverage, _ = coverage_entries(record, encounter_url)
    entries.extend(coverage)
    for result, key in zip(record.responses, unique_keys([r.questionnaire_id for r in record.responses]), strict=True):
        entries.append(questionnaire_response_entry(record, result, key, encounter_url))
    for signed, key in zip(record.consents, unique_keys([c.document.id for c in record.consents]), strict=True):
        entries.append(consent_entry(record, signed, key))
    if record.payment is not None and record.payment.status is PaymentStatus.APPROVED:
        entries.append(_payment_entry(record, record.payment, encounter_url))
    entries.extend(_task_entries(record, encounter_url))
    if _arrived_before(record, entries, encounter_url):
        entries = _without_second_encounter(record, entries, encounter_url)
    entries.append(_provenance_entry(record, entries))
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _arrived_before(record: CheckinRecord, entries: list[Json], encounter_url: str) -> bool:
    """A patient already checked in came back to the kiosk ("did it work?"): the desk gets a Task, but no
    second arrived Encounter is made for the same visit — unless the patient entered something that hangs
    off an Encounter (then the hand-off keeps its own, as for any other desk reason)."""
    if not (record.needs_staff and record.desk_reason is DeskReason.ALREADY_CHECKED_IN):
        return False
    others = [e for e in entries if e.get("fullUrl") != encounter_url and e["resource"]["resourceType"] != "Task"]
    return not any(encounter_url in str(e["resource"]) for e in others)


def _without_second_encounter(record: CheckinRecord, entries: list[Json], encounter_url: str) -> list[Json]:
    out = []
    for entry in entries:
        if entry.get("fullUrl") == encounter_url:
            continue
        if entry["resource"]["resourceType"] == "Task" and entry["resource"].get("focus") == {
            "reference": encounter_url
        }:
            entry = {**entry, "resource": {**entry["resource"], "focus": ref("Patient", record.patient.id)}}
        out.append(entry)
    return out


def patient_changes(record: CheckinRecord) -> Json:
    """What the patient changed on the demographics step (``{}`` when nothing), re-appliable after a 412."""
    if record.demographics is None:
        return {}
    return changes_between(record.patient.demographics, record.demographics)


def entry_reference(entry: Mapping[str, Any]) -> str:
    """How other resources refer to an entry: its ``urn:uuid`` fullUrl, else ``<Type>/<id>`` of a PUT."""
    full_url = entry.get("fullUrl")
    if full_url:
        return str(full_url)
    return str(entry["request"]["url"]).split("?", 1)[0]


# -- updates of resources as read ----------------------------------------------------------------------


def _appointment_entry(appointment: Appointment) -> Json | None:
    source: Json = dict(appointment.source) if appointment.source else _minimal_appointment(appointment)
    if source.get("status") == "arrived":
        return None
    version = appointment.version or source.get("meta", {}).get("versionId")
    resource = mark_arrived({**source, "id": appointment.id})
    return transaction_entry(
        resource, method="PUT", url=f"Appointment/{appointment.id}", if_match=weak_etag(version)
    )


def _minimal_appointment(appointment: Appointment) -> Json:
    """Stand-in when the resource as read is missing: the sync worker re-reads it before any PUT."""
    out: Json = {
        "resourceType": "Appointment",
        "id": appointment.id,
        "status": str(appointment.status),
        "start": instant(appointment.start),
        "participant": [{"actor": ref("Patient", appointment.patient_id), "status": "accepted"}],
    }
    if appointment.end is not None:
        out["end"] = instant(appointment.end)
    return out


def _patient_entry(record: CheckinRecord, changes: Json) -> Json | None:
    patient = record.patient
    source: Json = (
        {**patient.source, "id": patient.id}
        if patient.source
        else {"resourceType": "Patient", "id": patient.id}
    )
    version = patient.version or source.get("meta", {}).get("versionId")
    resource = apply_changes(source, changes)
    if patient.source and same_content(resource, source):
        return None
    return transaction_entry(resource, method="PUT", url=f"Patient/{patient.id}", if_match=weak_etag(version))


# -- the visit -------------------------------------------------------------------------------------------


def _appointment_actors(appointment: Appointment) -> tuple[list[Json], list[Json]]:
    """(practitioner references, location references) from the Appointment as read, else its fields."""
    practitioners: list[Json] = []
    locations: list[Json] = []
    for participant in appointment.source.get("participant", []) if appointment.source else []:
        actor = participant.get("actor", {})
        reference = str(actor.get("reference", ""))
        if reference.startswith(("Practitioner/", "PractitionerRole/")):
            practitioners.append(dict(actor))
        elif reference.startswith("Location/"):
            locations.append(dict(actor))
    if not practitioners and appointment.provider_id:
        practitioners.append(
            {**ref("Practitioner", appointment.provider_id), "display": appointment.provider_name}
        )
    if not locations and appointment.location_id:
        locations.append({**ref("Location", appointment.location_id), "display": appointment.location_name})
    return _without_empty(practitioners), _without_empty(locations)


def _without_empty(actors: list[Json]) -> list[Json]:
    return [{key: value for key, value in actor.items() if value} for actor in actors]


def _encounter_entry(record: CheckinRecord, encounter_url: str) -> Json:
    resource: Json = {
        "resourceType": "Encounter",
        "identifier": [kiosk_identifier(record.checkin_id)],
        "status": "arrived",
        "class": coding(V3_ACT_CODE, "AMB", "ambulatory"),
        "subject": ref("Patient", record.patient.id),
    }
    appointment = record.appointment
    if appointment is not None:
        practitioners, locations = _appointment_actors(appointment)
        if practitioners:
            resource["participant"] = [
                {"type": [concept(V3_PARTICIPATION_TYPE, "ATND", "attender")], "individual": actor}
                for actor in practitioners
            ]
        resource["appointment"] = [ref("Appointment", appointment.id)]
    resource["period"] = {"start": instant(record.started_at)}
    if appointment is not None and locations:
        resource["location"] = [{"location": actor, "status": "active"} for actor in locations]
    return transaction_entry(
        resource,
        method="POST",
        url="Encounter",
        full_url=encounter_url,
        if_none_exist_query=encounter_condition(record),
    )


def encounter_condition(record: CheckinRecord) -> str:
    """When the check-in's Encounter already exists (the conditional create's query).

    A kiosk makes the visit's Encounter: its own check-in identifier (a replay finds it again). A tablet adds
    intake to a visit that a kiosk (the patient's ticket) or the desk may already have checked in: any Encounter
    of that Appointment is the visit's one, and the tablet's QuestionnaireResponses, Coverage and Provenance
    point to it (a transaction resolves the entry's ``urn:uuid`` to the Encounter found). When there is none,
    the tablet's Encounter is created, and a replay finds it by the same query. Two Encounters already on one
    Appointment make the server answer 412: the row waits (sync ``backend_conflict``) until staff merge them.
    """
    appointment = record.appointment
    if record.tablet and appointment is not None and appointment.id:
        return f"appointment={quote('Appointment/' + appointment.id, safe='/-.')}"
    return if_none_exist(record.checkin_id)


# -- payment and desk ------------------------------------------------------------------------------------


def card_summary(payment: PaymentResult) -> str:
    """Brand + last four digits, nothing more (whatever the terminal put in those fields)."""
    brand = re.sub(r"[^A-Za-z0-9 ]", "", payment.brand).strip()[:20]
    last4 = re.sub(r"\D", "", payment.last4)[-4:]
    if brand and last4:
        return f"{brand} ending {last4}"
    return brand or (f"Card ending {last4}" if last4 else "")


def _payment_entry(record: CheckinRecord, payment: PaymentResult, encounter_url: str) -> Json:
    value = checkin_value(record.checkin_id, "payment")
    when = payment.at or record.completed_at
    resource: Json = {
        "resourceType": "PaymentReconciliation",
        "identifier": [kiosk_identifier(value)],
        "status": "active",
        "created": instant(when),
        "outcome": "complete",
        "disposition": "Co-pay at kiosk",
        "paymentDate": fhir_date(when),
        "paymentAmount": money(payment.amount),
    }
    if payment.processor_reference:
        resource["paymentIdentifier"] = {"system": PROCESSOR_SYSTEM, "value": payment.processor_reference}
    resource["detail"] = [
        {
            "type": concept(PAYMENT_TYPE, "payment", "Payment"),
            "request": {"reference": encounter_url},
            "date": fhir_date(when),
            "amount": money(payment.amount),
        }
    ]
    summary = card_summary(payment)
    if summary:
        resource["processNote"] = [{"type": "display", "text": summary}]
    return conditional_create(
        resource, full_url=urn_uuid(record.checkin_id, "payment"), identifier_value=value
    )


def _task(
    record: CheckinRecord, key: str, code: str, text: str, description: str, encounter_url: str
) -> Json:
    return {
        "resourceType": "Task",
        "identifier": [kiosk_identifier(checkin_value(record.checkin_id, "task", key))],
        "status": "requested",
        "intent": "order",
        "priority": "asap",
        "code": concept(TASK_SYSTEM, code, text, text=text),
        "description": description,
        "focus": {"reference": encounter_url},
        "for": ref("Patient", record.patient.id),
        "authoredOn": instant(record.completed_at),
        "requester": _device_reference(record.kiosk_id),
    }


def _task_entries(record: CheckinRecord, encounter_url: str) -> list[Json]:
    """Desk work the kiosk hands over: hand-off, payment owed at the desk, insurance card missing.

    Descriptions carry keys, amounts and the queue number only: no names, dates of birth or member ids.
    The amount owed goes in ``Task.input`` (valueMoney) so a billing system can read it.
    """
    queue = f" Queue number {record.queue_number}." if record.queue_number else ""
    tasks: list[tuple[str, Json]] = []
    if record.needs_staff:
        reason = str(record.desk_reason or DeskReason.PATIENT_REQUEST)
        task = _task(
            record,
            "desk",
            "desk-handoff",
            DESK_HANDOFF_TEXT,
            f"Kiosk check-in handed to the front desk (reason: {reason}).{queue}",
            encounter_url,
        )
        reason_concept = concept(DESK_REASON_SYSTEM, reason, text=reason)
        task["businessStatus"] = reason_concept
        task["reasonCode"] = reason_concept
        tasks.append(("desk", task))
    if record.payment_deferred is not None and record.payment_deferred.cents > 0:
        owed: Money = record.payment_deferred
        task = _task(
            record,
            "payment",
            "collect-payment",
            "Collect payment at the desk",
            f"Patient chose to pay at the desk: {owed.cents / 100:.2f} {owed.currency}.{queue}",
            encounter_url,
        )
        task["input"] = [{"type": {"text": "amount-owed"}, "valueMoney": money(owed)}]
        tasks.append(("payment", task))
    if record.insurance is not None and record.insurance.choice is CoverageChoice.NO_CARD:
        task = _task(
            record,
            "insurance",
            "insurance-card",
            "Insurance card follow-up",
            f"Patient did not have the insurance card at the kiosk.{queue}",
            encounter_url,
        )
        tasks.append(("insurance", task))
    return [
        conditional_create(
            task,
            full_url=urn_uuid(record.checkin_id, f"task-{key}"),
            identifier_value=checkin_value(record.checkin_id, "task", key),
        )
        for key, task in tasks
    ]


# -- provenance ------------------------------------------------------------------------------------------


def _device_reference(kiosk_id: str) -> Json:
    return {
        "type": "Device",
        "identifier": {"system": DEVICE_SYSTEM, "value": kiosk_id},
        "display": f"Check-in kiosk {kiosk_id}",
    }


def _provenance_entry(record: CheckinRecord, entries: list[Json]) -> Json:
    resource: Json = {
        "resourceType": "Provenance",
        "meta": {"tag": [{"system": CHECKIN_SYSTEM, "code": record.checkin_id}]},
        "target": [{"reference": entry_reference(entry)} for entry in entries],
        "occurredPeriod": {"start": instant(record.started_at), "end": instant(record.completed_at)},
        "recorded": instant(record.completed_at),
        "activity": concept(V3_DATA_OPERATION, "CREATE", "create"),
        "agent": [
            {
                "type": concept(PROVENANCE_AGENT_TYPE, "composer", "Composer"),
                "who": _device_reference(record.kiosk_id),
            },
            {
                "type": concept(PROVENANCE_AGENT_TYPE, "author", "Author"),
                "who": ref("Patient", record.patient.id),
            },
        ],
    }
    return transaction_entry(
        resource,
        method="POST",
        url="Provenance",
        full_url=urn_uuid(record.checkin_id, "provenance"),
        if_none_exist_query=if_none_exist(record.checkin_id, param="_tag"),
    )
