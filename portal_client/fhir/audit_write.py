"""Staff actions as FHIR R4 ``AuditEvent`` resources (DESIGN §9: every staff action is audited).

Pure mapping (no I/O). One staff action = one transaction Bundle with one entry, a conditional create on a
``meta.tag`` carrying the audit entry's own id (``_tag=urn:open-checkin-kiosk:audit|<id>``; AuditEvent has
no business identifier), so a replay from the outbox creates nothing twice. It goes through the outbox
(kind ``audit``) like a check-in and is delivered by the same sync worker.

What it says (no patient data, ever): ``type`` DICOM 110100 "Application Activity", ``subtype`` the kiosk's
action code (``urn:open-checkin-kiosk:staff-action``), ``action`` E (execute), ``outcome`` 0 or 4 (minor
failure, e.g. a wrong PIN), ``recorded``, one requesting agent (the staff id, ``badge:<fingerprint>`` or
``unknown``, as an identifier), and the kiosk's Device identifier as ``source.observer``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from .write_common import DEVICE_SYSTEM, coding, if_none_exist, instant, transaction_entry

Json = dict[str, Any]

AUDIT_TAG_SYSTEM = "urn:open-checkin-kiosk:audit"
STAFF_ACTION_SYSTEM = "urn:open-checkin-kiosk:staff-action"
STAFF_SYSTEM = "urn:open-checkin-kiosk:staff"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
KIND_AUDIT = "audit"  # the outbox row kind


def audit_event(
    entry_id: str, at: datetime, kiosk_id: str, who: str, action: str, outcome: str = "success", detail: str = ""
) -> Json:
    """The AuditEvent for one staff action (the fields of ``kiosk.staff.audit.AuditEntry``)."""
    agent: Json = {
        "type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "AUT", "author")]},
        "who": {"identifier": {"system": STAFF_SYSTEM, "value": who or "unknown"}, "display": who or "unknown"},
        "requestor": True,
    }
    event: Json = {
        "resourceType": "AuditEvent",
        "meta": {"tag": [coding(AUDIT_TAG_SYSTEM, entry_id)]},
        "type": coding(DICOM, "110100", "Application Activity"),
        "subtype": [coding(STAFF_ACTION_SYSTEM, action)],
        "action": "E",
        "recorded": instant(at),
        "outcome": "0" if outcome == "success" else "4",
        "agent": [agent],
        "source": {
            "site": kiosk_id,
            "observer": {"identifier": {"system": DEVICE_SYSTEM, "value": kiosk_id}, "display": kiosk_id},
            "type": [coding(AUDIT_SOURCE_TYPE, "1", "User Device")],
        },
    }
    if detail:
        event["outcomeDesc"] = detail
    return event


def audit_bundle(event: Json) -> Json:
    """A one-entry transaction Bundle: conditional create on the event's audit tag."""
    tag = event["meta"]["tag"][0]["code"]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            transaction_entry(
                event,
                method="POST",
                url="AuditEvent",
                full_url=f"urn:uuid:{_uuid(tag)}",
                if_none_exist_query=if_none_exist(tag, system=AUDIT_TAG_SYSTEM, param="_tag"),
            )
        ],
    }


def _uuid(entry_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{AUDIT_TAG_SYSTEM}:{entry_id}"))
