"""Deliver one outbox payload (a check-in's transaction Bundle) to the FHIR server, safely replayable.

The payload is an envelope: ``{"format": 1, "bundle": <transaction Bundle>, "patient_changes": {...},
"resolved": {urn: "Type/id"}}``. ``patient_changes`` is what the patient changed (``patient_write``), kept
so a Patient PUT can be re-applied on a fresh version after a 412.

- **Size cap.** Some servers cap transactions: Medplum refuses a transaction that has a conditional create
  and more than 8 entries ("Transaction requires strict isolation but has too many entries"). With
  ``max_entries`` set, the Bundle goes out as consecutive transactions of at most that many entries (the
  mapping orders entries so that references only point backwards). After each part, the ``urn:uuid``
  fullUrls it created are recorded as ``Type/id`` (``resolved``), later parts are rewritten to them, and the
  remaining payload is saved, so a crash resumes after the last part delivered. Every part is idempotent
  (conditional creates), so resuming from anywhere is harmless.
- **If-Match.** A PUT without a known version, or a part answered 412 (or 409), makes the worker re-read
  each updated resource and re-apply the kiosk's change on the fresh version: an Appointment that already
  is ``arrived`` (our earlier attempt landed, or staff checked the patient in) is dropped from the Bundle, as
  is one that staff moved to ``cancelled``/``noshow``/``fulfilled``/``checked-in`` meanwhile (never
  overwritten); a Patient gets the same change set re-applied, or is dropped when the fresh version already
  has it. Dropped entries leave ``Provenance.target`` too. Never a blind overwrite.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from .client import FhirClient
from .errors import BackendRejected, NotFound, PreconditionFailed
from .fhir.bundle import entry_reference
from .fhir.patient_write import apply_changes, mark_arrived, same_content
from .fhir.write_common import weak_etag

log = logging.getLogger(__name__)

Json = dict[str, Any]
PAYLOAD_FORMAT = 1
ARRIVABLE = frozenset({"proposed", "pending", "booked", "waitlist"})
_LOCATION = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?/?$")


def make_payload(bundle: Mapping[str, Any], patient_changes: Mapping[str, Any] | None = None) -> Json:
    return {
        "format": PAYLOAD_FORMAT,
        "bundle": dict(bundle),
        "patient_changes": dict(patient_changes or {}),
        "resolved": {},
    }


def arrived_appointments(payload: Mapping[str, Any]) -> set[str]:
    """Ids of the Appointments this payload still has to mark ``arrived`` (its PUT entries)."""
    out: set[str] = set()
    for entry in _entries(payload):
        request, resource = entry.get("request") or {}, entry.get("resource") or {}
        url = str(request.get("url", ""))
        if request.get("method") == "PUT" and url.startswith("Appointment/") and resource.get("status") == "arrived":
            out.add(url.split("/", 1)[1])
    return out


class UndeliverablePayload(BackendRejected):
    """The row holds no Bundle (e.g. a record the mapping could not translate): it stays dead for staff."""

    key = "payload_undeliverable"


class RefreshFailed(BackendRejected):
    """An updated resource cannot be re-applied safely (unknown type): staff must look."""

    key = "backend_conflict"


def _entries(payload: Mapping[str, Any]) -> list[Json]:
    return list(payload.get("bundle", {}).get("entry", []))


def _with_entries(payload: Mapping[str, Any], entries: list[Json], resolved: Mapping[str, str]) -> Json:
    out = dict(payload)
    out["bundle"] = {**payload.get("bundle", {}), "entry": entries}
    out["resolved"] = dict(resolved)
    return out


def _rewrite(node: Any, resolved: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                resolved.get(value, value)
                if key == "reference" and isinstance(value, str)
                else _rewrite(value, resolved)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(item, resolved) for item in node]
    return node


def _created_reference(request_entry: Mapping[str, Any], response_entry: Mapping[str, Any]) -> str | None:
    resource = response_entry.get("resource") or {}
    if resource.get("resourceType") and resource.get("id"):
        return f"{resource['resourceType']}/{resource['id']}"
    match = _LOCATION.search(str(response_entry.get("response", {}).get("location", "")))
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    request = request_entry.get("request", {})
    if request.get("ifNoneExist"):  # a conditional reference: servers resolve it inside a transaction
        return f"{request['url']}?{request['ifNoneExist']}"
    return None


def _check_response(response: Mapping[str, Any], sent: int) -> list[Json]:
    """The response entries; a 200 whose entries carry errors (a server that ran it as a batch) raises."""
    entries = list(response.get("entry", []))
    for entry in entries:
        status = str(entry.get("response", {}).get("status", "200")).split(" ", 1)[0]
        if status.isdigit() and int(status) >= 400:
            outcome = entry.get("response", {}).get("outcome")
            raise BackendRejected(
                f"transaction entry refused: HTTP {status}", status=int(status), outcome=outcome
            )
    if entries and len(entries) != sent:
        log.warning("transaction response has %d entries for %d sent", len(entries), sent)
    return entries


class Deliverer:
    """Sends payloads; raises ``portal_client.errors`` exceptions for the worker to classify."""

    def __init__(self, client: FhirClient, *, max_entries: int | None = 8, max_refreshes: int = 3) -> None:
        if max_entries is not None and max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._client = client
        self._max_entries = max_entries
        self._max_refreshes = max_refreshes

    def deliver(self, payload: Mapping[str, Any], save: Callable[[Json], None]) -> None:
        """Send everything left in ``payload``; ``save`` stores progress (the payload still to send)."""
        if payload.get("format") != PAYLOAD_FORMAT or not isinstance(payload.get("bundle"), Mapping):
            raise UndeliverablePayload("outbox payload holds no transaction Bundle (unmapped record?)")
        entries = _entries(payload)
        resolved: dict[str, str] = dict(payload.get("resolved", {}))
        changes = dict(payload.get("patient_changes", {}))
        if any(e["request"]["method"] == "PUT" and not e["request"].get("ifMatch") for e in entries):
            entries = self.refresh(entries, changes)
            save(_with_entries(payload, entries, resolved))
        refreshes = 0
        while entries:
            size = self._max_entries or len(entries)
            part = entries[:size]
            try:
                response = self._client.transaction(
                    {"resourceType": "Bundle", "type": "transaction", "entry": part}
                )
            except BackendRejected as exc:
                conflict = isinstance(exc, PreconditionFailed) or exc.status == 409
                has_put = any(e["request"]["method"] == "PUT" for e in part)
                if not (conflict and has_put) or refreshes >= self._max_refreshes:
                    raise
                refreshes += 1
                log.info(
                    "transaction part: version conflict (HTTP %s), re-reading updated resources", exc.status
                )
                entries = self.refresh(entries, changes)
                save(_with_entries(payload, entries, resolved))
                continue
            received = _check_response(response, len(part))
            for i, sent in enumerate(part):
                if sent.get("fullUrl"):
                    created = _created_reference(sent, received[i] if i < len(received) else {})
                    if created:
                        resolved[str(sent["fullUrl"])] = created
            entries = [_rewrite(e, resolved) for e in entries[size:]]
            if entries:
                save(_with_entries(payload, entries, resolved))
                log.info("transaction part delivered, %d entries left", len(entries))

    # -- re-read and re-apply ------------------------------------------------------------------------
    def refresh(self, entries: list[Json], patient_changes: Mapping[str, Any]) -> list[Json]:
        """Every PUT entry rebuilt on the current version of its resource (or dropped)."""
        out: list[Json] = []
        dropped: set[str] = set()
        for entry in entries:
            if entry["request"]["method"] != "PUT":
                out.append(entry)
                continue
            fresh_entry = self._refresh_entry(entry, patient_changes)
            if fresh_entry is None:
                dropped.add(entry_reference(entry))
            else:
                out.append(fresh_entry)
        if dropped:
            out = [_drop_targets(e, dropped) for e in out]
        return out

    def _refresh_entry(self, entry: Json, patient_changes: Mapping[str, Any]) -> Json | None:
        url = str(entry["request"]["url"])
        rtype, _, rid = url.partition("/")
        try:
            fresh = self._client.read(rtype, rid)
        except NotFound:
            log.warning("%s to update is gone from the server: entry dropped", rtype)
            return None
        version = fresh.get("meta", {}).get("versionId")
        if rtype == "Appointment":
            status = fresh.get("status")
            if status not in ARRIVABLE:
                log.info("Appointment is already %s on the server: not updated", status)
                return None
            resource = mark_arrived(fresh)
        elif rtype == "Patient":
            resource = apply_changes(fresh, patient_changes)
            if same_content(resource, fresh):
                log.info("Patient already has the kiosk's changes: not updated")
                return None
        else:
            raise RefreshFailed(f"cannot re-apply a change to {rtype} safely", status=412)
        new_entry = copy.deepcopy(entry)
        new_entry["resource"] = resource
        etag = weak_etag(str(version) if version else None)
        if etag:
            new_entry["request"]["ifMatch"] = etag
        else:
            new_entry["request"].pop("ifMatch", None)
            raise RefreshFailed(f"{rtype} has no version: cannot update it safely", status=412)
        return new_entry


def _drop_targets(entry: Json, dropped: set[str]) -> Json:
    resource = entry.get("resource", {})
    if resource.get("resourceType") != "Provenance":
        return entry
    new_entry = copy.deepcopy(entry)
    targets = [t for t in resource.get("target", []) if t.get("reference") not in dropped]
    new_entry["resource"]["target"] = targets
    return new_entry
