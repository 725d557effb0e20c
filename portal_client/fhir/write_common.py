"""Shared pieces of the outgoing (write) mapping: code systems, kiosk identifiers, value formatting.

Pure functions over plain JSON (dicts); no I/O. Every identifier the kiosk makes is derived from the
check-in id (a random uuid4 hex, not personal), so a replayed Bundle matches what an earlier attempt made.
"""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from kiosk.flow.types import Money

Json = dict[str, Any]

# Systems the kiosk owns (URNs: nothing to resolve, nothing to leak).
CHECKIN_SYSTEM = "urn:open-checkin-kiosk:checkin"
DEVICE_SYSTEM = "urn:open-checkin-kiosk:device"
TASK_SYSTEM = "urn:open-checkin-kiosk:task"
DESK_REASON_SYSTEM = "urn:open-checkin-kiosk:desk-reason"

# HL7 terminology.
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V3_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
COVERAGE_SELFPAY = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
COVERAGE_COPAY_TYPE = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/payment-type"
LOINC = "http://loinc.org"

_URN_NAMESPACE = uuid.UUID("5b0c1f0e-6d1a-4c39-9a57-1b6c4f0e2a77")  # fixed: fullUrls are reproducible


def checkin_value(checkin_id: str, *parts: str) -> str:
    """The identifier value of one kiosk-made resource: ``<checkin_id>`` or ``<checkin_id>:part:part``."""
    return ":".join((checkin_id, *parts))


def kiosk_identifier(value: str) -> Json:
    return {"system": CHECKIN_SYSTEM, "value": value}


def if_none_exist(value: str, *, system: str = CHECKIN_SYSTEM, param: str = "identifier") -> str:
    """A conditional-create query (``identifier=system|value``), each half URL-encoded."""
    return f"{param}={quote(system, safe=':/')}|{quote(value, safe=':/-._~')}"


def urn_uuid(checkin_id: str, key: str) -> str:
    """A fullUrl for a new entry, stable for the same check-in and key."""
    return f"urn:uuid:{uuid.uuid5(_URN_NAMESPACE, f'{checkin_id}/{key}')}"


def ref(resource_type: str, resource_id: str) -> Json:
    return {"reference": resource_id if "/" in resource_id else f"{resource_type}/{resource_id}"}


def weak_etag(version: str | None) -> str | None:
    """``W/"<version>"``: quoted, as servers require (Medplum ignores an unquoted If-Match)."""
    if not version:
        return None
    if version.startswith('W/"'):
        return version
    return f'W/"{version.strip(chr(34))}"'


def instant(value: datetime) -> str:
    """FHIR dateTime/instant with an offset. A naive datetime is taken as the machine's local time."""
    aware = value if value.tzinfo is not None else value.astimezone()
    return aware.isoformat(timespec="seconds")


def fhir_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = (value if value.tzinfo is not None else value.astimezone()).date()
    return value.isoformat()


def money(amount: Money) -> Json:
    """FHIR Money: a JSON number (``25.0``), never a string; built from integer cents."""
    return {"value": amount.cents / 100, "currency": amount.currency}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def coding(system: str, code: str, display: str = "") -> Json:
    out: Json = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str = "", text: str = "") -> Json:
    out: Json = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def transaction_entry(
    resource: Json,
    *,
    method: str,
    url: str,
    full_url: str | None = None,
    if_none_exist_query: str | None = None,
    if_match: str | None = None,
) -> Json:
    request: Json = {"method": method, "url": url}
    if if_none_exist_query:
        request["ifNoneExist"] = if_none_exist_query
    if if_match:
        request["ifMatch"] = if_match
    entry: Json = {}
    if full_url:
        entry["fullUrl"] = full_url
    entry["resource"] = resource
    entry["request"] = request
    return entry


def conditional_create(resource: Json, *, full_url: str, identifier_value: str) -> Json:
    """POST with ``ifNoneExist`` on the kiosk identifier: a replay returns the first resource."""
    return transaction_entry(
        resource,
        method="POST",
        url=resource["resourceType"],
        full_url=full_url,
        if_none_exist_query=if_none_exist(identifier_value),
    )
