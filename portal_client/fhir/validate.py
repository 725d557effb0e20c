"""Offline validation of outgoing transaction Bundles (before they enter the outbox).

Two layers:
1. ``fhir.resources.R4B`` (pydantic) parses the whole Bundle: element names, cardinality, datatypes, regexes.
   It is R4B, not R4 (fhir.resources 8 has no R4 package; the resources we write are the same in both).
2. What it does not check (RECIPES §5): required code bindings for the status codes we write, the
   invariants we rely on (Consent ppc-1, QuestionnaireResponse qrs-1), transaction rules (conditional
   creates, quoted ``If-Match``, unique fullUrls, ``urn:uuid`` references that point to an EARLIER entry
   so the Bundle may be sent in consecutive parts), strict base64, and JSON numbers for decimals (it would
   silently accept ``"25.00"``).

Issues carry an element path and a code, never the offending value (it may be personal data).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle

_REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Appointment", "status"): frozenset(
        [
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        ]
    ),
    ("Encounter", "status"): frozenset(
        [
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        ]
    ),
    ("Coverage", "status"): frozenset(["active", "cancelled", "draft", "entered-in-error"]),
    ("DocumentReference", "status"): frozenset(["current", "superseded", "entered-in-error"]),
    ("QuestionnaireResponse", "status"): frozenset(
        ["in-progress", "completed", "amended", "entered-in-error", "stopped"]
    ),
    ("Consent", "status"): frozenset(
        ["draft", "proposed", "active", "rejected", "inactive", "entered-in-error"]
    ),
    ("PaymentReconciliation", "status"): frozenset(["active", "cancelled", "draft", "entered-in-error"]),
    ("PaymentReconciliation", "outcome"): frozenset(["queued", "complete", "error", "partial"]),
    ("Task", "status"): frozenset(
        [
            "draft",
            "requested",
            "received",
            "accepted",
            "rejected",
            "ready",
            "cancelled",
            "in-progress",
            "on-hold",
            "failed",
            "completed",
            "entered-in-error",
        ]
    ),
    ("Task", "intent"): frozenset(
        [
            "unknown",
            "proposal",
            "plan",
            "order",
            "original-order",
            "reflex-order",
            "filler-order",
            "instance-order",
            "option",
        ]
    ),
}
_NUMBER_KEYS = frozenset({"valueDecimal", "valueInteger"})
_WEAK_ETAG = re.compile(r'^W/"[^"]+"$')
_URN_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Issue:
    location: str  # e.g. "Bundle.entry[3].resource.status"
    code: str  # e.g. "missing", "extra_forbidden", "code-invalid"
    message: str  # without the offending value


class BundleInvalid(ValueError):
    """The mapping produced something a FHIR server would refuse: a bug in our code, never the patient's."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = tuple(issues)
        shown = "; ".join(f"{i.location}: {i.code}" for i in self.issues[:5])
        more = f" (+{len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(f"invalid transaction Bundle: {shown}{more}")

    def outcome(self) -> dict[str, Any]:
        """The issues as an OperationOutcome (kept, encrypted, with a dead outbox row)."""
        return {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "diagnostics": f"{i.code}: {i.message}",
                    "expression": [i.location],
                }
                for i in self.issues
            ],
        }


