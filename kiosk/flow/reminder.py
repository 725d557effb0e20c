"""Reminder-QR tokens: a signed, short-lived pointer to one appointment, printed on the practice's reminder.

Format: ``CKI1.<base64url payload>.<base64url HMAC-SHA256>`` (base64url without padding). The payload is
compact JSON ``{"a": appointment_id, "p": patient_id, "exp": unix_seconds}``. The MAC is computed over the
ASCII text ``CKI1.<base64url payload>`` (version prefix included, so a token cannot be replayed under another
format). A token identifies the patient only together with their date of birth (two identifiers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

PREFIX = "CKI1"
_MAX_TOKEN_CHARS = 2048


class TokenError(ValueError):
    """``key`` is "token_invalid" or "token_expired"; the message never contains the token."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class ReminderToken:
    appointment_id: str
    patient_id: str = field(repr=False)
    expires_at: int  # unix seconds


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or any(ch not in _B64_ALPHABET for ch in text):
        raise TokenError("token_invalid")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("token_invalid") from None


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _mac(secret: bytes, signing_input: str) -> bytes:
    return hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()


def _unix(value: datetime | float) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        return int(value.timestamp())
    return int(value)


def make_token(secret: bytes, appointment_id: str, patient_id: str, expires_at: datetime | float) -> str:
    """Sign a reminder token (used by the practice's reminder sender, the demo and tests)."""
    if not secret:
        raise ValueError("an empty secret cannot sign tokens")
    payload = json.dumps(
        {"a": appointment_id, "p": patient_id, "exp": _unix(expires_at)},
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")
    signing_input = f"{PREFIX}.{_b64encode(payload)}"
    return f"{signing_input}.{_b64encode(_mac(secret, signing_input))}"


def looks_like_token(text: str) -> bool:
    return text.strip().startswith(PREFIX + ".")


def verify_token(secret: bytes, text: str, now: datetime | float) -> ReminderToken:
    """Check format, signature and expiry. Raises TokenError("token_invalid" | "token_expired")."""
    if not secret or not isinstance(text, str):
        raise TokenError("token_invalid")
    text = text.strip()
    if len(text) > _MAX_TOKEN_CHARS:
        raise TokenError("token_invalid")
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError("token_invalid")
    payload_b64, mac_b64 = parts[1], parts[2]
    mac = _b64decode(mac_b64)
    _b64decode(payload_b64)  # alphabet check before the MAC is computed over it
    if not hmac.compare_digest(mac, _mac(secret, f"{PREFIX}.{payload_b64}")):
        raise TokenError("token_invalid")
    try:
        data = json.loads(_b64decode(payload_b64).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TokenError("token_invalid") from None
    if not isinstance(data, dict):
        raise TokenError("token_invalid")
    appointment_id, patient_id, exp = data.get("a"), data.get("p"), data.get("exp")
    if not isinstance(appointment_id, str) or not isinstance(patient_id, str) or not patient_id:
        raise TokenError("token_invalid")
    if isinstance(exp, bool) or not isinstance(exp, int):
        raise TokenError("token_invalid")
    if exp <= _unix(now):
        raise TokenError("token_expired")
    return ReminderToken(appointment_id=appointment_id, patient_id=patient_id, expires_at=exp)
