"""A MINIMAL reader of AAMVA DL/ID barcode text: family name, first given name, date of birth.

Only what identification needs. A robust parser (every version, mangled separators, subfile offsets,
jurisdiction subfiles) is a later issue: it replaces this module behind the same ``parse`` signature.

Read: ``DCS`` (family), ``DAC`` (first name; ``DCT`` in versions 02–03), version 01 ``DAA``
("LAST,FIRST,MIDDLE[,SUFFIX]") with ``DAB``/``DAC`` as fallbacks, ``DBB`` (date of birth) and ``DCG``
(country). Dates are MMDDCCYY in the US and CCYYMMDD in Canada and in version 01; a date that is impossible in
the expected order is read in the other order (the two readings can never both be valid for real years).
Raw barcode text is personal data: it never appears in an exception or a log line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# Canadian jurisdictions' issuer identification numbers (AAMVA IIN list).
CANADIAN_IINS = frozenset(
    {
        "604426",  # PE
        "604428",  # QC
        "604429",  # YT
        "604430",  # NT
        "604432",  # AB
        "604433",  # NU
        "636012",  # ON
        "636013",  # NS
        "636016",  # NL
        "636017",  # NB
        "636028",  # BC
        "636044",  # SK
        "636048",  # MB
    }
)

_HEADER = re.compile(r"(?:ANSI |AAMVA)\s?(\d{6})(\d{2})?")
_SEPARATORS = re.compile(r"[\n\r\x1e\x1d\x1c|]")
# The first element of a subfile follows its two-letter type ("DL", "ID") on the same line.
_SUBFILE_START = re.compile(r"(?:DL|ID)(D[A-Z]{2})")
_ELEMENT = re.compile(r"^([A-Z]{3})(.*)$", re.DOTALL)
_MISSING = frozenset({"", "NONE", "UNAVL", "UNAVAIL", "UNAVAILABLE", "UNKNOWN", "UNKNOWNUNKNOWN"})
_MAX_CHARS = 10_000


class AamvaError(ValueError):
    """``reason``: "not_aamva" | "missing_name" | "missing_dob" | "invalid_dob". No personal data inside."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IdDocument:
    family: str = field(repr=False)
    given: str = field(repr=False)
    middle: str = field(repr=False)
    birth_date: date = field(repr=False)
    iin: str
    version: int


def looks_like_aamva(text: str) -> bool:
    """True when the text carries an AAMVA header (``ANSI ``/``AAMVA`` + 6-digit IIN)."""
    return bool(_HEADER.search(text[:_MAX_CHARS]))


def _elements(text: str) -> dict[str, str]:
    """First occurrence of each three-letter element id, values stripped."""
    found: dict[str, str] = {}
    for line in _SEPARATORS.split(text):
        candidates = [line]
        start = None
        header = _HEADER.search(line)
        if header:
            start = _SUBFILE_START.search(line, header.end())
        elif not _ELEMENT.match(line):
            start = _SUBFILE_START.search(line)
        if start:
            candidates = [line[start.start(1) :]]
        for candidate in candidates:
            m = _ELEMENT.match(candidate.lstrip("@").strip("\x1e\x1d"))
            if m and m.group(1) not in found:
                found[m.group(1)] = m.group(2).strip()
    return found


def _present(value: str | None) -> str:
    if value is None:
        return ""
    value = value.strip(" ,")
    return "" if value.upper() in _MISSING else value


def _to_date(digits: str, order: str) -> date | None:
    if order == "CCYYMMDD":
        y, m, d = digits[0:4], digits[4:6], digits[6:8]
    else:
        m, d, y = digits[0:2], digits[2:4], digits[4:8]
    try:
        year = int(y)
        if not 1850 <= year <= 2200:
            return None
        return date(year, int(m), int(d))
    except ValueError:
        return None


def _birth_date(raw: str, canadian_order: bool) -> date:
    digits = raw.strip()
    if not digits:
        raise AamvaError("missing_dob")
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        raise AamvaError("invalid_dob")
    orders = ("CCYYMMDD", "MMDDCCYY") if canadian_order else ("MMDDCCYY", "CCYYMMDD")
    for order in orders:
        parsed = _to_date(digits, order)
        if parsed is not None:
            return parsed
    raise AamvaError("invalid_dob")


def _names(el: dict[str, str]) -> tuple[str, str, str]:
    family = _present(el.get("DCS")) or _present(el.get("DAB"))
    given = _present(el.get("DAC")) or _present(el.get("DCT"))
    middle = _present(el.get("DAD"))
    if given and "," in given:  # v02/v03 DCT: "FIRST,MIDDLE"
        given, _, rest = given.partition(",")
        middle = middle or rest.strip(" ,")
    full = _present(el.get("DAA"))
    if full and (not family or not given):
        parts = [p.strip() for p in full.split(",")]
        if len(parts) >= 2:
            family = family or parts[0]
            given = given or parts[1]
            middle = middle or (parts[2] if len(parts) > 2 else "")
    return family.strip(), given.strip(), middle.strip()


def parse(text: str) -> IdDocument:
    """Read family name, first name and date of birth, or raise AamvaError(reason)."""
    if not isinstance(text, str):
        raise AamvaError("not_aamva")
    text = text[:_MAX_CHARS].lstrip("\ufeff")
    header = _HEADER.search(text)
    if not header:
        raise AamvaError("not_aamva")
    iin = header.group(1)
    version = int(header.group(2)) if header.group(2) else 0
    el = _elements(text)
    family, given, middle = _names(el)
    if not family or not given:
        raise AamvaError("missing_name")
    canadian = version == 1 or iin in CANADIAN_IINS or _present(el.get("DCG")).upper() == "CAN"
    birth = _birth_date(el.get("DBB", ""), canadian)
    return IdDocument(family=family, given=given, middle=middle, birth_date=birth, iin=iin, version=version)
