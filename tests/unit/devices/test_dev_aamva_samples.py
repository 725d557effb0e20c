"""devices.barcode.samples builds AAMVA payloads shaped exactly like the standard's own samples."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import zxingcpp

from devices.barcode.samples import aamva_date, aamva_payload, wedge_mangled

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "devices" / "aamva"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("ascii")


def header_structure(payload: str) -> dict[str, object]:
    """Read an AAMVA header by the standard's fixed widths (independent of the builder)."""
    assert payload.startswith("@\n\x1e\rANSI ")
    iin, version = payload[9:15], int(payload[15:17])
    pos = 17
    jurisdiction_version = None
    if version >= 2:
        jurisdiction_version = int(payload[pos : pos + 2])
        pos += 2
    entries = int(payload[pos : pos + 2])
    pos += 2
    designators = []
    for _ in range(entries):
        d = payload[pos : pos + 10]
        designators.append((d[:2], int(d[2:6]), int(d[6:10])))
        pos += 10
    return {
        "iin": iin,
        "version": version,
        "jurisdiction_version": jurisdiction_version,
        "designators": designators,
        "header_length": pos,
    }


def subfile_elements(payload: str, kind: str, offset: int, length: int) -> dict[str, str]:
    body = payload[offset : offset + length]
    assert body.startswith(kind) and body.endswith("\r"), (kind, body[:4], body[-1:])
    return {item[:3]: item[3:] for item in body[2:-1].split("\n")}


def rebuild_v10_from_fields(real: str) -> str:
    """Read the fields of the standard's v10 sample and build a payload from them."""
    head = header_structure(real)
    (dl, dl_off, dl_len), (z, z_off, z_len) = head["designators"]  # type: ignore[misc]
    e = subfile_elements(real, dl, dl_off, dl_len)

    def mdy(text: str) -> date:
        return date(int(text[4:]), int(text[:2]), int(text[2:4]))

    core = {"DAQ", "DCS", "DDE", "DAC", "DDF", "DAD", "DDG", "DCU", "DBD", "DBB", "DBA", "DBC", "DAU", "DAY",
            "DAG", "DAI", "DAJ", "DAK", "DCF", "DCG", "DCK"}  # fmt: skip
    return aamva_payload(
        e["DAC"],
        e["DCS"],
        mdy(e["DBB"]),
        middle=e["DAD"],
        suffix=e["DCU"],
        sex=e["DBC"],
        street=e["DAG"],
        city=e["DAI"],
        postal_code=e["DAK"],
        licence_number=e["DAQ"],
        issued=mdy(e["DBD"]),
        expires=mdy(e["DBA"]),
        height=e["DAU"],
        eyes=e["DAY"],
        document_discriminator=e["DCF"],
        inventory_control=e["DCK"],
        document=dl,
        version=head["version"],  # type: ignore[arg-type]
        jurisdiction=e["DAJ"],
        jurisdiction_version=head["jurisdiction_version"],  # type: ignore[arg-type]
        iin=head["iin"],  # type: ignore[arg-type]
        extra={k: v for k, v in e.items() if k not in core},
        jurisdiction_subfile=subfile_elements(real, z, z_off, z_len),
    )


def test_rebuilding_the_v10_standard_sample_gives_the_same_bytes() -> None:
    real = fixture("02-VA-v10.txt")
    built = rebuild_v10_from_fields(real)
    assert header_structure(built) == header_structure(real)
    assert header_structure(real)["designators"] == [("DL", 41, 278), ("ZV", 319, 8)]
    assert built == real


def test_rebuilding_the_v08_standard_sample_gives_the_same_bytes() -> None:
    real = fixture("03-VA-v08.txt")
    assert rebuild_v10_from_fields(real) == real  # same field set; the version comes from the header


def test_rebuilding_the_v01_standard_sample_gives_the_same_bytes() -> None:
    real = fixture("01-VA-v01.txt")
    built = aamva_payload(
        "JOHN",
        "PUBLIC",
        date(1976, 11, 23),
        middle="Q",
        sex="M",
        street="123 MAIN STREET",
        city="ANYTOWN",
        postal_code="123459999  ",
        licence_number="0123456789ABC",
        issued=date(1996, 12, 1),
        expires=date(2001, 12, 1),
        height="509",
        eyes="BL ",
        version=1,
        extra={"DAR": "DM  ", "DAS": " " * 10, "DAT": " " * 5, "DAW": "175", "DAZ": "BR "},
        jurisdiction_subfile={"ZVA": "JURISDICTIONDEFINEDELEMENT"},
    )
    assert header_structure(built) == header_structure(real)
    assert header_structure(real)["jurisdiction_version"] is None  # v01 has no jurisdiction version
    assert built == real


