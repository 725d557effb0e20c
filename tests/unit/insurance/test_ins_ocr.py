"""The real reader (OpenCV + tesserocr + zxing-cpp) on a representative subset of the generated photos.

The whole set (48 cards × 3 levels) is measured by bench/insurance_ocr.py; here one photo per layout and font
family at the mild and medium levels, so a regression shows without a 60-second run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ins_photos import FIXTURES, card, photo

from devices import registry
from devices.errors import DeviceSetupError
from devices.insurance.reader import TesseractCardReader

pytest.importorskip("tesserocr")
REPO = Path(__file__).resolve().parents[3]
SUBSET = [(0, "mild"), (1, "medium"), (2, "mild"), (3, "medium"), (8, "mild"), (10, "medium"), (19, "mild"),
          (22, "medium")]  # classic, stacked, dark, compact, government; 8 font families


@pytest.fixture(scope="module")
def reader() -> TesseractCardReader:
    r = TesseractCardReader()
    yield r
    r.stop()


def test_member_ids_and_groups_on_a_representative_subset(manifest: dict, reader: TesseractCardReader) -> None:
    member_ok = group_ok = groups = 0
    for number, level in SUBSET:
        truth = card(manifest, number)
        image, _ = photo(manifest, number, level)
        side = reader.read_side("front", [image])
        assert side.found
        got = side.fields.get("member_id")
        member_ok += got is not None and got.value == truth["member_id"]
        if truth["group_number"]:
            groups += 1
            g = side.fields.get("group_number")
            group_ok += g is not None and g.value == truth["group_number"]
        assert 0.0 <= (got.confidence if got else 0.0) <= 1.0
    assert member_ok >= len(SUBSET) - 1, member_ok
    assert group_ok >= groups - 1, (group_ok, groups)


def test_back_with_a_barcode(manifest: dict, reader: TesseractCardReader) -> None:
    truth = card(manifest, 0)
    image, _ = photo(manifest, 0, "mild", side="back")
    side = reader.read_side("back", [image])
    assert side.barcode is not None and side.barcode.text == truth["back_barcode"]
    assert side.fields["member_id"].value == truth["member_id"] and side.fields["member_id"].confidence >= 0.99
    assert side.fields["rx_bin"].value == truth["rx_bin"]


def test_upside_down_card_is_turned(manifest: dict, reader: TesseractCardReader) -> None:
    import cv2

    truth = card(manifest, 19)
    image, _ = photo(manifest, 19, "mild")
    side = reader.read_side("front", [cv2.rotate(image, cv2.ROTATE_180)])
    assert side.fields["member_id"].value == truth["member_id"]


def test_registry_builds_both_backends_and_checks_options() -> None:
    assert registry.available_backends("insurance") == ["simulated", "tesseract"]
    device = registry.create("insurance", "tesseract", {"min_fill": 0.5})
    assert isinstance(device, TesseractCardReader) and device.limits.min_fill == 0.5
    with pytest.raises(DeviceSetupError):
        registry.create("insurance", "tesseract", {"tessdata": "/nonexistent"})
    with pytest.raises(DeviceSetupError):
        registry.check_options("insurance", "simulated", {"fields": {"shoe_size": "9"}})
    sim = registry.create("insurance", "simulated", {"fields": {"member_id": "X1234567"}, "find": "always"})
    assert sim.health().status.value == "ok"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", "read-card", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_prints_exactly_the_named_keys(manifest: dict) -> None:
    truth = card(manifest, 0)
    files = [str(FIXTURES / p["file"]) for p in truth["photos"] if p["level"] == "mild"]
    proc = run_cli(*files)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == ["member_id", "group_number", "payer_name", "subscriber_name", "rx_bin", "rx_pcn",
                         "rx_group"]
    assert out["member_id"]["value"] == truth["member_id"] and 0 <= out["member_id"]["confidence"] <= 1
    assert out["rx_bin"]["value"] == truth["rx_bin"]


def test_cli_no_card_and_bad_files(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    blank = tmp_path / "desk.jpg"
    cv2.imwrite(str(blank), np.full((720, 1280, 3), 90, np.uint8))
    proc = run_cli(str(blank))
    assert proc.returncode == 2 and json.loads(proc.stdout) == {"error": "card_not_found"}
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    proc = run_cli(str(junk))
    assert proc.returncode == 2 and json.loads(proc.stdout) == {"error": "unreadable_image"}
