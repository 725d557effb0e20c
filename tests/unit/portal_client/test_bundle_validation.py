"""validate_bundle: each broken rule is caught, with a path and no personal value in the message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from checkin_factory import full_record

from portal_client.fhir.bundle import build_bundle
from portal_client.fhir.validate import BundleInvalid, validate_bundle

Json = dict[str, Any]
BASE = build_bundle(full_record())


def index_of(bundle: Json, rtype: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == rtype)


def res(bundle: Json, rtype: str) -> Json:
    resource: Json = bundle["entry"][index_of(bundle, rtype)]["resource"]
    return resource


def _unknown_element(b: Json) -> None:
    res(b, "Encounter")["arrivalTime"] = "now"


def _bad_status(b: Json) -> None:
    res(b, "Encounter")["status"] = "here"


def _missing_required(b: Json) -> None:
    del res(b, "Consent")["status"]


def _bad_date(b: Json) -> None:
    res(b, "Encounter")["period"]["start"] = "2025-13-40T99:00:00Z"


def _no_policy(b: Json) -> None:
    consent = res(b, "Consent")
    consent.pop("policy", None)
    consent.pop("policyRule", None)


def _decimal_string(b: Json) -> None:
    res(b, "PaymentReconciliation")["paymentAmount"]["value"] = "25.00"


def _answer_string_number(b: Json) -> None:
    res(b, "QuestionnaireResponse")["item"][1]["answer"][0]["valueDecimal"] = "72.50"


def _bad_base64(b: Json) -> None:
    res(b, "Consent")["sourceAttachment"]["data"] = "not base64!!"


def _unquoted_if_match(b: Json) -> None:
    b["entry"][index_of(b, "Appointment")]["request"]["ifMatch"] = "3"


def _unconditional_create(b: Json) -> None:
    del b["entry"][index_of(b, "Encounter")]["request"]["ifNoneExist"]


def _forward_reference(b: Json) -> None:
    entries = b["entry"]
    i = index_of(b, "Encounter")
    entries.append(entries.pop(i))


def _dangling_reference(b: Json) -> None:
    res(b, "QuestionnaireResponse")["encounter"]["reference"] = (
        "urn:uuid:00000000-0000-4000-8000-000000000000"
    )


def _both_answer_and_item(b: Json) -> None:
    qr = res(b, "QuestionnaireResponse")
    qr["item"][0]["item"] = [{"linkId": "x", "answer": [{"valueString": "y"}]}]


def _duplicate_full_url(b: Json) -> None:
    b["entry"][index_of(b, "Consent")]["fullUrl"] = b["entry"][index_of(b, "Encounter")]["fullUrl"]


def _put_url_mismatch(b: Json) -> None:
    b["entry"][index_of(b, "Patient")]["request"]["url"] = "Patient/someone-else"


CASES: list[tuple[str, Callable[[Json], None], str]] = [
    ("unknown element", _unknown_element, "extra_forbidden"),
    ("bad status code", _bad_status, "code-invalid"),
    ("missing required", _missing_required, "model_field_validation.missing"),
    ("bad dateTime", _bad_date, "value_error"),
    ("consent without policy", _no_policy, "ppc-1"),
    ("decimal as string", _decimal_string, "number-expected"),
    ("answer decimal as string", _answer_string_number, "number-expected"),
    ("bad base64", _bad_base64, "base64"),
    ("unquoted If-Match", _unquoted_if_match, "etag"),
    ("unconditional create", _unconditional_create, "conditional"),
    ("reference to a later entry", _forward_reference, "reference-forward"),
    ("reference to nothing", _dangling_reference, "reference-unresolved"),
    ("qrs-1", _both_answer_and_item, "qrs-1"),
    ("duplicate fullUrl", _duplicate_full_url, "bdl-7"),
    ("PUT url mismatch", _put_url_mismatch, "url"),
]


@pytest.mark.parametrize(("name", "breaker", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_broken_rule_is_reported(name: str, breaker: Callable[[Json], None], code: str) -> None:
    bundle = copy.deepcopy(BASE)
    breaker(bundle)
    with pytest.raises(BundleInvalid) as info:
        validate_bundle(bundle)
    codes = [i.code for i in info.value.issues]
    assert code in codes, codes
    assert all(i.location.startswith("Bundle") for i in info.value.issues)
    outcome = info.value.outcome()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"]


def test_messages_never_carry_the_value() -> None:
    bundle = copy.deepcopy(BASE)
    res(bundle, "Encounter")["period"]["start"] = "Chalmers-1974-12-25"
    res(bundle, "Encounter")["status"] = "Chalmers"
    with pytest.raises(BundleInvalid) as info:
        validate_bundle(bundle)
    text = str(info.value) + repr(info.value.outcome())
    assert "Chalmers" not in text and "1974" not in text


def test_the_unbroken_bundle_is_valid() -> None:
    validate_bundle(BASE)