def _path(loc: tuple[int | str, ...]) -> str:
    out = "Bundle"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _pydantic_issues(bundle: Mapping[str, Any]) -> list[Issue]:
    try:
        Bundle.model_validate(dict(bundle))
    except pydantic.ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            message = str(err.get("msg", ""))
            value = err.get("input")
            if isinstance(value, (str, int, float)) and str(value) and str(value) in message:
                message = message.replace(str(value), "…")
            issues.append(Issue(_path(tuple(err.get("loc", ()))), str(err.get("type", "invalid")), message))
        return issues
    return []


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every key of every object below ``node``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _resource_issues(
    resource: Mapping[str, Any], path: str, earlier: set[str], known: set[str]
) -> list[Issue]:
    issues: list[Issue] = []
    rtype = str(resource.get("resourceType", ""))
    for (wanted_type, element), codes in _REQUIRED_CODES.items():
        if rtype == wanted_type and element in resource and resource[element] not in codes:
            issues.append(
                Issue(f"{path}.{element}", "code-invalid", f"not a code of the required {element} binding")
            )
    if rtype == "Consent" and not (resource.get("policy") or resource.get("policyRule")):
        issues.append(Issue(path, "ppc-1", "Either a Policy or PolicyRule"))
    for where, key, value in _walk(resource, path):
        if key == "reference" and isinstance(value, str) and value.startswith("urn:uuid:"):
            if value not in earlier:
                code = "reference-forward" if value in known else "reference-unresolved"
                issues.append(
                    Issue(f"{where}.reference", code, "urn:uuid reference must name an earlier entry")
                )
        elif key in _NUMBER_KEYS or (key == "value" and where.endswith(("Amount", "amount", "valueMoney"))):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                issues.append(Issue(f"{where}.{key}", "number-expected", "decimals are JSON numbers"))
        elif key == "data" and isinstance(value, str):
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                issues.append(Issue(f"{where}.data", "base64", "attachment data is not valid base64"))
        elif key == "item" and isinstance(value, list) and rtype == "QuestionnaireResponse":
            for i, item in enumerate(value):
                if isinstance(item, Mapping) and item.get("answer") and item.get("item"):
                    issues.append(
                        Issue(f"{where}.item[{i}]", "qrs-1", "an item has answers or items, not both")
                    )
    return issues


def _entry_issues(entry: Mapping[str, Any], path: str, earlier: set[str], known: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    request = entry.get("request", {})
    resource = entry.get("resource", {})
    method = request.get("method")
    rtype = resource.get("resourceType")
    url = str(request.get("url", ""))
    if method == "POST":
        if not _URN_UUID.match(str(entry.get("fullUrl", ""))):
            issues.append(Issue(f"{path}.fullUrl", "fullurl", "a created entry needs a urn:uuid fullUrl"))
        if url != rtype:
            issues.append(Issue(f"{path}.request.url", "url", "POST url must be the resource type"))
        if not request.get("ifNoneExist"):
            issues.append(Issue(f"{path}.request.ifNoneExist", "conditional", "creates must be conditional"))
    elif method == "PUT":
        if url != f"{rtype}/{resource.get('id')}":
            issues.append(Issue(f"{path}.request.url", "url", "PUT url must be <type>/<id> of the resource"))
        if_match = request.get("ifMatch")
        if if_match is not None and not _WEAK_ETAG.match(str(if_match)):
            issues.append(Issue(f"{path}.request.ifMatch", "etag", 'ifMatch must be a quoted W/"<version>"'))
    else:
        issues.append(Issue(f"{path}.request.method", "method", "only POST and PUT are written"))
    if isinstance(resource, Mapping):
        issues.extend(_resource_issues(resource, f"{path}.resource", earlier, known))
    return issues


def validate_bundle(bundle: Mapping[str, Any]) -> None:
    """Raise ``BundleInvalid`` listing every problem; return None when the Bundle is fit to send."""
    issues = _pydantic_issues(bundle)
    if bundle.get("type") != "transaction":
        issues.append(Issue("Bundle.type", "code-invalid", "must be a transaction"))
    entries = list(bundle.get("entry", []))
    known = {str(e.get("fullUrl")) for e in entries if isinstance(e, Mapping) and e.get("fullUrl")}
    earlier: set[str] = set()
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        path = f"Bundle.entry[{i}]"
        if not isinstance(entry, Mapping):
            continue
        full_url = entry.get("fullUrl")
        if full_url in seen:
            issues.append(Issue(f"{path}.fullUrl", "bdl-7", "fullUrl must be unique"))
        issues.extend(_entry_issues(entry, path, earlier, known))
        if full_url:
            seen.add(str(full_url))
            earlier.add(str(full_url))
    if issues:
        raise BundleInvalid(issues)
