"""AAMVA DL/ID barcode text → typed fields (DESIGN §6). Pure: no I/O, and the text never reaches a log line.

Reads what real scanners deliver, not only the standard's clean samples:

- versions 01–10 and unknown later ones (read with the newest rules), header ``ANSI `` or ``AAMVA``;
- the compliance/separator bytes lost or mangled by keyboard wedges: LF only, CR LF, pipes, a UTF-8 BOM (also
  as Latin-1 mojibake), "@" followed by junk, the "@ LF RS CR" prefix missing, caps lock inverting the case;
- subfiles that lack their ``DL``/``ID`` prefix, designators whose offsets are not digits (offsets are never
  trusted: separators shift them), headers whose version does not match their layout, jurisdiction ``Z*``
  subfiles (kept apart from the card's own elements);
- names from ``DCS``/``DAC``/``DAD`` (v04+), ``DCS``/``DCT`` "FIRST,MIDDLE" (v02–03), ``DAB``/``DAC``/``DAD``/
  ``DAE`` and ``DAA`` "LAST,FIRST,MIDDLE,SUFFIX" (v01, and any version as a fallback);
- padded fields ("DAK123459999  "), "NONE"/"UNAVL" placeholders, missing optional fields;
- dates MMDDCCYY (US) or CCYYMMDD (Canada, v01); a date impossible in the expected order is read in the other
  (for real years the two readings can never both be valid).

A payload without a name or a date of birth is refused with :class:`AamvaError` (``reason`` is one of
:data:`REASONS`), never guessed. An expired document is flagged (``expired``), not refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

REASONS = ("not_aamva", "missing_name", "missing_dob", "invalid_dob")

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
CANADIAN_JURISDICTIONS = frozenset({"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})
_US = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK"
US_JURISDICTIONS = frozenset((_US + " OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI").split(" "))

_MAX_CHARS = 10_000
_HEADER = re.compile(r"(ANSI ?|AAMVA)([0-9]{6})([0-9]{2})")
_HEADER_ANY_CASE = re.compile(r"(ANSI ?|AAMVA)([0-9]{6})([0-9]{2})", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\n\r\x1e\x1d\x1c|]")
_CARD_ELEMENT = re.compile(r"D[A-Z]{2}")
_Z_ELEMENT = re.compile(r"Z[A-Z][A-Z0-9]")
_MISSING = frozenset({"", "NONE", "UNAVL", "UNAVAIL", "UNAVAILABLE", "UNKNOWN", "UNKNOWNUNKNOWN", "N/A"})
_BOMS = ("\ufeff", "\u00ef\u00bb\u00bf")  # the BOM, and its bytes read as Latin-1
_SEX = {"1": "M", "M": "M", "2": "F", "F": "F", "9": "X", "X": "X"}


class AamvaError(ValueError):
    """``reason``: "not_aamva" | "missing_name" | "missing_dob" | "invalid_dob". No personal data inside."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IdDocument:
    """The fields of an ID card's barcode. Personal fields are kept out of ``repr``."""

    family: str = field(repr=False)
    given: str = field(repr=False)
    middle: str = field(repr=False)
    birth_date: date = field(repr=False)
    iin: str
    version: int
    jurisdiction_version: int | None = None
    document_type: str | None = None  # "DL" | "ID" | None when the payload does not say
    suffix: str = field(default="", repr=False)
    sex: str | None = field(default=None, repr=False)  # "M" | "F" | "X"
    street: str = field(default="", repr=False)
    street2: str = field(default="", repr=False)
    city: str = field(default="", repr=False)
    state_province: str = ""  # the issuing jurisdiction's code (DAJ), e.g. "VA", "ON"
    postal_code: str = field(default="", repr=False)
    country: str | None = None  # "USA" | "CAN" (DCG, else from the jurisdiction)
    document_number: str = field(default="", repr=False)
    issue_date: date | None = field(default=None, repr=False)
    expiry_date: date | None = field(default=None, repr=False)
    expired: bool | None = None  # None when the expiry date or "today" is unknown
    names_truncated: bool = False  # DDE/DDF/DDG say a name was cut to fit the card

    def as_dict(self) -> dict[str, Any]:
        """The fields under the names ``kiosk parse-id`` prints (ISO dates, null for absent)."""

        def iso(day: date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "document_type": self.document_type,
            "aamva_version": self.version,
            "jurisdiction_version": self.jurisdiction_version,
            "iin": self.iin,
            "last_name": self.family,
            "first_name": self.given,
            "middle_name": self.middle or None,
            "name_suffix": self.suffix or None,
            "date_of_birth": self.birth_date.isoformat(),
            "expiry_date": iso(self.expiry_date),
            "issue_date": iso(self.issue_date),
            "sex": self.sex,
            "street": self.street or None,
            "street2": self.street2 or None,
            "city": self.city or None,
            "state_province": self.state_province or None,
            "postal_code": self.postal_code or None,
            "country": self.country,
            "document_number": self.document_number or None,
            "expired": self.expired,
        }


