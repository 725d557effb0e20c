"""Forms and consents from one check-in → QuestionnaireResponse and Consent entries.

QuestionnaireResponse: ``completed`` (``in-progress`` for a form left part-way at a desk hand-off),
``questionnaire`` = the canonical the flow rendered, nested items (a question's children go under its first
answer, as R4 requires when an item has answers: qrs-1), typed
answers, identifier ``<checkin_id>:qr:<questionnaire id>``, conditional create.

Consent: ``active``, scope ``consentscope#treatment``, category LOINC 59284-0, the patient as performer,
``policyRule`` v3-ActCode ``OPTIN`` (R4 invariant ppc-1 wants a policy or a policyRule), the signature PNG
as ``sourceAttachment``. Where the consent *document* goes: R4's ``Consent.source[x]`` is already taken by
the signature (it is one choice), ``provision.data`` names the data a rule controls (not the text agreed
to), so the document is referenced from ``Consent.policy.uri`` — "the references to the policies that
are included in this consent scope": the practice's consent form is the policy the patient agreed to. The
uri is ``ConsentDocument.url``: a reference such as ``DocumentReference/<id>`` (what ``read_mapping``
gives; a new text version is a new DocumentReference) or a canonical url (``|version`` appended when
known); without a url, ``<Type>/<id>`` of the resource it was read from. The attachment title repeats
the document's title and version for people.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kiosk.flow.types import (
    Answer,
    AnswerKind,
    CheckinRecord,
    ConsentDocument,
    QuestionnaireResult,
    ResponseItem,
    SignedConsent,
)

from .write_common import (
    CONSENT_SCOPE,
    LOINC,
    V3_ACT_CODE,
    Json,
    b64,
    checkin_value,
    concept,
    conditional_create,
    fhir_date,
    instant,
    kiosk_identifier,
    ref,
    urn_uuid,
)

_FHIR_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


class MappingError(ValueError):
    """A flow value that cannot be expressed in FHIR. Messages name link ids and kinds, never values."""


def answer_value(link_id: str, answer: Answer) -> Json:
    """``{"value<Type>": ...}`` for one typed answer."""
    value: Any = answer.value
    kind = answer.kind
    if kind is AnswerKind.BOOLEAN:
        if not isinstance(value, bool):
            raise MappingError(f"answer to {link_id!r} is not a boolean")
        return {"valueBoolean": value}
    if kind is AnswerKind.INTEGER:
        if isinstance(value, bool):
            raise MappingError(f"answer to {link_id!r} is not an integer")
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise MappingError(f"answer to {link_id!r} is not an integer") from None
        return {"valueInteger": number}
    if kind is AnswerKind.DECIMAL:
        if isinstance(value, bool):
            raise MappingError(f"answer to {link_id!r} is not a decimal")
        try:
            dec = Decimal(str(value).strip())
        except InvalidOperation:
            raise MappingError(f"answer to {link_id!r} is not a decimal") from None
        if not dec.is_finite():
            raise MappingError(f"answer to {link_id!r} is not a finite decimal")
        return {
            "valueDecimal": int(dec)
            if dec == dec.to_integral_value() and "." not in str(value)
            else float(dec)
        }
    if kind is AnswerKind.DATE:
        if isinstance(value, (date, datetime)):
            return {"valueDate": fhir_date(value)}
        text = str(value).strip()
        if not _FHIR_DATE.match(text):
            raise MappingError(f"answer to {link_id!r} is not a date")
        return {"valueDate": text}
    if kind is AnswerKind.STRING:
        text = str(value)
        if not text.strip():
            raise MappingError(f"answer to {link_id!r} is empty")
        return {"valueString": text}
    if kind is AnswerKind.CODING:
        code = str(value).strip()
        if not code:
            raise MappingError(f"answer to {link_id!r} has no code")
        coding: Json = {}
        if answer.system:
            coding["system"] = answer.system
        coding["code"] = code
        if answer.display:
            coding["display"] = answer.display
        return {"valueCoding": coding}
    raise MappingError(f"answer to {link_id!r} has an unknown kind")  # pragma: no cover


def response_item(item: ResponseItem) -> Json | None:
    """One QuestionnaireResponse item, or None when it holds no answer at any depth."""
    children = [c for c in (response_item(child) for child in item.items) if c is not None]
    answers = [answer_value(item.link_id, a) for a in item.answers]
    if not answers and not children:
        return None
    out: Json = {"linkId": item.link_id}
    if item.text:
        out["text"] = item.text
    if answers:
        if children:
            answers[0]["item"] = children
        out["answer"] = answers
    else:
        out["item"] = children
    return out


def questionnaire_response_entry(
    record: CheckinRecord, result: QuestionnaireResult, key: str, encounter_url: str
) -> Json:
    value = checkin_value(record.checkin_id, "qr", key)
    patient = ref("Patient", record.patient.id)
    resource: Json = {
        "resourceType": "QuestionnaireResponse",
        "identifier": kiosk_identifier(value),
        "questionnaire": result.questionnaire_url,
        "status": "completed" if result.complete else "in-progress",
        "subject": patient,
        "encounter": {"reference": encounter_url},
        "authored": instant(result.completed_at),
        "source": patient,
    }
    items = [i for i in (response_item(item) for item in result.items) if i is not None]
    if items:
        resource["item"] = items
    return conditional_create(
        resource, full_url=urn_uuid(record.checkin_id, f"qr-{key}"), identifier_value=value
    )


def consent_document_uri(document: ConsentDocument) -> str | None:
    """Where ``Consent.policy.uri`` points: the document's canonical (with version) or its resource."""
    if document.url:
        canonical = document.url.startswith(("http://", "https://", "urn:"))
        if canonical and document.version and "|" not in document.url:
            return f"{document.url}|{document.version}"
        return document.url  # a reference (``DocumentReference/<id>``): the id names the version already
    resource_type = document.source.get("resourceType") if document.source else None
    if resource_type and document.id:
        return f"{resource_type}/{document.id}"
    return None


def consent_entry(record: CheckinRecord, signed: SignedConsent, key: str) -> Json:
    document = signed.document
    signature = signed.signature
    value = checkin_value(record.checkin_id, "consent", key)
    patient = ref("Patient", record.patient.id)
    title = document.title.strip() or "Consent"
    if document.version:
        title = f"{title} (version {document.version})"
    resource: Json = {
        "resourceType": "Consent",
        "identifier": [kiosk_identifier(value)],
        "status": "active",
        "scope": concept(CONSENT_SCOPE, "treatment", "Treatment"),
        "category": [concept(LOINC, "59284-0", "Patient Consent")],
        "patient": patient,
        "dateTime": instant(signature.signed_at),
        "performer": [patient],
        "sourceAttachment": {
            "contentType": "image/png",
            "data": b64(signature.png),
            "size": len(signature.png),
            "title": f"Signature: {title}",
            "creation": instant(signature.signed_at),
        },
        "policyRule": concept(V3_ACT_CODE, "OPTIN", "opt-in"),
        "provision": {"type": "permit", "period": {"start": instant(signature.signed_at)}},
    }
    uri = consent_document_uri(document)
    if uri:
        resource["policy"] = [{"uri": uri}]
    return conditional_create(
        resource, full_url=urn_uuid(record.checkin_id, f"consent-{key}"), identifier_value=value
    )


def unique_keys(ids: list[str]) -> list[str]:
    """Ids made unique in order (``a``, ``a-2``): two forms with one id still get two identifiers."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for raw in ids:
        base = raw or "unnamed"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out
