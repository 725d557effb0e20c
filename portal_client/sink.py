"""``OutboxSink``: the flow's ``CheckinSink`` port. Record → Bundle → validation → encrypted outbox.

Fast and local (never the network): the sync worker delivers later. A record is never thrown away:
- mapping or validation fails (a bug in our mapping, not the patient's fault) → the row is stored *dead*
  with the validation issues as an OperationOutcome, so it shows on the status screen and stays
  (encrypted) for staff; the patient's check-in still completes;
- the disk fails → ``StorageError`` (the flow shows "storage_error" and sends the patient to the desk).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from kiosk.flow.ports import StorageError
from kiosk.flow.types import CheckinRecord

from .crypto import CryptoError
from .delivery import make_payload
from .fhir.bundle import build_bundle, patient_changes
from .fhir.validate import BundleInvalid, validate_bundle
from .outbox import Outbox

log = logging.getLogger(__name__)

KIND_CHECKIN = "checkin"
KIND_UNMAPPED = "checkin-unmapped"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class OutboxSink:
    """Implements ``kiosk.flow.ports.CheckinSink``."""

    def __init__(self, outbox: Outbox, *, on_stored: Callable[[], None] | None = None) -> None:
        self._outbox = outbox
        self._on_stored = on_stored

    def submit(self, record: CheckinRecord) -> None:
        try:
            row_id = self._store(record)
        except StorageError:
            raise
        except CryptoError as exc:
            raise StorageError(f"cannot seal the check-in ({type(exc).__name__})") from None
        except OSError as exc:
            raise StorageError(f"cannot store the check-in ({type(exc).__name__})") from None
        log.info("check-in %s stored as outbox row %d", record.checkin_id, row_id)
        if self._on_stored is not None:
            try:
                self._on_stored()
            except Exception:
                log.exception("outbox on_stored callback failed")

    def _store(self, record: CheckinRecord) -> int:
        try:
            bundle = build_bundle(record)
            changes = patient_changes(record)
        except Exception as exc:
            log.error("check-in %s could not be mapped to FHIR (%s)", record.checkin_id, type(exc).__name__)
            outcome = {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "exception",
                        "diagnostics": f"mapping: {type(exc).__name__}",
                    }
                ],
            }
            return self._outbox.put(
                KIND_UNMAPPED,
                record.checkin_id,
                {"format": 1, "record": _jsonable(record)},
                dead_outcome=outcome,
            )
        payload = make_payload(bundle, changes)
        try:
            validate_bundle(bundle)
        except BundleInvalid as exc:
            log.error(
                "check-in %s: mapped Bundle is invalid, kept as a dead row: %s",
                record.checkin_id,
                "; ".join(f"{i.location} {i.code}" for i in exc.issues[:10]),
            )
            return self._outbox.put(KIND_CHECKIN, record.checkin_id, payload, dead_outcome=exc.outcome())
        return self._outbox.put(KIND_CHECKIN, record.checkin_id, payload)
