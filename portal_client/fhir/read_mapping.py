"""Pure mapping of FHIR R4 JSON (as read from the back-end) to the flow's domain types. No I/O.

Conventions the kiosk reads (documented in portal_client/sandbox/README.md, seeded by the sandbox):
- Visit type: ``Appointment.appointmentType`` (a coding of ``VISIT_TYPE_SYSTEM`` preferred), else
  ``serviceType[0]``.
- Forms per visit type: ``Questionnaire.useContext`` whose ``valueCodeableConcept`` holds a
  ``VISIT_TYPE_SYSTEM`` code (``VISIT_TYPE_ANY`` = every visit); a form answered within its renewal period
  (extension ``RENEWAL_EXTENSION_URL``, valueDuration) is not due again.
- Consent templates: ``DocumentReference`` (status current) typed ``DOCUMENT_TYPE_SYSTEM|consent-template``
  with a text/markdown or text/plain attachment; a signed ``Consent`` points back with ``sourceReference``.
  A new text version is a new DocumentReference (the old one superseded), so everyone signs it again.
- Outstanding balance: extension ``BALANCE_EXTENSION_URL`` (valueMoney) on Patient.

A resource that cannot be mapped raises ``MappingError`` whose message names the resource type, id and
element, never a value (values may be personal data).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from kiosk.flow.types import (
    Address,
    Appointment,
    AppointmentStatus,
    ConsentDocument,
    CoverageInfo,
    Demographics,
    Money,
    Patient,
)

JSON = Mapping[str, Any]

KIOSK_NS = "http://open-checkin-kiosk.org/fhir"
VISIT_TYPE_SYSTEM = f"{KIOSK_NS}/CodeSystem/visit-type"
VISIT_TYPE_ANY = "ALL"
DOCUMENT_TYPE_SYSTEM = f"{KIOSK_NS}/CodeSystem/document-type"
CONSENT_TEMPLATE_CODE = "consent-template"
BALANCE_EXTENSION_URL = f"{KIOSK_NS}/StructureDefinition/outstanding-balance"
RENEWAL_EXTENSION_URL = f"{KIOSK_NS}/StructureDefinition/questionnaire-renewal"

USAGE_CONTEXT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/usage-context-type"
COVERAGE_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"
COVERAGE_COPAY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
COVERAGE_SELFPAY_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
V2_IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"

_NAME_USE_ORDER = {"official": 0, "usual": 1, None: 2, "temp": 3, "nickname": 4, "anonymous": 5, "maiden": 6}
_PHONE_USE_ORDER = {"mobile": 0, "home": 1, None: 2, "work": 3, "temp": 4}
_COPAY_CODES = ("copay", "gpvisit", "spvisit")
_TEXT_TYPES = ("text/markdown", "text/plain")
_DURATION_DAYS = {
    "d": 1,
    "day": 1,
    "days": 1,
    "wk": 7,
    "week": 7,
    "weeks": 7,
    "mo": 30,
    "month": 30,
    "months": 30,
    "a": 365,
    "year": 365,
    "years": 365,
}


class MappingError(ValueError):
    """A resource lacks what the kiosk needs. The message names type/id/element, never a value."""


def _where(resource: JSON) -> str:
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '?')}"


# -- small readers -----------------------------------------------------------------------------------------
def reference_key(reference: str | None) -> str | None:
    """``"Patient/123"`` from a relative, absolute or versioned reference; None for ``#contained``/urn."""
    if not reference or reference.startswith(("#", "urn:")):
        return None
    parts = [p for p in reference.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2:
        return None
    return f"{parts[-2]}/{parts[-1]}"


def reference_id(reference: str | None, resource_type: str) -> str | None:
    key = reference_key(reference)
    if key is None or not key.startswith(resource_type + "/"):
        return None
    return key.split("/", 1)[1]


def codings(concept: JSON | None) -> list[JSON]:
    return list((concept or {}).get("coding") or [])


def has_code(concept: JSON | None, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in codings(concept))


def money(value: JSON | None) -> Money | None:
    """FHIR Money → Money in cents (half-up). None when absent or negative (a credit is not owed)."""
    if not value or value.get("value") is None:
        return None
    try:
        amount = Decimal(str(value["value"]))
    except InvalidOperation:
        return None
    cents = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if cents < 0:
        return None
    return Money(cents, str(value.get("currency") or "USD"))


def parse_instant(value: str | None, *, where: str) -> datetime:
    if not value:
        raise MappingError(f"{where}: no date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError(f"{where}: not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{where}: date-time without a timezone offset")
    return parsed


def human_name_text(name: JSON) -> str:
    if name.get("text"):
        return str(name["text"]).strip()
    parts = [*(name.get("prefix") or []), *(name.get("given") or []), name.get("family") or ""]
    return " ".join(str(p).strip() for p in parts if p and str(p).strip())


def display_name(resource: JSON) -> str:
    """A person's or place's name for a screen: Practitioner/Patient HumanName, else ``name``."""
    name = resource.get("name")
    if isinstance(name, str):
        return name.strip()
    if isinstance(name, list) and name:
        ranked = sorted(name, key=lambda n: _NAME_USE_ORDER.get(n.get("use"), 9))
        return human_name_text(ranked[0])
    practitioner = resource.get("practitioner")  # PractitionerRole
    if isinstance(practitioner, Mapping):
        return str(practitioner.get("display") or "")
    return ""


# -- Patient -----------------------------------------------------------------------------------------------
def _patient_name(resource: JSON) -> tuple[str, str]:
    names = [n for n in resource.get("name") or [] if n.get("use") != "old"]
    ranked = sorted(names, key=lambda n: _NAME_USE_ORDER.get(n.get("use"), 9))
    for name in ranked:
        given = [g for g in name.get("given") or [] if g and g.strip()]
        if given and name.get("family"):
            return given[0].strip(), str(name["family"]).strip()
    for name in ranked:  # only text: "Given ... Family"
        words = str(name.get("text") or "").split()
        if len(words) >= 2:
            return words[0], words[-1]
    raise MappingError(f"{_where(resource)}: no name with a given and a family part")


def _phone(telecom: Iterable[JSON]) -> str:
    phones = [t for t in telecom if t.get("system") == "phone" and t.get("value") and t.get("use") != "old"]
    phones.sort(key=lambda t: (_PHONE_USE_ORDER.get(t.get("use"), 9), t.get("rank", 99)))
    return str(phones[0]["value"]) if phones else ""


def _email(telecom: Iterable[JSON]) -> str:
    emails = [t for t in telecom if t.get("system") == "email" and t.get("value") and t.get("use") != "old"]
    emails.sort(key=lambda t: t.get("rank", 99))
    return str(emails[0]["value"]) if emails else ""


def _address(addresses: Iterable[JSON]) -> Address:
    usable = [a for a in addresses if a.get("use") not in ("old", "billing") and a.get("type") != "postal"]
    usable.sort(key=lambda a: 0 if a.get("use") == "home" else 1)
    if not usable:
        return Address()
    a = usable[0]
    lines = [str(x) for x in a.get("line") or [] if x]
    return Address(
        line1=lines[0] if lines else "",
        line2=", ".join(lines[1:]),
        city=str(a.get("city") or ""),
        state=str(a.get("state") or ""),
        postal_code=str(a.get("postalCode") or ""),
        country=str(a.get("country") or ""),
    )


def extension_value(resource: JSON, url: str, key: str) -> Any:
    for ext in resource.get("extension") or []:
        if ext.get("url") == url and key in ext:
            return ext[key]
    return None


def patient(resource: JSON) -> Patient:
    if resource.get("resourceType") != "Patient" or not resource.get("id"):
        raise MappingError(f"{_where(resource)}: not a Patient with an id")
    given, family = _patient_name(resource)
    try:
        birth_date = date.fromisoformat(str(resource.get("birthDate")))
    except ValueError:
        raise MappingError(f"{_where(resource)}: birthDate missing or not a full date") from None
    telecom = resource.get("telecom") or []
    return Patient(
        id=str(resource["id"]),
        version=(resource.get("meta") or {}).get("versionId"),
        given=given,
        family=family,
        birth_date=birth_date,
        demographics=Demographics(
            phone=_phone(telecom), email=_email(telecom), address=_address(resource.get("address") or [])
        ),
        balance=money(extension_value(resource, BALANCE_EXTENSION_URL, "valueMoney")),
        source=resource,
    )


# -- Appointment -------------------------------------------------------------------------------------------
def _visit_type(resource: JSON) -> tuple[str, str]:
    for concept in (resource.get("appointmentType"), *(resource.get("serviceType") or [])):
        if not concept:
            continue
        found = codings(concept)
        found.sort(key=lambda c: 0 if c.get("system") == VISIT_TYPE_SYSTEM else 1)
        if found:
            code = str(found[0].get("code") or "")
            return code, str(found[0].get("display") or concept.get("text") or code)
        if concept.get("text"):
            return "", str(concept["text"])
    return "", ""


def appointment_references(resource: JSON) -> list[str]:
    """``Practitioner/x`` and ``Location/y`` keys whose display names are missing (to resolve by search)."""
    keys = []
    for participant in resource.get("participant") or []:
        actor = participant.get("actor") or {}
        key = reference_key(actor.get("reference"))
        if key and key.split("/")[0] in ("Practitioner", "Location") and not actor.get("display"):
            keys.append(key)
    return keys


def appointment(resource: JSON, names: Mapping[str, str] | None = None) -> Appointment:
    """``names`` maps ``"Practitioner/x"``/``"Location/y"`` to display names resolved by the caller."""
    where = _where(resource)
    if resource.get("resourceType") != "Appointment" or not resource.get("id"):
        raise MappingError(f"{where}: not an Appointment with an id")
    try:
        status = AppointmentStatus(str(resource.get("status")))
    except ValueError:
        raise MappingError(f"{where}.status: not an R4 appointment status") from None
    start = parse_instant(resource.get("start"), where=f"{where}.start")
    end = parse_instant(resource["end"], where=f"{where}.end") if resource.get("end") else None
    names = names or {}
    patient_id: str | None = None
    provider_id: str | None = None
    provider_name = role_name = ""
    location_id: str | None = None
    location_name = ""
    for participant in resource.get("participant") or []:
        actor = participant.get("actor") or {}
        key = reference_key(actor.get("reference"))
        if key is None:
            continue
        kind, _, actor_id = key.partition("/")
        display = str(actor.get("display") or names.get(key, ""))
        if kind == "Patient" and patient_id is None:
            patient_id = actor_id
        elif kind == "Practitioner" and provider_id is None:
            provider_id, provider_name = actor_id, display
        elif kind == "PractitionerRole" and not role_name:
            role_name = display
        elif kind == "Location" and location_id is None:
            location_id, location_name = actor_id, display
    if patient_id is None:
        raise MappingError(f"{where}.participant: no Patient actor")
    code, display = _visit_type(resource)
    return Appointment(
        id=str(resource["id"]),
        version=(resource.get("meta") or {}).get("versionId"),
        status=status,
        start=start,
        end=end,
        patient_id=patient_id,
        provider_id=provider_id,
        provider_name=provider_name or role_name,
        visit_type_code=code,
        visit_type_display=display,
        location_id=location_id,
        location_name=location_name,
        source=resource,
    )


# -- Coverage ----------------------------------------------------------------------------------------------
def _class_of(resource: JSON, code: str) -> JSON | None:
    for item in resource.get("class") or []:
        if has_code(item.get("type"), COVERAGE_CLASS_SYSTEM, code):
            return item  # type: ignore[no-any-return]
    return None


def _member_id(resource: JSON) -> str:
    if resource.get("subscriberId"):
        return str(resource["subscriberId"])
    identifiers = [i for i in resource.get("identifier") or [] if i.get("value")]
    for identifier in identifiers:
        if has_code(identifier.get("type"), V2_IDENTIFIER_TYPE_SYSTEM, "MB"):
            return str(identifier["value"])
    return str(identifiers[0]["value"]) if len(identifiers) == 1 else ""


def _copay(resource: JSON) -> Money | None:
    costs = [c for c in resource.get("costToBeneficiary") or [] if c.get("valueMoney")]
    for code in _COPAY_CODES:
        for cost in costs:
            if any(c.get("code") == code for c in codings(cost.get("type"))):
                return money(cost["valueMoney"])
    untyped = [c for c in costs if not c.get("type")]
    return money(untyped[0]["valueMoney"]) if untyped else None


def payer_reference(resource: JSON) -> str | None:
    payors = resource.get("payor") or []
    return reference_key(payors[0].get("reference")) if payors else None


def coverage(resource: JSON, names: Mapping[str, str] | None = None) -> CoverageInfo:
    """``names`` maps ``"Organization/x"`` to a payer name when ``payor.display`` is missing."""
    if resource.get("resourceType") != "Coverage" or not resource.get("id"):
        raise MappingError(f"{_where(resource)}: not a Coverage with an id")
    self_pay = has_code(resource.get("type"), COVERAGE_SELFPAY_SYSTEM, "pay")
    payors = resource.get("payor") or []
    payer_key = payer_reference(resource)
    payer_name = str(payors[0].get("display") or "") if payors else ""
    if not payer_name and payer_key:
        payer_name = (names or {}).get(payer_key, "")
    group, plan = _class_of(resource, "group"), _class_of(resource, "plan")
    rx = {
        code: str((_class_of(resource, code) or {}).get("value") or "")
        for code in ("rxbin", "rxpcn", "rxgroup")
    }
    subscriber = resource.get("subscriber") or {}
    beneficiary = reference_key((resource.get("beneficiary") or {}).get("reference"))
    subscriber_is_patient = reference_key(subscriber.get("reference")) == beneficiary
    return CoverageInfo(
        id=str(resource["id"]),
        payer_name="" if self_pay else payer_name,
        member_id="" if self_pay else _member_id(resource),
        group_number=str((group or {}).get("value") or ""),
        plan_name=str((plan or {}).get("name") or (plan or {}).get("value") or ""),
        subscriber_name="" if subscriber_is_patient else str(subscriber.get("display") or ""),
        rx_bin=rx["rxbin"],
        rx_pcn=rx["rxpcn"],
        rx_group=rx["rxgroup"],
        copay=_copay(resource),
        self_pay=self_pay,
        source=resource,
    )


# -- Consent documents and their signatures ----------------------------------------------------------------
def is_consent_template(resource: JSON) -> bool:
    return resource.get("status") == "current" and has_code(
        resource.get("type"), DOCUMENT_TYPE_SYSTEM, CONSENT_TEMPLATE_CODE
    )


def consent_document(resource: JSON, language: str = "en") -> ConsentDocument:
    """The text in ``language`` (else its base language, else the first text attachment)."""
    where = _where(resource)
    if resource.get("resourceType") != "DocumentReference" or not resource.get("id"):
        raise MappingError(f"{where}: not a DocumentReference with an id")
    attachments = [
        c["attachment"]
        for c in resource.get("content") or []
        if (c.get("attachment") or {}).get("data")
        and str(c["attachment"].get("contentType", "")).split(";")[0].strip() in _TEXT_TYPES
    ]
    if not attachments:
        raise MappingError(f"{where}.content: no inline text/markdown or text/plain attachment")
    base = language.split("-")[0].lower()

    def rank(a: JSON) -> int:
        lang = str(a.get("language") or "").lower()
        return 0 if lang == language.lower() else 1 if lang.split("-")[0] == base else 2

    chosen = min(attachments, key=rank)
    try:
        text = base64.b64decode(chosen["data"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise MappingError(f"{where}.content.attachment.data: not base64 UTF-8 text") from None
    version = (resource.get("masterIdentifier") or {}).get("value") or (resource.get("meta") or {}).get(
        "versionId"
    )
    title = chosen.get("title") or resource.get("description") or display_of(resource.get("type"))
    return ConsentDocument(
        id=str(resource["id"]),
        title=str(title or ""),
        text=text,
        version=str(version or ""),
        url=f"DocumentReference/{resource['id']}",
        source=resource,
    )


def display_of(concept: JSON | None) -> str:
    if not concept:
        return ""
    found = codings(concept)
    return str(concept.get("text") or (found[0].get("display") if found else "") or "")


# -- Questionnaires ----------------------------------------------------------------------------------------
def questionnaire_visit_types(questionnaire: JSON) -> frozenset[str]:
    codes = set()
    for context in questionnaire.get("useContext") or []:
        for c in codings(context.get("valueCodeableConcept")):
            if c.get("system") == VISIT_TYPE_SYSTEM and c.get("code"):
                codes.add(str(c["code"]))
    return frozenset(codes)


def renewal_period(questionnaire: JSON) -> timedelta | None:
    duration = extension_value(questionnaire, RENEWAL_EXTENSION_URL, "valueDuration")
    if not duration or duration.get("value") is None:
        return None
    days = _DURATION_DAYS.get(str(duration.get("code") or duration.get("unit") or "").lower())
    return timedelta(days=float(duration["value"]) * days) if days else None
