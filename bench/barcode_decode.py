"""Decode + parse time per 1080p camera frame, and success rate per degradation level, for four decoders on
the SAME frames in one run (goal: our pipeline ≤ 33 ms median and within 1.1× of raw zxing-cpp).

    .venv/bin/python bench/barcode_decode.py [--per-level 12] [--seed 1]

Frames: devices/barcode/synthetic.py renders the back of a fictional ID card (AAMVA PDF417) photographed at
1920×1080, levels 0 (held square) … 4 (15° tilt, heavy blur/noise, glare), plus reminder QR codes and Code 128
labels on paper. Each decoder gets the BGR frame as a camera delivers it:

- raw zxing-cpp: ``zxingcpp.read_barcodes(frame, formats=PDF417|QRCode|Code128)``, default options;
- raw pyzbar: grey conversion + ``pyzbar.decode`` (QR + Code 128; Debian's zbar has no PDF417);
- OpenCV: ``cv2.QRCodeDetector`` + ``cv2.barcode.BarcodeDetector`` (EAN/UPC only: no PDF417, no Code 128);
- ours: ``devices.barcode.decode.FrameDecoder`` (whole frame as region of interest).

A frame counts as read when the decoder returns exactly the payload; the time includes parsing the AAMVA
text (kiosk.flow.aamva) whenever PDF417 text came back. Prints Markdown and writes
bench/results/barcode_decode.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import zxingcpp  # noqa: E402
from pyzbar import pyzbar  # noqa: E402

from devices.barcode.decode import FrameDecoder  # noqa: E402
from devices.barcode.samples import aamva_payload  # noqa: E402
from devices.barcode.synthetic import LEVELS, render_card_frame, render_code_frame  # noqa: E402
from kiosk.flow import aamva  # noqa: E402

PEOPLE = [("ANA", "GARCIA", "LUZ", "TX"), ("MICHAEL", "SAMPLE", "JOHN", "VA"), ("CHLOE", "TREMBLAY", "", "ON"),
          ("WEI", "CHEN", "", "CA"), ("JAMAL", "WASHINGTON", "ALI", "GA"), ("SOFIA", "ROSSI", "MARIA", "NY")]  # fmt: skip
ZX_FORMATS = zxingcpp.barcode_formats_from_str("PDF417,QRCode,Code128")
Decoder = Callable[[Any], list[str]]


def parse_if_id(texts: list[str]) -> None:
    for text in texts:
        if aamva.looks_like_aamva(text):
            try:
                aamva.parse(text)
            except aamva.AamvaError:
                pass


def raw_zxing(frame: Any) -> list[str]:
    return [bytes(r.bytes).decode("latin-1") for r in zxingcpp.read_barcodes(frame, formats=ZX_FORMATS)]


def raw_pyzbar(frame: Any) -> list[str]:
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    symbols = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128]
    return [r.data.decode("latin-1") for r in pyzbar.decode(gray, symbols=symbols)]


QR_DETECTOR = cv2.QRCodeDetector()
BARCODE_DETECTOR = cv2.barcode.BarcodeDetector()


def opencv(frame: Any) -> list[str]:
    texts = []
    qr, _, _ = QR_DETECTOR.detectAndDecode(frame)
    if qr:
        texts.append(qr)
    ok, decoded, _types, _points = BARCODE_DETECTOR.detectAndDecodeWithType(frame)
    texts += [t for t in decoded or () if t] if ok else []
    return texts


PIPELINE = FrameDecoder()


def ours(frame: Any) -> list[str]:
    return [d.text for d in PIPELINE.decode(frame)]


DECODERS: dict[str, Decoder] = {"raw zxing-cpp": raw_zxing, "raw pyzbar": raw_pyzbar, "OpenCV": opencv,
                                "ours": ours}  # fmt: skip


def frames(per_level: int, seed: int) -> list[tuple[str, int, Any, str]]:
    """(kind, level, BGR frame, expected text)."""
    out = []
    for level in LEVELS:
        for n in range(per_level):
            given, family, middle, where = PEOPLE[n % len(PEOPLE)]
            payload = aamva_payload(given, family, date(1950 + 7 * n % 60, 1 + n % 12, 1 + n % 28), middle=middle,
                                    jurisdiction=where, licence_number=f"D{seed:03d}{level}{n:04d}")  # fmt: skip
            out.append(("ID card (PDF417)", level, render_card_frame(payload, seed=seed * 10000 + level * 100 + n,
                                                                     level=level).image, payload))  # fmt: skip
        for n in range(max(2, per_level // 3)):
            token = f"CKI1.eyJhIjoiYXBwdC0{seed}{level}{n}IiwicCI6InBhdC0xIn0.q83nZpX1aJ2f4l0uYQ0kX6s9mQ3t6m4Yk0cR8Vt2"
            out.append(("reminder QR", level, render_code_frame(token, "QRCode", seed=seed + level * 50 + n,
                                                                 level=level).image, token))  # fmt: skip
            label = f"PAT-{seed:02d}{level}{n:05d}"
            out.append(("Code 128 label", level, render_code_frame(label, "Code128", seed=seed + level * 70 + n,
                                                                   level=level).image, label))  # fmt: skip
    return out


def run(per_level: int, seed: int) -> dict[str, Any]:
    print(f"rendering {per_level} ID-card frames per level (+ QR / Code 128)…", file=sys.stderr)
    data = frames(per_level, seed)
    for decoder in DECODERS.values():  # warm-up: library initialisation is not a frame's cost
        decoder(data[0][2])
    rows: list[dict[str, Any]] = []
    for kind, level, frame, expected in data:
        row: dict[str, Any] = {"kind": kind, "level": level}
        for name, decoder in DECODERS.items():
            started = time.perf_counter()
            texts = decoder(frame)
            parse_if_id(texts)
            row[name] = {"ms": (time.perf_counter() - started) * 1000, "ok": expected in texts}
        row["stage"] = PIPELINE.decode(frame)[0].stage if row["ours"]["ok"] else "-"
        rows.append(row)
    return {"frames": rows, "per_level": per_level, "seed": seed}


def table(result: dict[str, Any]) -> str:
    rows = result["frames"]
    names = list(DECODERS)
    lines = []
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        lines.append(f"**{kind}** ({len(mine)} frames, 1920×1080)\n")
        lines.append("| decoder | median ms/frame | " + " | ".join(f"level {lv}" for lv in LEVELS) + " | all |")
        lines.append("|---|---:|" + "---:|" * (len(LEVELS) + 1))
        for name in names:
            median = statistics.median(r[name]["ms"] for r in mine)
            cells = []
            for level in LEVELS:
                at = [r for r in mine if r["level"] == level]
                cells.append(f"{sum(r[name]['ok'] for r in at)}/{len(at)}")
            total = sum(r[name]["ok"] for r in mine)
            lines.append(f"| {name} | {median:.1f} | " + " | ".join(cells) + f" | {100 * total / len(mine):.0f} % |")
        raw = statistics.median(r["raw zxing-cpp"]["ms"] for r in mine)
        our = statistics.median(r["ours"]["ms"] for r in mine)
        per_level = ", ".join(
            f"{lv}: {statistics.median(r['ours']['ms'] for r in mine if r['level'] == lv):.0f}" for lv in LEVELS
        )
        lines.append(f"\nours / raw zxing-cpp median: {our / raw:.2f}×; ours median ms by level: {per_level}\n")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-level", type=int, default=12, help="ID-card frames per level (default 12)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.per_level, args.seed)
    text = table(result)
    print(text)
    out = REPO / "bench" / "results" / "barcode_decode.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, "table": text}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