@dataclass(frozen=True)
class _Header:
    iin: str
    version: int
    jurisdiction_version: int | None
    subfile_types: tuple[str, ...]
    body_start: int


def decode_payload(raw: bytes) -> str:
    """Barcode bytes → text: UTF-8 when valid (a BOM is dropped), else Latin-1 (one character per byte)."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _prepare(text: str) -> str:
    text = text[:_MAX_CHARS]
    for bom in _BOMS:
        text = text.replace(bom, "")
    if not _HEADER.search(text):
        inverted = _HEADER_ANY_CASE.search(text)
        if inverted and inverted.group(1).islower():  # caps lock was on while a keyboard wedge typed
            text = text.swapcase()
    return text


def looks_like_aamva(text: str) -> bool:
    """True when the text carries an AAMVA header (``ANSI ``/``AAMVA`` + 6-digit IIN + version)."""
    return isinstance(text, str) and bool(_HEADER.search(_prepare(text)))


def _digits(text: str) -> bool:
    return len(text) > 0 and text.isascii() and text.isdigit()


def _designators(text: str, pos: int, with_jurisdiction_version: bool) -> _Header | None:
    """Read "[JJ]NN" and NN designators (type + 8 characters; offsets are not trusted) from ``pos``.

    Fewer designators than announced is tolerated: reading stops where the first subfile visibly begins.
    """
    jurisdiction_version = None
    if with_jurisdiction_version:
        if not _digits(text[pos : pos + 2]):
            return None
        jurisdiction_version = int(text[pos : pos + 2])
        pos += 2
    if not _digits(text[pos : pos + 2]):
        return None
    count = int(text[pos : pos + 2])
    pos += 2
    if not 1 <= count <= 20:
        return None
    types: list[str] = []
    for _ in range(count):
        designator = text[pos : pos + 10]
        if types and (_SEPARATORS.search(designator) or _subfile_prefix(designator)[0] is not None):
            break
        kind = designator[:2]
        if len(designator) < 10 or not (kind.isascii() and kind.isalpha() and kind.isupper()):
            return None
        types.append(kind)
        pos += 10
    return _Header("", 0, jurisdiction_version, tuple(types), pos)


def _header(text: str) -> _Header | None:
    match = _HEADER.search(text)
    if match is None:
        return None
    iin, version = match.group(2), int(match.group(3))
    # v02+ carry a jurisdiction version before the entry count; some cards' layout disagrees with their version.
    for with_jv in (version >= 2, version < 2):
        found = _designators(text, match.end(), with_jv)
        if found is not None:
            return _Header(iin, version, found.jurisdiction_version, found.subfile_types, found.body_start)
    return _Header(iin, version, None, (), match.end())


def _subfile_prefix(token: str) -> tuple[str | None, str]:
    """ "DLDAQ123" → ("DL", "DAQ123"); "ZVZVA01" → ("ZV", "ZVA01"); other tokens unchanged."""
    if len(token) >= 5:
        if token[:2] in ("DL", "ID") and _CARD_ELEMENT.match(token, 2):
            return token[:2], token[2:]
        if token[0] == "Z" and token[:2] == token[2:4] and _Z_ELEMENT.match(token, 2):
            return token[:2], token[2:]
    return None, token


def _elements(body: str) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(card elements, jurisdiction elements, first DL/ID subfile prefix seen). First occurrence wins."""
    card: dict[str, str] = {}
    jurisdiction: dict[str, str] = {}
    prefix_seen: str | None = None
    for raw in _SEPARATORS.split(body):
        token = raw.lstrip(" \t\x00@")
        prefix, token = _subfile_prefix(token)
        if prefix in ("DL", "ID") and prefix_seen is None:
            prefix_seen = prefix
        key, value = token[:3], token[3:]
        if _CARD_ELEMENT.fullmatch(key):
            card.setdefault(key, value)
        elif _Z_ELEMENT.fullmatch(key):
            jurisdiction.setdefault(key, value)
    return card, jurisdiction, prefix_seen


def _present(value: str | None) -> str:
    """The value without padding, or "" for absent/placeholder values."""
    if value is None:
        return ""
    value = " ".join(value.replace("\x00", " ").split()).strip(" ,")
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


