"""Minimal, re-appliable changes to resources the kiosk updates in place (Patient, Appointment).

The kiosk never overwrites a resource blindly: it PUTs the resource *as read* with only its own change
applied, under ``If-Match``. When the server says the version moved on (412), the sync worker re-reads the
resource and re-applies the same change set on the fresh version. So a change is kept as *what the patient
changed*: ``{"phone": {"from": <shown>, "to": <entered>}, "email": {...}, "address": {"from": {...},
"to": {...}}}`` — "from" is what the kiosk showed (``Patient.demographics``, as ``read_mapping`` picked
it), "to" what the patient left in the field. Fields the patient left alone are never written, and a
staff member's edit made meanwhile survives.

Applying a change:
- phone / email: the ``telecom`` of that system whose value is "from" gets the new value in place (use,
  rank, period, extensions stay); an emptied field removes that entry; when no entry holds "from" (new, or
  edited meanwhile) the new value is appended unless some entry already has it.
- address: the address that reads as "from" gets the new parts (its ``text`` and ``district`` go: they
  would describe the old address; ``country`` stays unless one was entered); else a ``home`` address is
  appended, unless one already reads as "to". An all-empty address means "not given", never "delete".
Every step is idempotent: applying a change set twice equals applying it once (a replay is harmless).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kiosk.flow.types import Address, Demographics

from .write_common import Json

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


def _address_dict(address: Address) -> dict[str, str]:
    """The address as written and read back (an empty first line moves the second one up)."""
    out = {name: getattr(address, name).strip() for name in ADDRESS_FIELDS}
    if not out["line1"]:
        out["line1"], out["line2"] = out["line2"], ""
    return out


def changes_between(shown: Demographics, wanted: Demographics) -> Json:
    """The change set from what the kiosk showed to what the patient confirmed (``{}``: no change)."""
    changes: Json = {}
    for name in ("phone", "email"):
        old, new = getattr(shown, name).strip(), getattr(wanted, name).strip()
        if old != new:
            changes[name] = {"from": old, "to": new}
    new_addr = _address_dict(wanted.address)
    if any(new_addr.values()):
        old_addr = _address_dict(shown.address)
        same = {**old_addr, "country": new_addr["country"] or old_addr["country"]} == new_addr
        if not same:
            changes["address"] = {"from": old_addr, "to": new_addr}
    return changes


def _reads_as(addr: Mapping[str, Any]) -> dict[str, str]:
    """An address element as the kiosk shows it (same reading as ``read_mapping``)."""
    lines = [str(x) for x in addr.get("line") or [] if x]
    return {
        "line1": lines[0] if lines else "",
        "line2": ", ".join(lines[1:]),
        "city": str(addr.get("city") or ""),
        "state": str(addr.get("state") or ""),
        "postal_code": str(addr.get("postalCode") or ""),
        "country": str(addr.get("country") or ""),
    }


def _matches(addr: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    have = _reads_as(addr)
    return all(have[k] == wanted.get(k, "") for k in ADDRESS_FIELDS if k != "country" or wanted.get(k))


def _set_telecom(resource: Json, system: str, old: str, new: str) -> None:
    telecom: list[Json] = resource.setdefault("telecom", [])
    holding_old = [
        i for i, cp in enumerate(telecom) if cp.get("system") == system and old and cp.get("value") == old
    ]
    has_new = any(cp.get("system") == system and cp.get("value") == new for cp in telecom)
    if holding_old:
        index = holding_old[0]
        if new and not has_new:
            telecom[index]["value"] = new
        else:
            del telecom[index]
    elif new and not has_new:
        telecom.append({"system": system, "value": new})
    if not telecom:
        del resource["telecom"]


def _write_parts(target: Json, new: Mapping[str, str]) -> None:
    lines = [line for line in (new.get("line1", ""), new.get("line2", "")) if line]
    for key, value in (
        ("line", lines),
        ("city", new.get("city", "")),
        ("state", new.get("state", "")),
        ("postalCode", new.get("postal_code", "")),
    ):
        if value:
            target[key] = value
        else:
            target.pop(key, None)
    if new.get("country"):
        target["country"] = new["country"]


def _set_address(resource: Json, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    addresses: list[Json] = resource.setdefault("address", [])
    if any(_matches(addr, new) for addr in addresses):
        return
    found = next((addr for addr in addresses if any(old.values()) and _matches(addr, old)), None)
    if found is None:
        found = {"use": "home"}
        addresses.append(found)
    else:
        found.pop("text", None)
        found.pop("district", None)
    _write_parts(found, new)


def apply_changes(resource: Mapping[str, Any], changes: Mapping[str, Any]) -> Json:
    """A copy of the Patient with the change set applied (and the server's version stamps removed)."""
    out: Json = copy.deepcopy(dict(resource))
    for name in ("phone", "email"):
        change = changes.get(name)
        if change:
            _set_telecom(out, name, str(change.get("from", "")), str(change.get("to", "")))
    change = changes.get("address")
    if change:
        _set_address(out, dict(change.get("from", {})), dict(change.get("to", {})))
    return strip_version(out)


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
