"""Builds staff unlock and the audit trail from ``[staff]``: hashes and badges read once at start-up, the
local audit file in the data folder, and each audit entry forwarded to the back-end as an AuditEvent
through the outbox (``[staff] audit_to_backend``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.settings import ConfigError, Settings
from kiosk.staff.audit import AuditEntry, AuditLog
from kiosk.staff.auth import StaffAuth
from kiosk.staff.pin import PinFormatError, PinHash, parse_lines

log = logging.getLogger(__name__)


def load_pins(settings: Settings) -> tuple[PinHash, ...]:
    """The PIN hashes named in ``[staff]``; raises ValueError naming the key when they cannot be used."""
    staff = settings.staff
    if not (staff.pin_hash_file or staff.pin_hash_env):
        return ()
    try:
        text = settings.staff_pin_hashes()
    except OSError as exc:
        raise ValueError(
            f"[staff] pin_hash_file = {str(staff.pin_hash_file)!r}: cannot read it ({exc.strerror})"
        ) from None
    from_env = bool(staff.pin_hash_env and os.environ.get(staff.pin_hash_env))
    source = "[staff] pin_hash_env" if from_env else "[staff] pin_hash_file"
    try:
        return parse_lines(text, source=source)
    except PinFormatError as exc:
        raise ValueError(str(exc)) from None


def load_badges(settings: Settings) -> Any:
    from devices.smartcard.badges import BadgeAllowList

    file = settings.staff.badge_allow_list_file
    if file is None:
        return None
    path = settings.resolve(file)
    try:
        return BadgeAllowList.from_file(path)
    except OSError as exc:
        raise ValueError(f"[staff] badge_allow_list_file = {str(file)!r}: cannot read it ({exc.strerror})") from None


def check_staff(settings: Settings) -> list[str]:
    """`kiosk config check`: the PIN hashes and the badge list can be used."""
    problems = []
    for loader in (load_pins, load_badges):
        try:
            loader(settings)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def outbox_forward(outbox: Any, on_stored: Callable[[], None] | None = None) -> Callable[[AuditEntry], None]:
    """Puts each audit entry in the outbox as a one-entry AuditEvent transaction (kind ``audit``)."""
    from portal_client.delivery import make_payload
    from portal_client.fhir.audit_write import KIND_AUDIT, audit_bundle, audit_event

    def forward(entry: AuditEntry) -> None:
        event = audit_event(entry.id, entry.at, entry.kiosk, entry.who, entry.action, entry.outcome, entry.detail)
        outbox.put(KIND_AUDIT, entry.id, make_payload(audit_bundle(event)))
        if on_stored is not None:
            on_stored()

    return forward


def build_staff(
    settings: Settings,
    *,
    outbox: Any = None,
    on_stored: Callable[[], None] | None = None,
    now: Callable[[], datetime] | None = None,
    clock: Callable[[], float] | None = None,
) -> StaffAuth:
    """``StaffAuth`` for this kiosk. Unusable hashes or badge lists stop start-up (ValueError names the key)."""
    staff = settings.staff
    forward = outbox_forward(outbox, on_stored) if outbox is not None and staff.audit_to_backend else None
    audit_kwargs: dict[str, Any] = {"max_bytes": staff.audit_max_bytes, "backups": staff.audit_backups,
                                    "forward": forward}  # fmt: skip
    if now is not None:
        audit_kwargs["now"] = now
    audit = AuditLog(settings.data_dir, settings.kiosk.id, **audit_kwargs)
    try:
        pins, badges = load_pins(settings), load_badges(settings)
    except ValueError as exc:
        raise ConfigError(settings.source or "<settings>", [str(exc)]) from None
    if not pins and badges is None:
        log.warning("staff unlock is not configured ([staff]): staff mode cannot be opened on this kiosk")
    auth_kwargs: dict[str, Any] = {"clock": clock} if clock is not None else {}
    return StaffAuth(pins=pins, badges=badges, audit=audit, state_dir=settings.data_dir,
                     max_failures=staff.max_failures, lockout_s=staff.lockout_s, lockout_max_s=staff.lockout_max_s,
                     unlock_timeout_s=staff.unlock_timeout_s, **auth_kwargs)  # fmt: skip
