"""Staff actions as AuditEvents: valid R4 (fhir.resources R4B and our bundle validator), nothing personal,
a conditional create on the entry's own tag."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle

from portal_client.fhir.audit_write import AUDIT_TAG_SYSTEM, STAFF_ACTION_SYSTEM, audit_bundle, audit_event
from portal_client.fhir.validate import validate_bundle

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def test_an_audit_event_is_valid_r4_and_says_who_what_when() -> None:
    event = audit_event("e1" * 16, AT, "lobby-1", "badge:0a1b2c3d4e", "reprint_ticket", "success", "A-017")
    AuditEvent.model_validate(event)
    assert event["subtype"] == [{"system": STAFF_ACTION_SYSTEM, "code": "reprint_ticket"}]
    assert event["recorded"] == "2025-03-04T09:30:00+00:00" and event["outcome"] == "0"
    assert event["agent"][0]["who"]["identifier"]["value"] == "badge:0a1b2c3d4e" and event["agent"][0]["requestor"]
    assert event["source"]["observer"]["identifier"] == {"system": "urn:open-checkin-kiosk:device", "value": "lobby-1"}
    assert event["outcomeDesc"] == "A-017"
    failed = audit_event("f" * 32, AT, "lobby-1", "unknown", "unlock_failed", "failure")
    assert failed["outcome"] == "4" and "outcomeDesc" not in failed


def test_the_bundle_is_a_replayable_conditional_create() -> None:
    bundle = audit_bundle(audit_event("ab" * 16, AT, "lobby-1", "anna", "sync_now"))
    Bundle.model_validate(bundle)
    validate_bundle(bundle)
    (entry,) = bundle["entry"]
    assert entry["request"] == {"method": "POST", "url": "AuditEvent",
                                "ifNoneExist": f"_tag={AUDIT_TAG_SYSTEM}|{'ab' * 16}"}  # fmt: skip
    assert audit_bundle(audit_event("ab" * 16, AT, "lobby-1", "anna", "sync_now")) == bundle  # same id, same bundle
