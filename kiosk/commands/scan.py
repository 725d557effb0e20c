"""`kiosk decode IMAGE...` and `kiosk parse-id FILE|-`: check barcode images and ID payloads by hand.

``decode`` prints one JSON list with an object per barcode found (``format``, ``text``, ``position``: the four
corners [x, y] from top-left, clockwise) across the images, in order; exit 2 when an image cannot be read.
``parse-id`` prints the AAMVA fields of a payload file (or standard input) as one JSON object; a refused
payload prints ``{"error": "<reason>"}`` and exits 2. Both print barcode content to standard output because
that is what they are for: run them on test cards, never pipe them into logs.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_PAYLOAD_BYTES = 1024 * 1024


def register(sub: Any) -> None:
    """Add `decode` and `parse-id` to the `kiosk` sub-parsers."""
    p = sub.add_parser("decode", help="decode the barcodes in image files (prints a JSON list)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--formats", default="PDF417,QRCode,Code128", help="comma-separated (default: %(default)s)")
    p.set_defaults(func=cmd_decode)
    p = sub.add_parser("parse-id", help="parse an AAMVA driver's licence/ID payload (prints a JSON object)")
    p.add_argument("file", metavar="FILE|-", help="the raw payload, or - for standard input")
    p.set_defaults(func=cmd_parse_id)


def read_image(data: bytes) -> Any:
    """Encoded image bytes → uint8 grey/BGR numpy image, or None when they are no image OpenCV reads."""
    import cv2
    import numpy as np

    if not data:
        return None
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    if image is None or image.size == 0:
        return None
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        return None
    if image.ndim == 3 and image.shape[2] == 4:  # transparent background: composite on white paper
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return image


def decode_bytes(data: bytes, formats: tuple[str, ...]) -> list[dict[str, Any]] | None:
    """The JSON objects for the barcodes in one encoded image, or None when it cannot be read."""
    from devices.barcode.decode import decode_image

    image = read_image(data)
    if image is None:
        return None
    return [
        {"format": d.format, "text": d.text, "position": [[x, y] for x, y in d.position]}
        for d in decode_image(image, formats)
    ]


def cmd_decode(args: argparse.Namespace) -> int:
    from devices.barcode.decode import check_formats

    try:
        formats = check_formats(f.strip() for f in str(args.formats).split(",") if f.strip())
    except ValueError as exc:
        print(f"kiosk decode: {exc}", file=sys.stderr)
        return 2
    found: list[dict[str, Any]] = []
    failed = 0
    for name in args.images:
        path = Path(name)
        try:
            data = path.read_bytes() if path.stat().st_size <= MAX_IMAGE_BYTES else b""
        except OSError as exc:
            print(f"kiosk decode: {name}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
            failed += 1
            continue
        result = decode_bytes(data, formats)
        if result is None:
            print(f"kiosk decode: {name}: not an image OpenCV can read", file=sys.stderr)
            failed += 1
            continue
        found.extend(result)
    print(json.dumps(found, ensure_ascii=False))
    return 2 if failed else 0


def parse_id_bytes(raw: bytes, today: date) -> tuple[int, dict[str, Any]]:
    """(exit code, JSON object) for one payload."""
    from kiosk.flow.aamva import AamvaError, parse_bytes

    try:
        return 0, parse_bytes(raw[:MAX_PAYLOAD_BYTES], today=today).as_dict()
    except AamvaError as exc:
        return 2, {"error": exc.reason}


def cmd_parse_id(args: argparse.Namespace) -> int:
    try:
        if args.file == "-":
            raw = sys.stdin.buffer.read(MAX_PAYLOAD_BYTES + 1)
        else:
            with open(args.file, "rb") as handle:
                raw = handle.read(MAX_PAYLOAD_BYTES + 1)
    except OSError as exc:
        print(json.dumps({"error": "cannot_read"}))
        print(f"kiosk parse-id: {args.file}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2
    code, result = parse_id_bytes(raw, date.today())
    print(json.dumps(result, ensure_ascii=False))
    return code
