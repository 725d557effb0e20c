"""The AAMVA DL/ID parser on the standard's samples and on one payload per real-world deformation (DESIGN §6).

Payloads are built with devices.barcode.samples (byte-exact against the standard's own samples, see
tests/unit/devices/test_dev_aamva_samples.py) and then damaged the way scanners and keyboard wedges do.
All people are fictional.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.barcode.samples import IINS, aamva_payload, wedge_mangled
from kiosk.flow import aamva
from kiosk.flow.aamva import AamvaError, IdDocument, parse, parse_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TODAY = date(2025, 3, 10)
KEYS = [
    "document_type", "aamva_version", "jurisdiction_version", "iin", "last_name", "first_name", "middle_name",
    "name_suffix", "date_of_birth", "expiry_date", "issue_date", "sex", "street", "street2", "city",
    "state_province", "postal_code", "country", "document_number", "expired",
]  # fmt: skip
V10_EXPECTED = {
    "document_type": "DL", "aamva_version": 10, "jurisdiction_version": 1, "iin": "636000",
    "last_name": "SAMPLE", "first_name": "MICHAEL", "middle_name": "JOHN", "name_suffix": "JR",
    "date_of_birth": "1986-06-06", "expiry_date": "2024-12-10", "issue_date": "2019-06-06", "sex": "M",
    "street": "2300 WEST BROAD STREET", "street2": None, "city": "RICHMOND", "state_province": "VA",
    "postal_code": "23269", "country": "USA", "document_number": "T64235789", "expired": True,
}  # fmt: skip


def sample(name: str, folder: str = "aamva") -> bytes:
    return (FIXTURES / folder / name).read_bytes()


def card(**kwargs: object) -> str:
    defaults: dict[str, object] = {"given": "ANA", "family": "GARCIA", "dob": date(1990, 2, 28)}
    return aamva_payload(**{**defaults, **kwargs})  # type: ignore[arg-type]


def reason(text: str, today: date | None = None) -> str:
    with pytest.raises(AamvaError) as caught:
        parse(text, today=today)
    assert str(caught.value) == caught.value.reason  # nothing personal in the message
    return caught.value.reason


# -- the standard's samples ------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", ["aamva", "devices/aamva"])
def test_v10_sample_every_field(folder: str) -> None:
    doc = parse_bytes(sample("02-VA-v10.txt", folder), today=TODAY)
    assert list(doc.as_dict()) == KEYS
    assert doc.as_dict() == V10_EXPECTED
    assert not doc.names_truncated


def test_v08_sample() -> None:
    fields = parse_bytes(sample("03-VA-v08.txt"), today=TODAY).as_dict()
    assert fields == {**V10_EXPECTED, "aamva_version": 8, "jurisdiction_version": 0, "expiry_date": "2013-12-10",
                      "issue_date": "2008-06-06"}  # fmt: skip


def test_v01_sample_full_name_in_daa_and_ccyymmdd_dates() -> None:
    fields = parse_bytes(sample("01-VA-v01.txt"), today=TODAY).as_dict()
    assert fields == {
        "document_type": "DL", "aamva_version": 1, "jurisdiction_version": None, "iin": "636000",
        "last_name": "PUBLIC", "first_name": "JOHN", "middle_name": "Q", "name_suffix": None,
        "date_of_birth": "1976-11-23", "expiry_date": "2001-12-01", "issue_date": "1996-12-01", "sex": "M",
        "street": "123 MAIN STREET", "street2": None, "city": "ANYTOWN", "state_province": "VA",
        "postal_code": "12345-9999", "country": "USA", "document_number": "0123456789ABC", "expired": True,
    }  # fmt: skip


def test_repr_and_errors_carry_no_personal_data() -> None:
    doc = parse_bytes(sample("02-VA-v10.txt"))
    text = repr(doc)
    for secret in ("SAMPLE", "MICHAEL", "1986", "BROAD", "T64235789", "23269"):
        assert secret not in text
    assert doc.expired is None  # no "today": expiry not judged


# -- versions --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [*range(1, 11), 11, 42, 99])
def test_every_version_and_unknown_later_ones(version: int) -> None:
    doc = parse(card(version=version, middle="LUZ", jurisdiction="TX", sex="F"), today=TODAY)
    assert (doc.family, doc.given, doc.middle, doc.birth_date) == ("GARCIA", "ANA", "LUZ", date(1990, 2, 28))
    assert (doc.version, doc.iin, doc.document_type, doc.sex) == (version, "636015", "DL", "F")
    assert doc.jurisdiction_version == (None if version == 1 else 0)
    assert (doc.expiry_date, doc.issue_date, doc.expired) == (date(2029, 6, 1), date(2021, 6, 1), False)


def test_v02_v03_given_names_in_dct() -> None:
    for version in (2, 3):
        doc = parse(card(version=version, middle="LUZ"))
        assert (doc.given, doc.middle) == ("ANA", "LUZ")
    spaced = card(version=3).replace("DCTANA", "DCTMARY ANN")
    assert parse(spaced).given == "MARY ANN"  # no comma: one given name (matching uses its first word)


def test_v01_daa_with_suffix() -> None:
    doc = parse(card(version=1, middle="LUZ", suffix="III"))
    assert (doc.family, doc.given, doc.middle, doc.suffix) == ("GARCIA", "ANA", "LUZ", "III")


# -- deformations (DESIGN §6) ----------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["lf", "crlf", "pipes", "bom", "no_compliance", "junk"])
def test_keyboard_wedge_mangling(style: str) -> None:
    doc = parse(wedge_mangled(card(middle="LUZ", suffix="JR"), style), today=TODAY)
    assert doc.as_dict() == parse(card(middle="LUZ", suffix="JR"), today=TODAY).as_dict()


def test_bom_as_bytes_and_as_latin1_mojibake() -> None:
    payload = card()
    assert parse_bytes(b"\xef\xbb\xbf" + payload.encode()).family == "GARCIA"
    assert parse("\u00ef\u00bb\u00bf" + payload).family == "GARCIA"


def test_aamva_header_instead_of_ansi() -> None:
    doc = parse(card().replace("ANSI ", "AAMVA", 1))
    assert (doc.family, doc.iin, doc.version) == ("GARCIA", "636000", 10)


def test_subfile_without_its_dl_prefix() -> None:
    payload = card()
    assert "DLDAQ" in payload
    doc = parse(payload.replace("DLDAQ", "DAQ"))
    assert (doc.family, doc.document_number, doc.document_type) == ("GARCIA", "T12345678", "DL")


def test_designator_offsets_that_are_not_digits() -> None:
    payload = card()
    header = re.search(r"DL[0-9]{8}ZV[0-9]{8}", payload)
    assert header is not None
    broken = payload.replace(header.group(0), "DLOO4l0278ZV  x?  08")
    assert parse(broken).birth_date == date(1990, 2, 28)


def test_fewer_designators_than_announced() -> None:
    text = "@\n\x1e\rANSI 636026030102DL00410200DLDCSROE\nDCTRICHARD,MILES\nDBB07041970\r"
    doc = parse(text)
    assert (doc.family, doc.given, doc.middle, doc.birth_date) == ("ROE", "RICHARD", "MILES", date(1970, 7, 4))


def test_header_whose_layout_does_not_match_its_version() -> None:
    # A v10 header without the jurisdiction-version field (as a v01 header would be).
    payload = card().replace("ANSI 6360001000", "ANSI 63600010", 1)
    assert parse(payload).family == "GARCIA"


def test_jurisdiction_subfile_is_kept_apart() -> None:
    z = {"ZVA": "01", "ZVB": "DCSNOTANAME", "ZVC": "DBB01011900"}
    doc = parse(card(jurisdiction_subfile=z))
    assert (doc.family, doc.birth_date) == ("GARCIA", date(1990, 2, 28))
    # The Z subfile first: the card's own elements still win.
    payload = card(jurisdiction_subfile={})
    body = payload[payload.index("DLDAQ") :]
    moved = payload[: payload.index("DLDAQ")] + "ZVZVADCSWRONG\nZVBX\r" + body
    assert parse(moved).family == "GARCIA"


def test_padded_fields() -> None:
    payload = card(middle="LUZ", extra={"DAK": "787010000  ", "DAY": "BRO "})
    payload = payload.replace("DCSGARCIA", "DCSGARCIA        ").replace("DACANA", "DACANA   ")
    payload = payload.replace("DAG123 MAIN STREET", "DAG123  MAIN STREET   ")
    doc = parse(payload)
    assert (doc.family, doc.given, doc.street, doc.postal_code) == ("GARCIA", "ANA", "123 MAIN STREET", "78701")


def test_us_and_canadian_date_orders() -> None:
    ontario = parse(card(jurisdiction="ON", document="ID", postal_code="K1A0B1"), today=TODAY)
    assert (ontario.country, ontario.state_province, ontario.document_type) == ("CAN", "ON", "ID")
    assert (ontario.birth_date, ontario.expiry_date) == (date(1990, 2, 28), date(2029, 6, 1))
    assert ontario.postal_code == "K1A 0B1"
    # A US card whose dates are written the Canadian way is read in the only order that makes sense.
    us = card().replace("DBB02281990", "DBB19900228")
    assert parse(us).birth_date == date(1990, 2, 28)
    # Quebec's IIN without a DCG country element still counts as Canadian.
    quebec = card(jurisdiction="QC", omit=frozenset({"DCG"}))
    assert parse(quebec).country == "CAN"


def test_missing_optional_fields() -> None:
    bare = card(omit=frozenset({"DAG", "DAI", "DAK", "DCG", "DBC", "DBA", "DBD", "DAQ", "DAJ", "DAU", "DAY"}),
                jurisdiction_subfile={})  # fmt: skip
    fields = parse(bare, today=TODAY).as_dict()
    assert fields["last_name"] == "GARCIA" and fields["date_of_birth"] == "1990-02-28"
    for key in ("street", "city", "postal_code", "sex", "expiry_date", "issue_date", "document_number"):
        assert fields[key] is None, key
    assert fields["expired"] is None and fields["country"] is None


@pytest.mark.parametrize(("raw", "expected"), [("1", "M"), ("2", "F"), ("9", "X"), ("M", "M"), ("F", "F"),
                                               ("X", "X"), ("0", None), ("", None)])  # fmt: skip
def test_sex_codes(raw: str, expected: str | None) -> None:
    assert parse(card(extra={"DBC": raw})).sex == expected


@pytest.mark.parametrize(("raw", "expected"), [("787010000", "78701"), ("787011234", "78701-1234"),
                                               ("78701", "78701"), ("", "")])  # fmt: skip
def test_us_postal_codes(raw: str, expected: str) -> None:
    assert parse(card(postal_code=raw)).postal_code == expected


def test_caps_lock_on_while_the_wedge_typed() -> None:
    doc = parse(wedge_mangled(card(), "lf").swapcase())
    assert (doc.family, doc.given, doc.birth_date) == ("GARCIA", "ANA", date(1990, 2, 28))


def test_truncated_names_are_flagged() -> None:
    assert parse(card(extra={"DDE": "T"})).names_truncated


# -- refusals and flags -----------------------------------------------------------------------------------
def test_refusals_name_the_reason() -> None:
    assert reason(card(omit=frozenset({"DCS"}))) == "missing_name"
    assert reason(card(extra={"DAC": "NONE"})) == "missing_name"
    assert reason(card(version=1).replace("DAAGARCIA,ANA", "DAAGARCIA ANA")) == "missing_name"  # no guessing
    assert reason(card(omit=frozenset({"DBB"}))) == "missing_dob"
    assert reason(card(extra={"DBB": "13131990"})) == "invalid_dob"
    assert reason(card(extra={"DBB": "0228199"})) == "invalid_dob"
    assert reason(card(dob=date(2030, 1, 1)), today=TODAY) == "invalid_dob"  # born in the future
    assert reason("PATIENT-QR-1234") == "not_aamva"
    assert reason("") == "not_aamva"
    assert reason(None) == "not_aamva"  # type: ignore[arg-type]


def test_expired_documents_are_flagged_not_refused() -> None:
    payload = card(expires=date(2024, 1, 31))
    assert parse(payload, today=date(2024, 2, 1)).expired is True
    assert parse(payload, today=date(2024, 1, 31)).expired is False
    assert parse(payload).expired is None


def test_looks_like_aamva() -> None:
    assert aamva.looks_like_aamva(card())
    assert aamva.looks_like_aamva(wedge_mangled(card(), "junk"))
    assert not aamva.looks_like_aamva("CKI1.abc.def")


# -- property-based ----------------------------------------------------------------------------------------
# AAMVA's placeholders for "no value" ("NONE", "UNAVL", ...) are read as missing, by design: not names.
NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12).filter(
    lambda n: n not in aamva._MISSING
)
NOISE = "@\n\r\x1e|DLZVANSI0123 ,\ufeff"
STYLES = st.sampled_from(["none", "lf", "crlf", "pipes", "bom", "no_compliance", "junk"])


@settings(max_examples=150, deadline=None, database=None)
@given(
    given_name=NAMES,
    family=NAMES,
    middle=st.one_of(st.just(""), NAMES),
    dob=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    version=st.integers(min_value=1, max_value=12),
    jurisdiction=st.sampled_from(sorted(IINS)),
    style=STYLES,
)
def test_round_trip_through_any_mangling(
    given_name: str, family: str, middle: str, dob: date, version: int, jurisdiction: str, style: str
) -> None:
    payload = aamva_payload(given_name, family, dob, middle=middle, version=version, jurisdiction=jurisdiction)
    if style != "none":
        payload = wedge_mangled(payload, style)
    doc = parse(payload)
    assert (doc.family, doc.given, doc.middle, doc.birth_date) == (family, given_name, middle, dob)
    assert doc.version == version and doc.iin == IINS[jurisdiction]


def _mutate(payload: str, edits: list[tuple[int, int, str]]) -> str:
    for position, delete, insert in edits:
        at = position % (len(payload) + 1)
        payload = payload[:at] + insert + payload[at + delete :]
    return payload


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 5), st.text(alphabet=NOISE, max_size=4)), max_size=6),
    STYLES,
)
def test_damaged_payloads_never_crash(edits: list[tuple[int, int, str]], style: str) -> None:
    payload = card(middle="LUZ")
    if style != "none":
        payload = wedge_mangled(payload, style)
    try:
        doc = parse(_mutate(payload, edits), today=TODAY)
    except AamvaError as exc:
        assert exc.reason in aamva.REASONS
    else:
        assert isinstance(doc, IdDocument) and doc.family and doc.given and doc.birth_date <= TODAY
        assert list(doc.as_dict()) == KEYS


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse("@\n\x1e\rANSI 636000100102DL00410278ZV03190008DL" + text)
        parse(text)
    except AamvaError as exc:
        assert exc.reason in aamva.REASONS
