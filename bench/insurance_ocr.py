"""Insurance cards: accuracy per degradation level, find + warp + OCR time per card, quality-gate frame rate.

    .venv/bin/python bench/insurance_ocr.py [--skip-pytesseract]

Photos: tests/fixtures/insurance (48 generated cards × mild/medium/hard, 1280×720, see its generate.py).
For each front photo the real reader (``devices.insurance.reader.TesseractCardReader.read_side``: find the
card, warp it to ID-1, three OCR passes with a vote, barcode) runs once; a field counts when its value equals
the printed one exactly (member ID, group, RxBIN; payer and name ignoring case). Gate rate: ``assess`` on the
same 720p frames back to back (what the live preview runs per frame). tesserocr vs pytesseract: one OCR pass
on the same warped cards with the same settings (PSM 11, LSTM), when pytesseract is installed.
Prints Markdown and writes bench/results/insurance_ocr.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402

from devices.insurance.finder import find_card, warp_card  # noqa: E402
from devices.insurance.gates import assess  # noqa: E402
from devices.insurance.ocr import preprocess, to_grey  # noqa: E402
from devices.insurance.reader import TesseractCardReader  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "insurance"
LEVELS = ("mild", "medium", "hard")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-pytesseract", action="store_true")
    args = parser.parse_args()
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    reader = TesseractCardReader()
    rows: dict[str, dict[str, int]] = {lv: {"cards": 0, "found": 0, "member": 0, "group": 0, "groups": 0,
                                            "payer": 0, "name": 0, "bin": 0, "bins": 0} for lv in LEVELS}
    times: list[float] = []
    frames = []
    warped = []
    for card in manifest["cards"]:
        for photo in card["photos"]:
            if photo["side"] != "front":
                continue
            image = cv2.imread(str(FIXTURES / photo["file"]))
            frames.append(image)
            started = time.perf_counter()
            side = reader.read_side("front", [image])
            times.append(time.perf_counter() - started)
            r, f = rows[photo["level"]], side.fields
            r["cards"] += 1
            r["found"] += side.found
            r["member"] += "member_id" in f and f["member_id"].value == card["member_id"]
            if card["group_number"]:
                r["groups"] += 1
                r["group"] += "group_number" in f and f["group_number"].value == card["group_number"]
            r["payer"] += "payer_name" in f and f["payer_name"].value.lower() == card["payer_name"].lower()
            r["name"] += "subscriber_name" in f and f["subscriber_name"].value.upper() == card["subscriber_name"]
            if card["rx_bin"]:
                r["bins"] += 1
                r["bin"] += "rx_bin" in f and f["rx_bin"].value == card["rx_bin"]
            if photo["level"] == "mild" and len(warped) < 12:
                quad = find_card(image)
                if quad is not None:
                    warped.append(preprocess(to_grey(warp_card(image, quad)), "clahe"))
    reader.stop()
    started = time.perf_counter()
    for image in frames:
        assess(image)
    gate_fps = len(frames) / (time.perf_counter() - started)
    engines = compare_engines(warped, skip=args.skip_pytesseract)
    result = {"levels": rows, "median_s": statistics.median(times), "p90_s": sorted(times)[int(0.9 * len(times))],
              "gate_fps_720p": gate_fps, "engines_ms_per_pass": engines}
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "insurance_ocr.json").write_text(json.dumps(result, indent=1) + "\n")
    pct = lambda a, b: f"{a}/{b} ({100 * a / b:.0f} %)" if b else "-"  # noqa: E731
    print("| level | cards | card found | member ID exact | group exact | payer | name | RxBIN |")
    print("|---|---|---|---|---|---|---|---|")
    for lv, r in rows.items():
        print(f"| {lv} | {r['cards']} | {pct(r['found'], r['cards'])} | {pct(r['member'], r['cards'])} | "
              f"{pct(r['group'], r['groups'])} | {pct(r['payer'], r['cards'])} | {pct(r['name'], r['cards'])} | "
              f"{pct(r['bin'], r['bins'])} |")
    print(f"\nfind + warp + OCR (3 passes + vote + barcode) per card: median {result['median_s']:.2f} s, "
          f"p90 {result['p90_s']:.2f} s; quality gates at 720p: {gate_fps:.0f} frames/s")
    print("one OCR pass per warped card (ms, median):", {k: round(v, 1) for k, v in engines.items()})


def compare_engines(cards: list, *, skip: bool) -> dict[str, float]:
    import tesserocr

    from devices.insurance.ocr import find_tessdata

    out = {}
    with tesserocr.PyTessBaseAPI(path=find_tessdata(), lang="eng", psm=11, oem=tesserocr.OEM.LSTM_ONLY) as api:
        spent = []
        for grey in cards:
            started = time.perf_counter()
            h, w = grey.shape
            api.SetImageBytes(grey.tobytes(), w, h, 1, w)
            api.GetUTF8Text()
            spent.append(time.perf_counter() - started)
        out["tesserocr"] = 1000 * statistics.median(spent)
    if not skip:
        try:
            import pytesseract
            from PIL import Image
        except ImportError:
            return out
        spent = []
        for grey in cards:
            started = time.perf_counter()
            pytesseract.image_to_data(Image.fromarray(grey), lang="eng", config="--psm 11 --oem 1")
            spent.append(time.perf_counter() - started)
        out["pytesseract"] = 1000 * statistics.median(spent)
    return out


if __name__ == "__main__":
    main()
