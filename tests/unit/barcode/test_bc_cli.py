"""`kiosk decode` and `kiosk parse-id`, run through the real command line entry point; fuzzed inputs."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path

import cv2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.barcode.samples import aamva_payload
from devices.barcode.synthetic import render_card_frame
from kiosk.cli import main
from kiosk.commands.scan import decode_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PARSE_ID_KEYS = [
    "document_type", "aamva_version", "jurisdiction_version", "iin", "last_name", "first_name", "middle_name",
    "name_suffix", "date_of_birth", "expiry_date", "issue_date", "sex", "street", "street2", "city",
    "state_province", "postal_code", "country", "document_number", "expired",
]  # fmt: skip


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main(args)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_decode_prints_one_object_per_barcode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28))
    card = tmp_path / "card.png"
    cv2.imwrite(str(card), render_card_frame(payload, seed=3, level=2).image)
    qr = FIXTURES / "barcodes" / "qr" / "zxing-qrcode-2-1.png"
    code, out = run(["decode", str(card), str(qr)], capsys)
    assert code == 0 and isinstance(out, list) and len(out) == 2
    assert [sorted(o) for o in out] == [["format", "position", "text"]] * 2
    assert out[0]["format"] == "PDF417" and out[0]["text"] == payload
    assert out[1]["format"] == "QRCode"
    assert out[1]["text"] == qr.with_suffix(".txt").read_text(encoding="utf-8")
    assert len(out[0]["position"]) == 4 and all(len(p) == 2 for p in out[0]["position"])


def test_decode_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code = main(["decode", str(junk), str(tmp_path / "missing.png")])
    captured = capsys.readouterr()
    assert code == 2 and json.loads(captured.out) == []
    assert "junk.png" in captured.err and "missing.png" in captured.err
    assert main(["decode", "--formats", "EAN13", str(junk)]) == 2


def test_parse_id_from_a_file_and_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(["parse-id", str(FIXTURES / "aamva" / "02-VA-v10.txt")], capsys)
    assert code == 0 and isinstance(out, dict) and list(out) == PARSE_ID_KEYS
    assert (out["last_name"], out["date_of_birth"], out["expired"]) == ("SAMPLE", "1986-06-06", True)
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28), expires=date(2099, 1, 1))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload.encode())))
    code, out = run(["parse-id", "-"], capsys)
    assert code == 0 and isinstance(out, dict) and out["first_name"] == "ANA" and out["expired"] is False


def test_parse_id_refusals_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_dob = tmp_path / "no-dob.txt"
    no_dob.write_text(aamva_payload("ANA", "GARCIA", date(1990, 2, 28), omit=frozenset({"DBB"})))
    assert run(["parse-id", str(no_dob)], capsys) == (2, {"error": "missing_dob"})
    other = tmp_path / "other.txt"
    other.write_bytes(b"\xff\xfe garbage")
    assert run(["parse-id", str(other)], capsys) == (2, {"error": "not_aamva"})
    assert run(["parse-id", str(tmp_path / "nope.txt")], capsys) == (2, {"error": "cannot_read"})


PNG = (FIXTURES / "barcodes" / "qr" / "zxing-qrcode-2-36.png").read_bytes()


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.tuples(st.integers(0, len(PNG)), st.binary(max_size=64)).map(lambda t: PNG[: t[0]] + t[1]),
        st.lists(st.tuples(st.integers(0, len(PNG) - 1), st.integers(0, 255)), max_size=20).map(
            lambda flips: bytes(dict(flips).get(i, b) for i, b in enumerate(PNG))
        ),
    )
)
def test_decode_input_handling_never_crashes(data: bytes) -> None:
    result = decode_bytes(data, ("PDF417", "QRCode", "Code128"))
    assert result is None or isinstance(result, list)
    for item in result or []:
        assert sorted(item) == ["format", "position", "text"]
