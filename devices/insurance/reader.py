"""The real insurance-card reader (``backend = "tesseract"``): OpenCV card finder + gates, tesserocr OCR,
zxing-cpp for a barcode on the card.

Options (``[devices.insurance]``):

- ``tessdata``: folder holding ``eng.traineddata`` (default: Debian's ``/usr/share/tesseract-ocr/5/tessdata``).
- ``lang``: tesseract language(s), default ``"eng"``.
- ``min_fill`` / ``min_sharpness`` / ``max_glare``: the capture gates (see gates.py).
- ``barcodes``: also decode a barcode on the card (default true).
- ``jpeg_quality``: of the flattened card image kept for the back-end (default 90).

The OCR engine (~30 MB) is loaded on the first reading, not at start-up; whether it CAN load (tesserocr
installed, language data present) is checked when the reader is built, so a broken install fails at start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from devices.errors import DeviceOperationError, DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.insurance.barcode_fields import barcode_fields
from devices.insurance.base import CardBarcode, CardSide, CopayValue, FieldValue, Quality
from devices.insurance.fields import Candidate
from devices.insurance.finder import find_card, to_bgr, warp_card
from devices.insurance.gates import GateLimits, assess
from devices.options import OptionReader
from kiosk.flow.types import CardImage

log = logging.getLogger(__name__)


def jpeg(image: Any, quality: int = 90) -> CardImage:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DeviceOperationError("card image could not be encoded")
    return CardImage(side="", content_type="image/jpeg", data=bytes(data))


def side_image(side: str, image: Any, quality: int) -> CardImage:
    encoded = jpeg(image, quality)
    return CardImage(side=side, content_type=encoded.content_type, data=encoded.data)


def decode_barcode(card: Any) -> CardBarcode | None:
    from devices.barcode.decode import decode_image

    found = decode_image(card, ("PDF417", "QRCode", "Code128"), use_zbar=False)
    return CardBarcode(found[0].format, found[0].text) if found else None


def with_barcode(fields: dict[str, Candidate], barcode: CardBarcode | None) -> dict[str, Candidate]:
    """A barcode's fields confirm (confidence 0.99) or fill in what OCR read; they replace an OCR value only
    when OCR was unsure (< 0.6)."""
    if barcode is None:
        return fields
    merged = dict(fields)
    for name, cand in barcode_fields(barcode.text).items():
        current = merged.get(name)
        if current is None or current.value.upper() == cand.value.upper() or current.confidence < 0.6:
            merged[name] = cand
    return merged


class TesseractCardReader:
    backend = "tesseract"

    def __init__(self, *, tessdata: str | None = None, lang: str = "eng", limits: GateLimits | None = None,
                 barcodes: bool = True, jpeg_quality: int = 90) -> None:
        from devices.insurance.ocr import find_tessdata

        self._tessdata = find_tessdata(tessdata)
        self._lang = lang
        self.limits = limits or GateLimits()
        self._barcodes = barcodes
        self._quality = jpeg_quality
        self._engine: Any = None
        self._engine_lock = threading.Lock()
        self._last_error = ""

    @classmethod
    def _parse(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = OptionReader("insurance", cls.backend, options)
        found, tessdata = opts.get_raw("tessdata")
        if found and (not isinstance(tessdata, str) or not tessdata):
            raise opts.error("tessdata", tessdata, "a folder holding eng.traineddata")
        lang = opts.get_str("lang", "eng")
        limits = GateLimits(
            min_fill=opts.get_float("min_fill", GateLimits.min_fill, minimum=0.05, maximum=0.95),
            min_sharpness=opts.get_float("min_sharpness", GateLimits.min_sharpness, minimum=0.0, maximum=1e6),
            max_glare=opts.get_float("max_glare", GateLimits.max_glare, minimum=0.0, maximum=1.0),
        )
        barcodes = opts.get_bool("barcodes", True)
        quality = opts.get_int("jpeg_quality", 90, minimum=50, maximum=100)
        opts.finish()
        return {"tessdata": tessdata if found else None, "lang": lang, "limits": limits, "barcodes": barcodes,
                "jpeg_quality": quality}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TesseractCardReader:
        kwargs = cls._parse(options)
        try:
            import tesserocr  # noqa: F401  (fail at start-up, not at the first patient)
        except ImportError as exc:
            raise DeviceSetupError("insurance backend 'tesseract' needs the Python package 'tesserocr': "
                                   "pip install 'open-checkin-kiosk[insurance]'") from exc
        return cls(**kwargs)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        cls._parse(options)

    def describe(self) -> str:
        return f"tesseract ({self._lang})"

    # -- CardReader ---------------------------------------------------------------------------------------
    def assess(self, frame: Any) -> Quality:
        return assess(frame, self.limits)

    def read_side(self, side: str, frames: Sequence[Any]) -> CardSide:
        started = time.perf_counter()
        cards = []
        for frame in frames:
            quad = find_card(frame)
            if quad is not None:
                cards.append(warp_card(frame, quad))
        if not cards:  # manual capture of something that is not card-shaped: keep the photo, read nothing
            image = side_image(side, to_bgr(np.asarray(frames[0])), self._quality)
            return CardSide(side, image, found=False, seconds=time.perf_counter() - started)
        from devices.insurance.ocr import read_side

        try:
            reading = read_side(self._get_engine(), cards)
        except DeviceSetupError:
            raise
        except Exception as exc:
            self._last_error = type(exc).__name__
            raise DeviceOperationError(f"OCR failed ({type(exc).__name__})") from exc
        card = cv2.rotate(cards[0], cv2.ROTATE_180) if reading.rotated else cards[0]
        barcode = decode_barcode(card) if self._barcodes else None
        fields = with_barcode(reading.fields, barcode)
        return CardSide(
            side=side,
            image=side_image(side, card, self._quality),
            fields={k: FieldValue(v.value, v.confidence) for k, v in fields.items()},
            copays=tuple(CopayValue(c.label, c.cents, c.confidence) for c in reading.copays),
            barcode=barcode,
            found=True,
            seconds=time.perf_counter() - started,
        )

    def health(self) -> DeviceHealth:
        return DeviceHealth("insurance", self.backend, HealthStatus.OK, last_error=self._last_error)

    def stop(self) -> None:
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    def _get_engine(self) -> Any:
        with self._engine_lock:
            if self._engine is None:
                from devices.insurance.ocr import TesseractEngine

                self._engine = TesseractEngine(self._tessdata, self._lang)
            return self._engine
