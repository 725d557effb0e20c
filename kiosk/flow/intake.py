"""Validation of what the patient types or draws: demographics, manual insurance, a consent signature.

Pure functions returning (value, errors); errors are {field: message_key} (STEPS.md). US formats: phone
numbers with 10 digits (an optional leading 1 / +1), ZIP or ZIP+4, two-letter state or territory codes.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .types import Address, CardImage, CoverageInfo, Demographics, Point, Signature, Stroke

DEMOGRAPHIC_KEYS = ("phone", "email", "line1", "line2", "city", "state", "postal_code")
REQUIRED_DEMOGRAPHICS = ("line1", "city", "state", "postal_code", "phone")

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
        "UM",
        "AA",
        "AE",
        "AP",
    ]
)
_PHONE_CHARS = re.compile(r"[0-9 ()+.\-]+")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_ZIP = re.compile(r"[0-9]{5}(-?[0-9]{4})?")
_MEMBER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,38}[A-Za-z0-9]")
_MAX_FIELD = 200


def demographics_values(demographics: Demographics) -> dict[str, str]:
    a = demographics.address
    return {
        "phone": demographics.phone,
        "email": demographics.email,
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "state": a.state,
        "postal_code": a.postal_code,
    }


def _clean(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key, "")
    return " ".join(value.split()) if isinstance(value, str) else ""


def _phone_ok(phone: str) -> bool:
    if not _PHONE_CHARS.fullmatch(phone):
        return False
    digits = re.sub(r"[^0-9]", "", phone)
    return len(digits) == 10 or (len(digits) == 11 and digits.startswith("1"))


def validate_demographics(values: Any, current: Demographics) -> tuple[Demographics | None, dict[str, str]]:
    """The corrected demographics (country kept from ``current``) or errors per key."""
    if not isinstance(values, Mapping):
        return None, {"base": "invalid_input"}
    clean = {key: _clean(values, key) for key in DEMOGRAPHIC_KEYS}
    clean["state"] = clean["state"].upper()
    errors: dict[str, str] = {}
    for key in DEMOGRAPHIC_KEYS:
        if len(clean[key]) > _MAX_FIELD:
            errors[key] = "too_long"
    for key in REQUIRED_DEMOGRAPHICS:
        if not clean[key]:
            errors[key] = "required"
    if clean["phone"] and "phone" not in errors and not _phone_ok(clean["phone"]):
        errors["phone"] = "invalid_phone"
    if clean["email"] and "email" not in errors and not _EMAIL.fullmatch(clean["email"]):
        errors["email"] = "invalid_email"
    if clean["postal_code"] and "postal_code" not in errors and not _ZIP.fullmatch(clean["postal_code"]):
        errors["postal_code"] = "invalid_postal_code"
    if clean["state"] and "state" not in errors and clean["state"] not in US_STATES:
        errors["state"] = "invalid_state"
    if errors:
        return None, errors
    address = Address(
        line1=clean["line1"],
        line2=clean["line2"],
        city=clean["city"],
        state=clean["state"],
        postal_code=clean["postal_code"],
        country=current.address.country,
    )
    return Demographics(phone=clean["phone"], email=clean["email"], address=address), {}


def mask_member_id(member_id: str) -> str:
    """ "•••• 1234": never the whole member id on a shared screen."""
    tail = member_id.strip()[-4:] if len(member_id.strip()) > 4 else ""
    return f"•••• {tail}" if tail else "••••"


def validate_manual_insurance(values: Mapping[str, Any]) -> tuple[CoverageInfo | None, dict[str, str]]:
    payer = _clean(values, "payer_name")
    member = _clean(values, "member_id")
    group = _clean(values, "group_number")
    subscriber = _clean(values, "subscriber_name")
    errors: dict[str, str] = {}
    if not payer:
        errors["payer_name"] = "required"
    elif len(payer) > _MAX_FIELD:
        errors["payer_name"] = "too_long"
    if not member:
        errors["member_id"] = "required"
    elif not _MEMBER_ID.fullmatch(member):
        errors["member_id"] = "invalid_member_id"
    if len(group) > 40:
        errors["group_number"] = "too_long"
    if len(subscriber) > _MAX_FIELD:
        errors["subscriber_name"] = "too_long"
    if errors:
        return None, errors
    return (
        CoverageInfo(
            id=None, payer_name=payer, member_id=member, group_number=group, subscriber_name=subscriber
        ),
        {},
    )


# -- insurance from the camera ------------------------------------------------------------------------
CARD_SIDES = ("front", "back")
CARD_TYPES = ("image/jpeg", "image/png")
MAX_CARD_IMAGES = 4
MAX_CARD_IMAGE_BYTES = 5 * 1024 * 1024
_RX_BIN = re.compile(r"[0-9]{6}")


def _card_images(raw: Any) -> tuple[CardImage, ...] | None:
    if not isinstance(raw, (list, tuple)) or not 1 <= len(raw) <= MAX_CARD_IMAGES:
        return None
    images = []
    for item in raw:
        if isinstance(item, CardImage):
            item = {"side": item.side, "content_type": item.content_type, "data": item.data}
        if not isinstance(item, Mapping):
            return None
        side, kind, data = item.get("side"), item.get("content_type"), item.get("data")
        if side not in CARD_SIDES or kind not in CARD_TYPES or not isinstance(data, (bytes, bytearray)):
            return None
        if not 0 < len(data) <= MAX_CARD_IMAGE_BYTES:
            return None
        images.append(CardImage(side=str(side), content_type=str(kind), data=bytes(data)))
    return tuple(images)


def validate_camera_insurance(
    values: Mapping[str, Any],
) -> tuple[CoverageInfo | None, tuple[CardImage, ...], dict[str, str]]:
    """The card as photographed, read and confirmed (or corrected) by the patient. As ``manual``, except that
    the payer may stay empty (a logo the reader could not name: the images go with the Coverage)."""
    images = _card_images(values.get("images"))
    if images is None:
        return None, (), {"base": "invalid_input"}
    clean = {key: _clean(values, key) for key in
             ("payer_name", "member_id", "group_number", "subscriber_name", "plan_name", "rx_bin", "rx_pcn",
              "rx_group")}
    errors: dict[str, str] = {}
    if not clean["member_id"]:
        errors["member_id"] = "required"
    elif not _MEMBER_ID.fullmatch(clean["member_id"]):
        errors["member_id"] = "invalid_member_id"
    for key, limit in (("payer_name", _MAX_FIELD), ("subscriber_name", _MAX_FIELD), ("plan_name", _MAX_FIELD),
                       ("group_number", 40), ("rx_pcn", 40), ("rx_group", 40)):
        if len(clean[key]) > limit:
            errors[key] = "too_long"
    if clean["rx_bin"] and not _RX_BIN.fullmatch(clean["rx_bin"]):
        errors["rx_bin"] = "invalid_rx_bin"
    if errors:
        return None, (), errors
    coverage = CoverageInfo(
        id=None,
        payer_name=clean["payer_name"],
        member_id=clean["member_id"],
        group_number=clean["group_number"],
        plan_name=clean["plan_name"],
        subscriber_name=clean["subscriber_name"],
        rx_bin=clean["rx_bin"],
        rx_pcn=clean["rx_pcn"],
        rx_group=clean["rx_group"],
    )
    return coverage, images, {}


# -- signatures ---------------------------------------------------------------------------------------
MIN_POINTS = 10
MIN_LENGTH_FRACTION = 0.25  # the ink must be at least a quarter of the pad's width long


def _point(raw: Any) -> Point | None:
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        return None
    x, y = raw
    if (
        isinstance(x, bool)
        or isinstance(y, bool)
        or not isinstance(x, (int, float))
        or not isinstance(y, (int, float))
    ):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return (float(x), float(y))


def validate_signature(
    user_input: Mapping[str, Any], signed_at: datetime
) -> tuple[Signature | None, dict[str, str]]:
    """Strokes + PNG + pad size → Signature, or errors ``signature: signature_missing | signature_too_short``."""
    raw_strokes = user_input.get("strokes")
    pad = user_input.get("pad_size")
    png = user_input.get("png", b"")
    if raw_strokes is None or raw_strokes == []:
        return None, {"signature": "signature_missing"}
    if not isinstance(raw_strokes, (list, tuple)) or not isinstance(png, (bytes, bytearray)):
        return None, {"base": "invalid_input"}
    if (
        not isinstance(pad, (list, tuple))
        or len(pad) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 100_000 for v in pad)
    ):
        return None, {"base": "invalid_input"}
    strokes: list[Stroke] = []
    for raw_stroke in raw_strokes[:1000]:
        if not isinstance(raw_stroke, (list, tuple)):
            return None, {"base": "invalid_input"}
        points = [_point(p) for p in raw_stroke[:10_000]]
        if any(p is None for p in points):
            return None, {"base": "invalid_input"}
        if points:
            strokes.append(tuple(p for p in points if p is not None))
    count = sum(len(s) for s in strokes)
    if count == 0:
        return None, {"signature": "signature_missing"}
    length = sum(math.dist(a, b) for s in strokes for a, b in itertools.pairwise(s))
    if count < MIN_POINTS or length < MIN_LENGTH_FRACTION * pad[0]:
        return None, {"signature": "signature_too_short"}
    return Signature(
        strokes=tuple(strokes), png=bytes(png), pad_size=(pad[0], pad[1]), signed_at=signed_at
    ), {}