def _date(raw: str | None, canadian_order: bool) -> tuple[date | None, bool]:
    """(date, present): a present value that is no date in either order gives (None, True)."""
    text = _present(raw)
    if not text:
        return None, False
    digits = re.sub(r"[-/. ]", "", text)
    if len(digits) != 8 or not _digits(digits):
        return None, True
    orders = ("CCYYMMDD", "MMDDCCYY") if canadian_order else ("MMDDCCYY", "CCYYMMDD")
    for order in orders:
        parsed = _to_date(digits, order)
        if parsed is not None:
            return parsed, True
    return None, True


def _names(el: dict[str, str]) -> tuple[str, str, str, str]:
    """(family, given, middle, suffix) by the first rule that has them (any version)."""
    family = _present(el.get("DCS")) or _present(el.get("DAB"))
    given = _present(el.get("DAC"))
    middle = _present(el.get("DAD"))
    suffix = _present(el.get("DCU")) or _present(el.get("DAE"))
    if not given:
        given_names = _present(el.get("DCT"))  # v02–v03: "FIRST,MIDDLE"
        first, _, rest = given_names.partition(",")
        given, middle = _present(first), middle or _present(rest)
    full = _present(el.get("DAA"))  # v01: "LAST,FIRST,MIDDLE,SUFFIX"
    if full and (not family or not given):
        parts = [_present(p) for p in full.split(",")]
        if len(parts) >= 2 and parts[0] and parts[1]:
            family, given = family or parts[0], given or parts[1]
            middle = middle or (parts[2] if len(parts) > 2 else "")
            suffix = suffix or (parts[3] if len(parts) > 3 else "")
    return family, given, middle, suffix


def _postal_code(raw: str | None, canadian: bool) -> str:
    code = _present(raw).upper().replace(" ", "").replace("-", "")
    if canadian and re.fullmatch(r"[A-Z][0-9][A-Z][0-9][A-Z][0-9]", code):
        return f"{code[:3]} {code[3:]}"
    if re.fullmatch(r"[0-9]{9}", code):
        return code[:5] if code[5:] == "0000" else f"{code[:5]}-{code[5:]}"
    return code


def _country(el: dict[str, str], iin: str) -> str | None:
    declared = _present(el.get("DCG")).upper()
    if declared:
        return declared
    jurisdiction = _present(el.get("DAJ")).upper()
    if jurisdiction in US_JURISDICTIONS:
        return "USA"
    if jurisdiction in CANADIAN_JURISDICTIONS or iin in CANADIAN_IINS:
        return "CAN"
    return None


def parse(text: str, *, today: date | None = None) -> IdDocument:
    """Read the card's fields, or raise AamvaError(reason). ``today`` sets ``expired`` and rejects future DOBs."""
    if not isinstance(text, str):
        raise AamvaError("not_aamva")
    text = _prepare(text)
    header = _header(text)
    if header is None:
        raise AamvaError("not_aamva")
    el, _, prefix_seen = _elements(text[header.body_start :])
    family, given, middle, suffix = _names(el)
    if not family or not given:
        raise AamvaError("missing_name")
    country = _country(el, header.iin)
    canadian = country == "CAN"
    birth, dob_present = _date(el.get("DBB"), canadian or header.version == 1)
    if birth is None:
        raise AamvaError("invalid_dob" if dob_present else "missing_dob")
    if today is not None and birth > today:
        raise AamvaError("invalid_dob")
    order_ccyy = canadian or header.version == 1
    expiry, _ = _date(el.get("DBA"), order_ccyy)
    issued, _ = _date(el.get("DBD"), order_ccyy)
    types = [t for t in header.subfile_types if t in ("DL", "ID")]
    document_type = types[0] if types else prefix_seen
    street = _present(el.get("DAG")) or _present(el.get("DAL"))
    return IdDocument(
        family=family,
        given=given,
        middle=middle,
        birth_date=birth,
        iin=header.iin,
        version=header.version,
        jurisdiction_version=header.jurisdiction_version,
        document_type=document_type,
        suffix=suffix,
        sex=_SEX.get(_present(el.get("DBC")).upper()),
        street=street,
        street2=_present(el.get("DAH")) if _present(el.get("DAG")) else _present(el.get("DAM")),
        city=_present(el.get("DAI")) or _present(el.get("DAN")),
        state_province=(_present(el.get("DAJ")) or _present(el.get("DAO"))).upper(),
        postal_code=_postal_code(el.get("DAK") or el.get("DAP"), canadian),
        country=country,
        document_number=_present(el.get("DAQ")),
        issue_date=issued,
        expiry_date=expiry,
        expired=(expiry < today) if (expiry is not None and today is not None) else None,
        names_truncated=any(_present(el.get(k)).upper() == "T" for k in ("DDE", "DDF", "DDG")),
    )


def parse_bytes(raw: bytes, *, today: date | None = None) -> IdDocument:
    """:func:`parse` on raw barcode bytes (see :func:`decode_payload`)."""
    return parse(decode_payload(raw), today=today)
