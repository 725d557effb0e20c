"""The 1080p frame pipeline on rendered camera frames: an AAMVA PDF417 on a card, photographed
(perspective, rotation, blur, noise, glare — devices/barcode/synthetic.py, seeded), and QR / Code 128 labels.

Level 4 (15° tilt, heavy blur and noise) is not asserted here: bench/barcode_decode.py reports its rate.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from devices.barcode.decode import FrameDecoder, decode_image, read_zbar
from devices.barcode.samples import aamva_payload
from devices.barcode.synthetic import FRAME_SIZE, render_card_frame, render_code_frame
from kiosk.flow import aamva

PAYLOAD = aamva_payload("ANA", "GARCIA", date(1990, 2, 28), middle="LUZ", suffix="JR", jurisdiction="TX")
TOKEN = "CKI1.eyJhIjoiYXBwdC0xIiwicCI6InBhdC0xIn0.3q2-7w"


def assert_position_matches(found: tuple[tuple[int, int], ...], truth: np.ndarray, slack: float) -> None:
    """Every decoded corner lies near the symbol's true outline (zxing reports the symbol without quiet zone)."""
    outline = truth.reshape(-1, 1, 2).astype(np.float32)
    for x, y in found:
        assert cv2.pointPolygonTest(outline, (float(x), float(y)), True) > -slack, (x, y)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2])
def test_id_card_frames_decode_and_parse(level: int, seed: int) -> None:
    frame = render_card_frame(PAYLOAD, seed=1000 * level + seed, level=level)
    assert frame.image.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3)
    found = FrameDecoder().decode(frame.image)
    assert [d.format for d in found] == ["PDF417"]
    assert found[0].text == PAYLOAD  # control characters intact
    assert_position_matches(found[0].position, frame.corners, slack=12)
    doc = aamva.parse(found[0].text)
    assert (doc.family, doc.given, doc.suffix, doc.state_province) == ("GARCIA", "ANA", "JR", "TX")


def test_rendering_is_reproducible_and_seeded() -> None:
    a = render_card_frame(PAYLOAD, seed=7, level=3)
    b = render_card_frame(PAYLOAD, seed=7, level=3)
    c = render_card_frame(PAYLOAD, seed=8, level=3)
    assert np.array_equal(a.image, b.image) and not np.array_equal(a.image, c.image)
    with pytest.raises(ValueError):
        render_card_frame(PAYLOAD, seed=1, level=5)


def test_tilted_cards_defeat_raw_zxing_but_not_the_pipeline() -> None:
    """Why the region step exists: zxing-cpp alone misses PDF417 tilted by ≥ 4° (zxing-cpp #145, #826)."""
    raw_hits = ours = 0
    for seed in range(3):
        image = render_card_frame(PAYLOAD, seed=3000 + seed, level=3).image
        raw = zxingcpp.read_barcodes(image, formats=zxingcpp.barcode_formats_from_str("PDF417"))
        raw_hits += any(bytes(r.bytes).decode("latin-1") == PAYLOAD for r in raw)
        ours += any(d.text == PAYLOAD for d in FrameDecoder(["PDF417"]).decode(image))
    assert ours == 3 and raw_hits < 3


@pytest.mark.parametrize(("fmt", "text"), [("QRCode", TOKEN), ("Code128", "PAT-000123456")])
@pytest.mark.parametrize("level", [0, 3])
def test_qr_and_code128_frames(fmt: str, text: str, level: int) -> None:
    frame = render_code_frame(text, fmt, seed=40 + level, level=level)
    decoder = FrameDecoder()
    found = decoder.decode(frame.image)
    assert [(d.format, d.text) for d in found] == [(fmt, text)]
    assert found[0].stage == "small"  # found on the downscaled copy: the cheap step
    assert_position_matches(found[0].position, frame.corners, slack=20)
    assert decoder.stats.frames == 1 and decoder.stats.by_stage == {"small": 1}


def test_a_region_of_interest_limits_the_search_and_positions_stay_in_frame_pixels() -> None:
    frame = render_code_frame(TOKEN, "QRCode", seed=9, level=0)
    xs = frame.corners[:, 0]
    left = float(xs.min()) / FRAME_SIZE[0]
    inside = FrameDecoder(["QRCode"], roi=(max(0.0, left - 0.1), 0.0, 1.0, 1.0)).decode(frame.image)
    assert inside and inside[0].text == TOKEN
    assert_position_matches(inside[0].position, frame.corners, slack=20)
    outside = FrameDecoder(["QRCode"], roi=(0.0, 0.0, max(0.05, left - 0.05), 1.0), use_zbar=False)
    assert outside.decode(frame.image) == []


def test_a_frame_without_barcodes_and_odd_inputs() -> None:
    empty = np.full((1080, 1920, 3), 120, np.uint8)
    assert FrameDecoder().decode(empty) == []
    assert decode_image(np.zeros((4, 4), np.uint8)) == []
    with pytest.raises(ValueError):
        decode_image(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError):
        FrameDecoder(["EAN13"])


def test_the_zbar_fallback_reads_qr_and_code128_with_positions() -> None:
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "barcodes"
    image = cv2.imread(str(fixtures / "code128" / "zxing-code128-2-01.png"), cv2.IMREAD_GRAYSCALE)
    found = read_zbar(image, ["Code128"], stage="zbar", scale=2.0, offset=(10, 20))
    expected = (fixtures / "code128" / "zxing-code128-2-01.txt").read_text(encoding="utf-8")
    assert [(d.format, d.text, d.stage) for d in found] == [("Code128", expected, "zbar")]
    assert all(x >= 10 and y >= 20 for x, y in found[0].position)
    assert read_zbar(image, ["PDF417"], stage="zbar") == []  # zbar has no PDF417: not even asked
