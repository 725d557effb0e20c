"""Tesseract through tesserocr: one engine kept open, words with boxes and confidences, voting over passes.

Why tesserocr and not pytesseract (bench/insurance_ocr.py measures both on the same warped cards): the same
libtesseract gives the same words, but pytesseract starts a ``tesseract`` process per call (model load, PNG
round trip, TSV parsing) while tesserocr keeps the model loaded in-process: ~2.5–3.5× less time per pass,
which is what lets three passes fit in the 1.5 s budget. The wheel bundles libtesseract 5.5; the language
data is Debian's ``tesseract-ocr-eng`` (``/usr/share/tesseract-ocr/5/tessdata``).

``OMP_THREAD_LIMIT=1`` is set before tesseract loads: Debian's build uses OpenMP and runs ~5× slower on a
2-core kiosk without it (RECIPES §6). One engine serves one thread at a time (a lock around each pass).

Passes over a warped card (``WARP_SIZE``): grey with local contrast (CLAHE), a sharpened grey, and an
adaptive-threshold binary, each in sparse-text mode; dark cards are inverted first. When the first pass
reads almost nothing with confidence the card is probably upside down: the passes run on it turned 180°.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before libtesseract is loaded (see module doc)

import cv2
import numpy as np

from devices.errors import DeviceSetupError
from devices.insurance.fields import Candidate, Copay, Word, read_copays, read_fields, vote

log = logging.getLogger(__name__)

TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata")
PSM_SPARSE, PSM_BLOCK = 11, 6
VARIANTS = ("clahe", "sharp", "binary")


def find_tessdata(explicit: str | None = None) -> str:
    options = [explicit] if explicit else [os.environ.get("TESSDATA_PREFIX", ""), *TESSDATA_DIRS]
    for folder in options:
        if folder and (Path(folder) / "eng.traineddata").is_file():
            return folder
    raise DeviceSetupError("tesseract language data (eng.traineddata) not found: apt-get install tesseract-ocr-eng"
                           + (f" (looked in {explicit})" if explicit else ""))


@dataclass(frozen=True)
class SideReading:
    """What OCR read on one side of a card (already voted over its passes)."""

    fields: dict[str, Candidate] = field(repr=False)
    copays: tuple[Copay, ...] = ()
    passes: int = 0
    rotated: bool = False  # the card was read upside down
    seconds: float = 0.0


class TesseractEngine:
    def __init__(self, tessdata: str | None = None, lang: str = "eng") -> None:
        try:
            import tesserocr
        except ImportError as exc:
            raise DeviceSetupError("insurance OCR needs the Python package 'tesserocr': "
                                   "pip install 'open-checkin-kiosk[insurance]'") from exc
        self._tesserocr = tesserocr
        self._api = tesserocr.PyTessBaseAPI(path=find_tessdata(tessdata), lang=lang, psm=PSM_SPARSE,
                                            oem=tesserocr.OEM.LSTM_ONLY)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._api.End()

    def words(self, grey: Any, psm: int = PSM_SPARSE) -> list[Word]:
        """Words of a uint8 grey image: text, confidence 0..100, box."""
        tess = self._tesserocr
        image = np.ascontiguousarray(grey)
        h, w = image.shape[:2]
        out: list[Word] = []
        with self._lock:
            self._api.SetPageSegMode(psm)
            self._api.SetImageBytes(image.tobytes(), w, h, 1, w)
            self._api.Recognize()
            iterator = self._api.GetIterator()
            level = tess.RIL.WORD
            for item in tess.iterate_level(iterator, level):
                text = item.GetUTF8Text(level)
                box = item.BoundingBox(level)
                if text and text.strip() and box is not None:
                    x0, y0, x1, y1 = box
                    out.append(Word(text.strip(), float(item.Confidence(level)), (x0, y0, x1, y1)))
        return out


def to_grey(card_bgr: Any) -> Any:
    """Grey, dark print on light, printed rules and boxes removed (tesseract skips text framed by a box)."""
    grey = cv2.cvtColor(card_bgr, cv2.COLOR_BGR2GRAY) if card_bgr.ndim == 3 else card_bgr
    if float(np.median(grey)) < 110:  # light print on a dark card
        grey = 255 - grey
    background = cv2.medianBlur(grey, 31)
    ink = cv2.subtract(background, grey)  # dark strokes on their local background
    _, mask = cv2.threshold(ink, 40, 255, cv2.THRESH_BINARY)
    w = grey.shape[1]
    rules: Any = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (w // 8, 1)))
    rules = rules | cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, w // 14)))
    if rules.any():
        rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
        grey = np.where(rules > 0, background, grey).astype(np.uint8)
    return grey


def preprocess(grey: Any, variant: str) -> Any:
    if variant == "clahe":
        return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(grey)
    if variant == "sharp":
        soft = cv2.GaussianBlur(grey, (0, 0), 2.0)
        return cv2.addWeighted(grey, 1.8, soft, -0.8, 0)
    if variant == "binary":
        return cv2.adaptiveThreshold(cv2.GaussianBlur(grey, (3, 3), 0), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                     cv2.THRESH_BINARY, 41, 12)
    if variant == "raw":
        return grey
    raise ValueError(f"unknown preprocessing {variant!r}")


def _readable(words: Sequence[Word]) -> int:
    return sum(1 for w in words if w.conf >= 80 and sum(c.isalpha() for c in w.text) >= 3)


def read_side(engine: TesseractEngine, cards: Sequence[Any], variants: Sequence[str] = VARIANTS) -> SideReading:
    """OCR of one side from one or more warped frames of it (BGR), voted over frames × preprocessings."""
    started = time.perf_counter()
    greys = [to_grey(c) for c in cards]
    first = engine.words(preprocess(greys[0], variants[0]))
    rotated = False
    if _readable(first) < 4:
        turned = engine.words(preprocess(cv2.rotate(greys[0], cv2.ROTATE_180), variants[0]))
        if _readable(turned) > _readable(first):
            rotated, first = True, turned
    if rotated:
        greys = [cv2.rotate(g, cv2.ROTATE_180) for g in greys]
    passes = [read_fields(first)]
    copays = read_copays(first)
    for index, grey in enumerate(greys):
        for variant in variants:
            if index == 0 and variant == variants[0]:
                continue
            words = engine.words(preprocess(grey, variant))
            passes.append(read_fields(words))
            if not copays:
                copays = read_copays(words)
    seconds = time.perf_counter() - started
    log.debug("card side read: %d passes in %.0f ms (upside down: %s)", len(passes), seconds * 1000, rotated)
    return SideReading(vote(passes), tuple(copays), len(passes), rotated, seconds)
