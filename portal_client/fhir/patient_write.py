"""Minimal, re-appliable changes to resources the kiosk updates in place (Patient, Appointment).

The kiosk never overwrites a resource blindly: it PUTs the resource *as read* with only its own change
applied, under ``If-Match``. When the server says the version moved on (412), the sync worker re-reads the
resource and re-applies the same change set on the fresh version. So a change is kept as *what the patient
changed* (``changes_between``), not as a whole resource: fields the patient left alone are never written,
and a staff member's edit made meanwhile survives.

Which telecom/address the kiosk shows and edits (the "preferred" one):
- phone / email: the first ``telecom`` of that system whose ``use`` is not ``old`` and that has no
  ``period.end``, ordered by ``rank`` (entries without a rank last, file order otherwise);
- address: the first ``address`` with ``use`` ``home`` (else without a ``use``) that has no ``period.end``.
Editing one changes its value in place (use, rank, period and extensions stay); clearing a phone or email
removes the entry holding the value the patient saw (``phone_removed``), and only that one, so re-applying
is harmless; a new one is appended. An edited address loses ``text`` and ``district`` (they would
describe the old address); ``country`` is kept unless the kiosk supplies one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kiosk.flow.types import Address, Demographics

from .write_common import Json

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


def _ended(element: Mapping[str, Any]) -> bool:
    return bool(element.get("period", {}).get("end"))


def _preferred_telecom_index(resource: Mapping[str, Any], system: str) -> int | None:
    candidates = [
        (cp.get("rank", 1 << 30), i)
        for i, cp in enumerate(resource.get("telecom", []))
        if cp.get("system") == system and cp.get("use") != "old" and not _ended(cp) and cp.get("value")
    ]
    return min(candidates)[1] if candidates else None


def _preferred_address_index(resource: Mapping[str, Any]) -> int | None:
    addresses = list(resource.get("address", []))
    for wanted in ("home", None):
        for i, addr in enumerate(addresses):
            if addr.get("use") == wanted and not _ended(addr):
                return i
    return None


def _address_of(addr: Mapping[str, Any]) -> Address:
    lines = [str(x) for x in addr.get("line", [])]
    return Address(
        line1=lines[0] if lines else "",
        line2=lines[1] if len(lines) > 1 else "",
        city=str(addr.get("city", "")),
        state=str(addr.get("state", "")),
        postal_code=str(addr.get("postalCode", "")),
        country=str(addr.get("country", "")),
    )


def demographics_of(resource: Mapping[str, Any]) -> Demographics:
    """The demographics the kiosk shows for a Patient resource (its preferred phone, email, address)."""
    telecom = resource.get("telecom", [])
    phone_i = _preferred_telecom_index(resource, "phone")
    email_i = _preferred_telecom_index(resource, "email")
    addr_i = _preferred_address_index(resource)
    return Demographics(
        phone=str(telecom[phone_i]["value"]) if phone_i is not None else "",
        email=str(telecom[email_i]["value"]) if email_i is not None else "",
        address=_address_of(resource["address"][addr_i]) if addr_i is not None else Address(),
    )


def _address_dict(address: Address) -> dict[str, str]:
    return {name: getattr(address, name).strip() for name in ADDRESS_FIELDS}


def changes_between(resource: Mapping[str, Any], demographics: Demographics) -> Json:
    """What the patient changed, as a JSON change set: a subset of ``phone``, ``email``, ``address``
    (plus ``phone_removed``/``email_removed``: the value a cleared field held).

    An all-empty address means "not given" (never "delete my address"); an empty country means "keep".
    """
    current = demographics_of(resource)
    changes: Json = {}
    for name in ("phone", "email"):
        wanted = getattr(demographics, name).strip()
        had = getattr(current, name).strip()
        if wanted != had:
            changes[name] = wanted
            if not wanted:
                changes[f"{name}_removed"] = had  # remove THAT value: re-applying removes nothing else
    wanted_addr = _address_dict(demographics.address)
    if any(wanted_addr.values()):
        have = _address_dict(current.address)
        if not wanted_addr["country"]:
            have["country"] = ""
        if wanted_addr != have:
            changes["address"] = wanted_addr
    return changes


def _set_telecom(resource: Json, system: str, value: str, removed: str) -> None:
    telecom: list[Json] = resource.setdefault("telecom", [])
    if not value:
        telecom[:] = [cp for cp in telecom if not (cp.get("system") == system and cp.get("value") == removed)]
    else:
        index = _preferred_telecom_index(resource, system)
        if index is None:
            telecom.append({"system": system, "value": value})
        else:
            telecom[index]["value"] = value
    if not telecom:
        del resource["telecom"]


def _set_address(resource: Json, wanted: Mapping[str, str]) -> None:
    addresses: list[Json] = resource.setdefault("address", [])
    index = _preferred_address_index(resource)
    target: Json
    if index is None:
        target = {"use": "home"}
        addresses.append(target)
    else:
        target = addresses[index]
        if _address_dict(_address_of(target)) == {
            **wanted,
            "country": wanted["country"] or target.get("country", ""),
        }:
            return
        target.pop("text", None)
        target.pop("district", None)
    lines = [line for line in (wanted.get("line1", ""), wanted.get("line2", "")) if line]
    for key, value in (
        ("line", lines),
        ("city", wanted.get("city", "")),
        ("state", wanted.get("state", "")),
        ("postalCode", wanted.get("postal_code", "")),
    ):
        if value:
            target[key] = value
        else:
            target.pop(key, None)
    if wanted.get("country"):
        target["country"] = wanted["country"]


def apply_changes(resource: Mapping[str, Any], changes: Mapping[str, Any]) -> Json:
    """A copy of the Patient with the change set applied (and the server's version stamps removed)."""
    out: Json = copy.deepcopy(dict(resource))
    for name in ("phone", "email"):
        if name in changes:
            _set_telecom(out, name, str(changes[name]), str(changes.get(f"{name}_removed", "")))
    if "address" in changes:
        _set_address(out, {k: str(v) for k, v in dict(changes["address"]).items()})
    return strip_version(out)


def apply_demographics(resource: Mapping[str, Any], demographics: Demographics) -> Json:
    return apply_changes(resource, changes_between(resource, demographics))


def mark_arrived(appointment: Mapping[str, Any]) -> Json:
    """A copy of the Appointment as read, with status ``arrived`` (nothing else touched)."""
    out: Json = strip_version(copy.deepcopy(dict(appointment)))
    out["status"] = "arrived"
    return out


def strip_version(resource: Json) -> Json:
    """Remove ``meta.versionId``/``meta.lastUpdated`` (the server sets them; If-Match carries the version)."""
    meta = resource.get("meta")
    if isinstance(meta, dict):
        meta.pop("versionId", None)
        meta.pop("lastUpdated", None)
        if not meta:
            del resource["meta"]
    return resource


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal apart from the server's version stamps."""
    return strip_version(copy.deepcopy(dict(a))) == strip_version(copy.deepcopy(dict(b)))
