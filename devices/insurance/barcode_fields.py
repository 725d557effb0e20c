"""Fields printed in a barcode on an insurance card (there is no common standard: key=value pairs or the bare
member ID are what cards carry; anything else is left to OCR)."""

from __future__ import annotations

import re

from devices.insurance.fields import Candidate, clean_id, valid

_BARCODE_KEYS = {"mbr": "member_id", "member": "member_id", "memberid": "member_id", "id": "member_id",
                 "grp": "group_number", "group": "group_number", "nm": "subscriber_name",
                 "name": "subscriber_name", "bin": "rx_bin", "pcn": "rx_pcn", "rxgrp": "rx_group"}


def barcode_fields(text: str) -> dict[str, Candidate]:
    """Fields in a card's barcode: ``KEY=value`` / ``KEY:value`` pairs (``;``, ``|``, ``,`` or newlines
    between them), or a bare member-ID-shaped text (a Code 128 of the ID). Nothing else is guessed."""
    out: dict[str, Candidate] = {}
    pairs = [p for p in re.split(r"[;|,\n\r]+", text) if re.search(r"[=:]", p)]
    for pair in pairs:
        key, value = re.split(r"[=:]", pair, maxsplit=1)
        name = _BARCODE_KEYS.get(re.sub(r"[^a-z]", "", key.lower()))
        value = value.strip()
        if name is None or not value:
            continue
        value = value if name == "subscriber_name" else clean_id(value)
        if valid(name, value):
            out[name] = Candidate(value, 0.99)
    if not pairs:
        value = clean_id(text)
        if value == text.strip().upper() and valid("member_id", value):
            out["member_id"] = Candidate(value, 0.99)
    return out
