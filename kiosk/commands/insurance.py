"""`kiosk read-card FRONT [BACK]`: read an insurance card from photos (not pre-cropped), print one JSON object.

The object has exactly the keys ``member_id``, ``group_number``, ``payer_name``, ``subscriber_name``,
``rx_bin``, ``rx_pcn``, ``rx_group``: each ``{"value": str, "confidence": 0..1}`` or ``null`` when not read.
``--details`` adds ``plan_name``, ``copays`` and ``barcodes``. No card in a photo (or a file that is no image):
exit 2 with ``{"error": "card_not_found" | "unreadable_image"}`` (standard error says which file). The reader is
the real one (OpenCV + tesserocr); it prints card contents to standard output because that is what it is for:
run it on test cards, never pipe it into logs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.commands.scan import MAX_IMAGE_BYTES, read_image


def register(sub: Any) -> None:
    """Add `read-card` to the `kiosk` sub-parsers."""
    p = sub.add_parser("read-card", help="read an insurance card from photos of its front [and back] (JSON)")
    p.add_argument("front", metavar="FRONT")
    p.add_argument("back", metavar="BACK", nargs="?")
    p.add_argument("--details", action="store_true", help="also print plan, copays and barcodes")
    p.add_argument("--tessdata", help="folder holding eng.traineddata (default: Debian's)")
    p.set_defaults(func=cmd_read_card)


def _fail(reason: str, path: str) -> int:
    print(json.dumps({"error": reason}))
    print(f"{path}: {reason.replace('_', ' ')}", file=sys.stderr)
    return 2


def cmd_read_card(args: argparse.Namespace) -> int:
    from devices.errors import DeviceError
    from devices.insurance.base import merge_sides
    from devices.insurance.reader import TesseractCardReader

    images = []
    for path in [args.front] + ([args.back] if args.back else []):
        file = Path(path)
        if not file.is_file() or file.stat().st_size > MAX_IMAGE_BYTES:
            return _fail("unreadable_image", path)
        image = read_image(file.read_bytes())
        if image is None:
            return _fail("unreadable_image", path)
        images.append((path, image))
    try:
        reader = TesseractCardReader(tessdata=args.tessdata)
    except DeviceError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    try:
        sides = []
        for (path, image), side in zip(images, ("front", "back"), strict=False):
            result = reader.read_side(side, [image])
            if not result.found:
                return _fail("card_not_found", path)
            sides.append(result)
    finally:
        reader.stop()
    reading = merge_sides(sides)
    out: dict[str, Any] = reading.as_json()
    if args.details:
        plan = reading.fields.get("plan_name")
        out["plan_name"] = plan.as_json() if plan else None
        out["copays"] = [{"label": c.label, "amount_cents": c.cents, "confidence": round(c.confidence, 2)}
                         for c in reading.copays]
        out["barcodes"] = [{"format": b.format, "text": b.text} for b in reading.barcodes]
    print(json.dumps(out, ensure_ascii=False))
    return 0