@pytest.mark.parametrize("version", [1, 2, 3, 4, 8, 9, 10, 11])
def test_designators_point_at_their_subfiles(version: int) -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28), version=version, jurisdiction="TX")
    head = header_structure(payload)
    assert head["iin"] == "636015" and head["version"] == version
    offset = head["header_length"]
    for kind, start, length in head["designators"]:  # type: ignore[attr-defined]
        assert start == offset  # subfiles follow the designators back to back
        subfile_elements(payload, kind, start, length)
        offset += length
    assert offset == len(payload)


def test_default_v10_payload_has_the_mandatory_elements() -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28), sex="F")
    head = header_structure(payload)
    kind, start, length = head["designators"][0]  # type: ignore[index]
    e = subfile_elements(payload, kind, start, length)
    mandatory = {"DCA", "DCB", "DCD", "DBA", "DCS", "DAC", "DAD", "DBD", "DBB", "DBC", "DAY", "DAU", "DAG",
                 "DAI", "DAJ", "DAK", "DAQ", "DCF", "DCG", "DDE", "DDF", "DDG"}  # fmt: skip
    assert mandatory <= set(e)
    assert (e["DCS"], e["DAC"], e["DBB"], e["DBC"], e["DCG"]) == ("GARCIA", "ANA", "02281990", "2", "USA")
    assert re.fullmatch(r"\d{8}", e["DBA"])


def test_canadian_dates_are_ccyymmdd_and_id_cards_have_no_licence_classes() -> None:
    payload = aamva_payload("LEA", "TREMBLAY", date(1985, 7, 4), jurisdiction="ON", document="ID")
    head = header_structure(payload)
    assert head["iin"] == "636012"
    kind, start, length = head["designators"][0]  # type: ignore[index]
    assert kind == "ID"
    e = subfile_elements(payload, kind, start, length)
    assert e["DBB"] == "19850704" and e["DCG"] == "CAN"
    assert not {"DCA", "DCB", "DCD"} & set(e)
    assert aamva_date(date(1985, 7, 4)) == "07041985"


def test_omit_and_no_jurisdiction_subfile() -> None:
    payload = aamva_payload(
        "ANA", "GARCIA", date(1990, 2, 28), omit=frozenset({"DBB"}), jurisdiction_subfile={}
    )
    head = header_structure(payload)
    assert [d[0] for d in head["designators"]] == ["DL"]  # type: ignore[attr-defined]
    assert "DBB" not in payload


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="IIN"):
        aamva_payload("A", "B", date(2000, 1, 1), jurisdiction="ZZ")
    with pytest.raises(ValueError):
        aamva_payload("A", "B", date(2000, 1, 1), document="PASSPORT")
    with pytest.raises(ValueError):
        aamva_payload("A", "B", date(2000, 1, 1), extra={"TOOLONG": "x"})


def test_wedge_mangling_styles() -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28))
    assert "\r" not in wedge_mangled(payload, "lf") and "\x1e" not in wedge_mangled(payload, "lf")
    assert "\r\n" in wedge_mangled(payload, "crlf")
    assert "|" in wedge_mangled(payload, "pipes") and "\n" not in wedge_mangled(payload, "pipes")
    assert wedge_mangled(payload, "bom").startswith("\ufeff@")
    assert wedge_mangled(payload, "no_compliance").startswith("ANSI ")
    assert wedge_mangled(payload, "junk").startswith("@") and "\x1e" not in wedge_mangled(payload, "junk")[:5]
    with pytest.raises(ValueError):
        wedge_mangled(payload, "nope")


def test_payload_survives_a_real_pdf417_round_trip() -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28))
    image = np.array(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.PDF417).to_image(scale=3))
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.PDF417)
    assert len(results) == 1
    assert results[0].bytes == payload.encode("ascii")  # control characters intact
