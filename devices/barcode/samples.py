"""Builders for DEMO and TEST barcode payloads (fictional people only).

:func:`aamva_payload` writes the text of an AAMVA DL/ID card's PDF417 barcode the way the standard lays it out:

    "@" LF RS CR "ANSI " IIN(6) version(2) [jurisdiction version(2), from v02] entries(2)
    then one designator per subfile: type(2) offset(4) length(4)
    then the subfiles: type(2) + elements ("DAQ..." separated by LF) + CR

Offsets count from the first byte ("@"); a length covers the subfile from its type to its CR. The result
matches the standard's own samples byte for byte (tests rebuild 02-VA-v10 from its fields).
:func:`wedge_mangled` then damages a payload the way keyboard-wedge scanners do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

COMPLIANCE = "@"
DATA_ELEMENT_SEPARATOR = "\n"
RECORD_SEPARATOR = "\x1e"
SEGMENT_TERMINATOR = "\r"
FILE_TYPE = "ANSI "

#: Issuer identification numbers (AAMVA's IIN registry) of some jurisdictions; pass ``iin=`` for others.
IINS: dict[str, str] = {
    "AZ": "636026",
    "CA": "636014",
    "FL": "636010",
    "GA": "636055",
    "IL": "636035",
    "MA": "636002",
    "MD": "636003",
    "MI": "636032",
    "NC": "636004",
    "NJ": "636036",
    "NY": "636001",
    "OH": "636023",
    "PA": "636025",
    "TX": "636015",
    "VA": "636000",
    "WA": "636045",
    "BC": "636028",
    "ON": "636012",
    "QC": "604428",
}
CANADIAN = frozenset({"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})

#: Element order of the standard's DL subfile example (others follow, in the order given).
ORDER = (
    "DAQ", "DCS", "DDE", "DAC", "DDF", "DAD", "DDG", "DCU", "DCA", "DCB", "DCD", "DBD", "DBB", "DBA", "DBC",
    "DAU", "DAY", "DAG", "DAH", "DAI", "DAJ", "DAK", "DCF", "DCG", "DCK", "DDA", "DDB", "DDC", "DDD",
)  # fmt: skip
#: v01 (DL/ID-2000) order, as in the standard's sample
ORDER_V01 = ("DAQ", "DAA", "DAG", "DAI", "DAJ", "DAK", "DAR", "DAS", "DAT", "DAU", "DAW", "DAY", "DAZ", "DBA",
             "DBB", "DBC", "DBD")  # fmt: skip
SEX_CODES = {"M": "1", "F": "2", "X": "9", "1": "1", "2": "2", "9": "9"}


def aamva_date(day: date, *, canadian: bool = False, version: int = 10) -> str:
    """MMDDCCYY in the US; CCYYMMDD in Canada and in version 01."""
    if canadian or version == 1:
        return day.strftime("%Y%m%d")
    return day.strftime("%m%d%Y")


def aamva_payload(
    given: str,
    family: str,
    dob: date,
    *,
    middle: str = "",
    suffix: str = "",
    sex: str = "1",
    street: str = "123 MAIN STREET",
    city: str = "RICHMOND",
    postal_code: str = "232190000",
    licence_number: str = "T12345678",
    issued: date = date(2021, 6, 1),
    expires: date = date(2029, 6, 1),
    height: str = "068 in",
    eyes: str = "BRO",
    document_discriminator: str = "2424244747474786102204",
    inventory_control: str = "",
    document: str = "DL",
    version: int = 10,
    jurisdiction: str = "VA",
    jurisdiction_version: int = 0,
    iin: str | None = None,
    country: str | None = None,
    extra: Mapping[str, str] | None = None,
    omit: frozenset[str] = frozenset(),
    jurisdiction_subfile: Mapping[str, str] | None = None,
) -> str:
    """A standards-shaped AAMVA DL/ID payload for a fictional person.

    ``sex``: "1"/"2"/"9" or "M"/"F"/"X". ``extra`` adds or overrides elements (e.g. ``{"DDA": "F"}``);
    ``omit`` drops elements (to test refusals). ``jurisdiction_subfile`` is the Z-subfile's elements
    (default ``{"Z<j>A": "01"}``; pass ``{}`` for none). Version 01 uses DAA "FAMILY,GIVEN,MIDDLE" and
    CCYYMMDD dates; versions 02–03 use DCT for the given names; 04 and later DAC/DAD with truncation flags.
    """
    if not 1 <= version <= 99:
        raise ValueError("version must be 1..99")
    if document not in ("DL", "ID"):
        raise ValueError("document must be 'DL' or 'ID'")
    jurisdiction = jurisdiction.upper()
    issuer = iin if iin is not None else IINS.get(jurisdiction)
    if issuer is None or len(issuer) != 6 or not issuer.isdigit():
        raise ValueError(f"no 6-digit IIN for jurisdiction {jurisdiction!r}: pass iin=")
    canadian = jurisdiction in CANADIAN
    country_code = country or ("CAN" if canadian else "USA")

    def when(day: date) -> str:
        return aamva_date(day, canadian=canadian, version=version)

    elements: dict[str, str] = {"DAQ": licence_number}
    if version == 1:
        full = ",".join(part for part in (family, given, middle, suffix) if part)
        elements |= {"DAA": full, "DBC": {"1": "M", "2": "F"}.get(SEX_CODES.get(sex, sex), "X")}
    else:
        elements["DCS"] = family
        if version <= 3:
            elements["DCT"] = f"{given},{middle}" if middle else given
        else:
            elements |= {"DDE": "N", "DAC": given, "DDF": "N", "DAD": middle or "NONE", "DDG": "N"}
        if suffix:
            elements["DCU"] = suffix
        if document == "DL":
            elements |= {"DCA": "D", "DCB": "NONE", "DCD": "NONE"}
        elements["DBC"] = SEX_CODES.get(sex, sex)
    elements |= {
        "DBD": when(issued),
        "DBB": when(dob),
        "DBA": when(expires),
        "DAU": height,
        "DAY": eyes,
        "DAG": street,
        "DAI": city,
        "DAJ": jurisdiction,
        "DAK": postal_code,
    }
    if version >= 2:
        elements |= {"DCF": document_discriminator, "DCG": country_code}
        if inventory_control:
            elements["DCK"] = inventory_control
    for key, value in (extra or {}).items():
        if len(key) != 3 or not key.isalnum():
            raise ValueError(f"element ids have 3 letters/digits, got {key!r}")
        elements[key] = value
    for key in omit:
        elements.pop(key, None)

    order = ORDER_V01 if version == 1 else ORDER
    ordered = [k for k in order if k in elements] + [k for k in elements if k not in order]
    subfiles = [(document, [k + elements[k] for k in ordered])]
    z_elements = (
        {f"Z{jurisdiction[0]}A": "01"} if jurisdiction_subfile is None else dict(jurisdiction_subfile)
    )
    if z_elements:
        subfiles.append((f"Z{jurisdiction[0]}", [k + v for k, v in z_elements.items()]))
    return _assemble(issuer, version, jurisdiction_version, subfiles)


def _assemble(
    iin: str, version: int, jurisdiction_version: int, subfiles: list[tuple[str, list[str]]]
) -> str:
    header = COMPLIANCE + DATA_ELEMENT_SEPARATOR + RECORD_SEPARATOR + SEGMENT_TERMINATOR + FILE_TYPE + iin
    header += f"{version:02d}"
    if version >= 2:
        header += f"{jurisdiction_version:02d}"
    header += f"{len(subfiles):02d}"
    bodies = [kind + DATA_ELEMENT_SEPARATOR.join(items) + SEGMENT_TERMINATOR for kind, items in subfiles]
    offset = len(header) + 10 * len(subfiles)
    designators = ""
    for (kind, _), body in zip(subfiles, bodies, strict=True):
        designators += f"{kind}{offset:04d}{len(body):04d}"
        offset += len(body)
    return header + designators + "".join(bodies)


def wedge_mangled(payload: str, style: str) -> str:
    """The payload as a keyboard-wedge scanner may type it.

    Styles: "lf" (CR and RS become LF), "crlf" (every separator CR LF), "pipes" (separators become "|"),
    "bom" (UTF-8 BOM in front), "no_compliance" (the "@" LF RS CR prefix lost), "junk" ("@" then junk).
    """
    if style == "lf":
        return payload.replace("\r", "\n").replace("\x1e", "\n")
    if style == "crlf":
        return payload.replace("\r", "\n").replace("\x1e", "").replace("\n", "\r\n")
    if style == "pipes":
        return payload.replace("\r", "|").replace("\n", "|").replace("\x1e", "|")
    if style == "bom":
        return "\ufeff" + payload
    if style == "no_compliance":
        return payload.removeprefix("@\n\x1e\r")
    if style == "junk":
        return "@%^~" + payload.removeprefix("@\n\x1e\r")
    raise ValueError(f"unknown style {style!r}")
