"""The minimal AAMVA reader, reminder tokens and name matching, with fuzzing for arbitrary scanner text."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from flow_fakes import MARIA, NOW, SECRET, load_aamva
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.flow import aamva
from kiosk.flow.matching import exact_matches, normalize_name
from kiosk.flow.reminder import TokenError, make_token, verify_token


# -- AAMVA ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "family", "given_name", "middle", "born", "version"),
    [
        ("01-VA-v01.txt", "PUBLIC", "JOHN", "Q", date(1976, 11, 23), 1),
        ("02-VA-v10.txt", "SAMPLE", "MICHAEL", "JOHN", date(1986, 6, 6), 10),
        ("03-VA-v08.txt", "SAMPLE", "MICHAEL", "JOHN", date(1986, 6, 6), 8),
    ],
)
def test_aamva_standard_samples(
    fixture: str, family: str, given_name: str, middle: str, born: date, version: int
) -> None:
    doc = aamva.parse(load_aamva(fixture))
    assert (doc.family, doc.given, doc.middle, doc.birth_date) == (family, given_name, middle, born)
    assert (doc.iin, doc.version) == ("636000", version)
    assert "SAMPLE" not in repr(doc) and "PUBLIC" not in repr(doc)


def test_aamva_mangled_separators_still_read() -> None:
    text = load_aamva("02-VA-v10.txt")
    for mangled in (text.replace("\n", "\r\n"), text.replace("\n", "|"), "\ufeff" + text.replace("\x1e", "")):
        assert aamva.parse(mangled).birth_date == date(1986, 6, 6)


def test_aamva_canadian_dates() -> None:
    ontario = "@\n\x1e\rANSI 636012080002DL00410200ZO02410030DLDCSTREMBLAY\nDACCHLOE\nDBB19900315\nDCGCAN\r"
    doc = aamva.parse(ontario)
    assert (doc.family, doc.given, doc.birth_date) == ("TREMBLAY", "CHLOE", date(1990, 3, 15))
    # A US card whose date is written the Canadian way is read in the only order that makes sense.
    odd = "@\n\x1e\rANSI 636001080002DL00410200DLDCSDOE\nDACJANE\nDBB19900315\r"
    assert aamva.parse(odd).birth_date == date(1990, 3, 15)


def test_aamva_v03_given_names_in_dct() -> None:
    text = "@\n\x1e\rANSI 636026030102DL00410200DLDCSROE\nDCTRICHARD,MILES\nDBB07041970\r"
    doc = aamva.parse(text)
    assert (doc.given, doc.middle, doc.birth_date) == ("RICHARD", "MILES", date(1970, 7, 4))


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("DBB06061986\n", ""), "missing_dob"),
        (lambda t: t.replace("DBB06061986", "DBB13131986"), "invalid_dob"),
        (lambda t: t.replace("DBB06061986", "DBB0606198"), "invalid_dob"),
        (lambda t: t.replace("DCSSAMPLE", "DCSNONE"), "missing_name"),
        (lambda t: t.replace("DACMICHAEL\n", ""), "missing_name"),
        (lambda t: t.replace("ANSI ", "XXXX "), "not_aamva"),
    ],
)
def test_aamva_refuses_without_guessing(edit: object, reason: str) -> None:
    text = edit(load_aamva("02-VA-v10.txt"))  # type: ignore[operator]
    with pytest.raises(aamva.AamvaError) as caught:
        aamva.parse(text)
    assert caught.value.reason == reason
    assert "SAMPLE" not in str(caught.value) and "1986" not in str(caught.value)


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet="ANSIDCBLZV0123456789@\n\r\x1e|, ", max_size=300),
        st.builds(
            lambda a, b: "@\n\x1e\rANSI 636000100102DL" + a + "\nDBB" + b,
            st.text(max_size=60),
            st.text(max_size=12),
        ),
    )
)
def test_aamva_arbitrary_text_never_crashes(text: str) -> None:
    try:
        doc = aamva.parse(text)
    except aamva.AamvaError as exc:
        assert exc.reason in {"not_aamva", "missing_name", "missing_dob", "invalid_dob"}
    else:
        assert doc.family and doc.given and isinstance(doc.birth_date, date)


# -- reminder tokens ------------------------------------------------------------------------------------
def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_token_round_trip_and_format() -> None:
    token = make_token(SECRET, "appt-1", "pat-1", NOW + timedelta(hours=2))
    prefix, payload, mac = token.split(".")
    assert prefix == "CKI1" and "=" not in token
    assert json.loads(base64.urlsafe_b64decode(payload + "==")) == {
        "a": "appt-1",
        "p": "pat-1",
        "exp": int((NOW + timedelta(hours=2)).timestamp()),
    }
    expected = hmac.new(SECRET, f"CKI1.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(mac + "=") == expected
    result = verify_token(SECRET, f"  {token}\n", NOW)
    assert (result.appointment_id, result.patient_id) == ("appt-1", "pat-1")
    assert "pat-1" not in repr(result)
    assert verify_token(SECRET, token, NOW.timestamp()).expires_at == result.expires_at


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda t: t, None),
        (lambda t: t.replace("CKI1.", "CKI2."), "token_invalid"),
        (lambda t: t + ".x", "token_invalid"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "token_invalid"),
        (
            lambda t: (
                t.split(".")[0] + "." + b64(b'{"a":"x","p":"pat-1","exp":9999999999}') + "." + t.split(".")[2]
            ),
            "token_invalid",
        ),
        (lambda t: "CKI1.!!!." + t.split(".")[2], "token_invalid"),
        (lambda t: "", "token_invalid"),
    ],
)
def test_token_tampering(mutate: object, key: str | None) -> None:
    token = mutate(make_token(SECRET, "appt-1", "pat-1", NOW + timedelta(hours=1)))  # type: ignore[operator]
    if key is None:
        verify_token(SECRET, token, NOW)
        return
    with pytest.raises(TokenError) as caught:
        verify_token(SECRET, token, NOW)
    assert caught.value.key == key and str(caught.value) == key


def signed(payload: bytes) -> str:
    body = b64(payload)
    return f"CKI1.{body}.{b64(hmac.new(SECRET, f'CKI1.{body}'.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b"not json",
        b'{"a":"x","p":"","exp":9999999999}',
        b'{"a":"x","p":"y","exp":true}',
        b'{"a":1,"p":"y","exp":9999999999}',
        b'{"a":"x","p":"y","exp":"9999999999"}',
        b"\xff\xfe",
    ],
)
def test_signed_but_malformed_payloads(payload: bytes) -> None:
    with pytest.raises(TokenError) as caught:
        verify_token(SECRET, signed(payload), NOW)
    assert caught.value.key == "token_invalid"


def test_token_expiry() -> None:
    token = make_token(SECRET, "a", "p", NOW)
    with pytest.raises(TokenError) as caught:
        verify_token(SECRET, token, NOW)
    assert caught.value.key == "token_expired"
    assert verify_token(SECRET, token, NOW - timedelta(seconds=1)).patient_id == "p"


def test_token_secrets() -> None:
    with pytest.raises(ValueError):
        make_token(b"", "a", "p", NOW)
    with pytest.raises(ValueError):
        make_token(SECRET, "a", "p", datetime(2030, 1, 1))  # naive
    token = make_token(SECRET, "a", "p", NOW + timedelta(days=1))
    with pytest.raises(TokenError):
        verify_token(b"", token, NOW)
    assert verify_token(SECRET, token, datetime(2025, 3, 10, 13, 0, tzinfo=UTC)).patient_id == "p"


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(lambda a, b: f"CKI1.{a}.{b}", st.text(max_size=80), st.text(max_size=60)),
        st.binary(max_size=120).map(lambda raw: signed(raw)),
    )
)
def test_verify_arbitrary_text_never_crashes(text: str) -> None:
    try:
        verify_token(SECRET, text, NOW)
    except TokenError as exc:
        assert exc.key in {"token_invalid", "token_expired"}


# -- names ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("García-López", "garcia lopez"),
        ("O'Brien", "OBRIEN"),
        ("O’Brien", "o brien"),
        ("Zoë", "ZOE"),
        ("St. John", "st john"),
        ("Nguyễn", "nguyen"),
        ("Strauß", "STRAUSS"),
    ],
)
def test_normalization(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


def test_exact_matching_needs_every_identifier() -> None:
    others = [MARIA.__class__(**{**MARIA.__dict__, "id": "x", "family": "Garcia"})]
    assert exact_matches([MARIA, *others], "Maria", "Garcia Lopez", MARIA.birth_date) == (MARIA,)
    assert exact_matches([MARIA], "Maria", "Garcia Lopez", date(1980, 4, 13)) == ()
    assert exact_matches([MARIA], "Mar", "Garcia Lopez", MARIA.birth_date) == ()
    assert exact_matches([MARIA], "", "", MARIA.birth_date) == ()
    assert exact_matches([MARIA, MARIA], "josé", "garcía-lópez", MARIA.birth_date) == ()  # not the first name
    assert exact_matches([MARIA, MARIA], "maria jose", "garcía-lópez", MARIA.birth_date) == (MARIA,)
