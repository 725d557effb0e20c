"""Field parsing on OCR words (no tesseract): label variants, values below labels, cleaning, voting."""

from __future__ import annotations

from devices.insurance.barcode_fields import barcode_fields
from devices.insurance.fields import Candidate, Word, clean_id, phrases, read_copays, read_fields, valid, vote


def line(y: int, *texts: str, x: int = 40, conf: float = 95.0, size: int = 30) -> list[Word]:
    """Words left to right on one text line, a normal space apart."""
    out = []
    for text in texts:
        width = 18 * len(text)
        out.append(Word(text, conf, (x, y, x + width, y + size)))
        x += width + 14
    return out


def values(words: list[Word]) -> dict[str, str]:
    return {k: v.value for k, v in read_fields(words).items()}


def test_inline_labels_in_their_variants() -> None:
    for label in (["Member", "ID:"], ["ID"], ["ID", "#:"], ["Subscriber", "ID:"], ["Identification", "Number:"],
                  ["Member", "Number:"], ["Mbr", "ID"], ["Member", "ID", "#:"]):
        got = values(line(100, *label, "W123456789"))
        assert got.get("member_id") == "W123456789", label
    for label in (["Group", "#:"], ["GRP"], ["Group", "No.:"], ["Group", "Number:"], ["GRP", "#"], ["Group", "ID:"]):
        assert values(line(100, *label, "76412-001")).get("group_number") == "76412-001", label


def test_rx_block_and_names() -> None:
    words = (line(100, "Name:", "MARIA", "GARCIA") + line(150, "RxBIN:", "610014") + line(200, "PCN:", "ADV")
             + line(250, "Rx", "GRP:", "RX1234") + line(300, "BIN", "004336", x=700))
    got = values(words)
    assert got["subscriber_name"] == "MARIA GARCIA"
    assert got["rx_bin"] in ("610014", "004336")
    assert got["rx_pcn"] == "ADV" and got["rx_group"] == "RX1234"
    assert "group_number" not in got  # "Rx GRP" is the pharmacy group, not the medical one


def test_two_columns_on_one_line_are_two_phrases() -> None:
    words = line(100, "Member", "ID:", "XYZ123456789") + line(100, "RxBIN:", "610502", x=700)
    assert [p.text for p in phrases(words)] == ["Member ID: XYZ123456789", "RxBIN: 610502"]
    got = values(words)
    assert got["member_id"] == "XYZ123456789" and got["rx_bin"] == "610502"


def test_small_label_above_its_value() -> None:
    words = line(100, "MEMBER", "ID", size=20) + line(128, "GC8626596V") + line(180, "GROUP", "NUMBER", size=20) + line(
        208, "079389")
    got = values(words)
    assert got["member_id"] == "GC8626596V" and got["group_number"] == "079389"
    assert read_fields(words)["member_id"].confidence < 0.95  # found below: a little less sure


def test_payer_id_is_not_the_member_id() -> None:
    got = values(line(100, "Payer", "ID", "60054") + line(150, "Member", "ID:", "U1234567801"))
    assert got["member_id"] == "U1234567801"


def test_lookalikes_inside_digit_runs_and_shapes() -> None:
    assert clean_id("12O45678") == "12045678"
    assert clean_id("W22S4I7789:") == "W2254177 89".replace(" ", "")
    assert clean_id("WF4238038B") == "WF4238038B"  # a trailing letter is kept
    assert valid("rx_bin", "610014") and not valid("rx_bin", "61001")
    assert valid("member_id", "1EG4-TE5-MK72") and not valid("member_id", "ABCDEF")
    assert not valid("subscriber_name", "J0HN SMITH")


def test_payer_from_the_list_fuzzily_else_the_header() -> None:
    got = read_fields(line(20, "UnitedHea1thcare", size=50) + line(100, "ID", "W123456789"))
    assert got["payer_name"].value == "UnitedHealthcare"
    other = read_fields(line(20, "Harbor", "Point", "Health", size=50) + line(200, "ID", "W123456789"))
    assert other["payer_name"].value == "Harbor Point Health" and other["payer_name"].confidence <= 0.5


def test_copays() -> None:
    words = line(500, "PCP", "$25", "Specialist", "$50") + line(550, "Urgent", "Care", "$75")
    assert {(c.label, c.cents) for c in read_copays(words)} == {("PCP", 2500), ("Specialist", 5000),
                                                                ("Urgent Care", 7500)}


def test_vote_prefers_agreement_and_lowers_confidence_on_disagreement() -> None:
    a = {"member_id": Candidate("W123", 0.9)}
    b = {"member_id": Candidate("W123", 0.8)}
    c = {"member_id": Candidate("W128", 0.95)}
    merged = vote([a, b, c])
    assert merged["member_id"].value == "W123"
    assert abs(merged["member_id"].confidence - 0.6) < 1e-6  # 0.9 × 2 of 3
    assert vote([a, a, a])["member_id"].confidence == 0.9
    assert vote([{}, {}]) == {}


def test_barcode_fields() -> None:
    got = barcode_fields("MBR=16517286233;GRP=GR35372;NM=MARIA WHITE")
    assert {k: v.value for k, v in got.items()} == {"member_id": "16517286233", "group_number": "GR35372",
                                                    "subscriber_name": "MARIA WHITE"}
    assert barcode_fields("W123456789")["member_id"].value == "W123456789"
    assert barcode_fields("hello world") == {}
