"""Insurance-card reader Protocol and its data: quality of a live frame, and what was read from a card.

A reader (``[devices.insurance]``) is given camera frames by its user (the capture screen, through
:class:`devices.insurance.capture.CardCapture`); it owns no camera. ``assess`` is fast (every preview frame,
≥ 15 fps at 720p); ``read`` is slow (find + warp + OCR, ~0.3–1 s per side) and runs on a worker thread.
Field values, names and barcode text are personal data: they stay out of ``repr`` and out of logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from devices.health import DeviceHealth
from kiosk.flow.types import CardImage

#: the fields ``kiosk read-card`` prints, in order (plus ``plan_name`` in the reading itself)
CARD_FIELDS = ("member_id", "group_number", "payer_name", "subscriber_name", "rx_bin", "rx_pcn", "rx_group")


class Guidance(StrEnum):
    """What the patient should do now (message keys: the UI owns the words)."""

    OK = "ok"
    CARD_NOT_FOUND = "card_not_found"
    MOVE_CLOSER = "move_closer"
    HOLD_STILL = "hold_still"
    TILT_FOR_GLARE = "tilt_for_glare"


@dataclass(frozen=True)
class Quality:
    """One frame judged for capture. ``corners`` (TL, TR, BR, BL in frame pixels) let the UI draw the
    outline it found; ``None`` when no card was found."""

    guidance: Guidance
    corners: tuple[tuple[float, float], ...] | None = None
    fill: float = 0.0  # card width / frame width
    sharpness: float = 0.0  # variance of the Laplacian on the flattened card (small copy)
    glare: float = 0.0  # share of the card covered by the largest washed-out spot
    frame_size: tuple[int, int] = (0, 0)

    @property
    def found(self) -> bool:
        return self.corners is not None


@dataclass(frozen=True)
class FieldValue:
    value: str = field(repr=False)
    confidence: float  # 0..1

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "confidence": round(self.confidence, 2)}


@dataclass(frozen=True)
class CopayValue:
    label: str  # "PCP", "Office Visit", "Specialist", "Urgent Care", "ER", "Copay"
    cents: int = field(repr=False)
    confidence: float


@dataclass(frozen=True)
class CardBarcode:
    format: str  # "PDF417" | "QRCode" | "Code128"
    text: str = field(repr=False)


@dataclass(frozen=True)
class CardSide:
    """One side as captured: the flattened card image (JPEG, what goes to the back-end) and what it said."""

    side: str  # "front" | "back"
    image: CardImage
    fields: dict[str, FieldValue] = field(default_factory=dict, repr=False)
    copays: tuple[CopayValue, ...] = field(default=(), repr=False)
    barcode: CardBarcode | None = field(default=None, repr=False)
    found: bool = True  # False: no card outline was found (manual capture): the image is the whole frame
    seconds: float = 0.0  # time spent finding + reading


@dataclass(frozen=True)
class CardReading:
    """Front and back merged: per field the more confident side (front first on ties)."""

    fields: dict[str, FieldValue] = field(default_factory=dict, repr=False)
    copays: tuple[CopayValue, ...] = field(default=(), repr=False)
    barcodes: tuple[CardBarcode, ...] = field(default=(), repr=False)
    images: tuple[CardImage, ...] = field(default=(), repr=False)

    def value(self, name: str) -> str:
        item = self.fields.get(name)
        return item.value if item is not None else ""

    def as_json(self) -> dict[str, Any]:
        """``kiosk read-card``'s object: every field of CARD_FIELDS, ``{"value", "confidence"}`` or null."""
        return {name: (self.fields[name].as_json() if name in self.fields else None) for name in CARD_FIELDS}


@runtime_checkable
class CardReader(Protocol):
    def assess(self, frame: Any) -> Quality:
        """Judge one BGR frame for capture (fast; any thread)."""
        ...

    def read_side(self, side: str, frames: Sequence[Any]) -> CardSide:
        """Find, flatten and read one side from one or more frames of it (slow: call off the UI thread)."""
        ...

    def health(self) -> DeviceHealth: ...

    def stop(self) -> None: ...


def merge_sides(sides: Sequence[CardSide]) -> CardReading:
    fields: dict[str, FieldValue] = {}
    for side in sides:
        for name, item in side.fields.items():
            if name not in fields or item.confidence > fields[name].confidence:
                fields[name] = item
    copays: dict[str, CopayValue] = {}
    for side in sides:
        for copay in side.copays:
            copays.setdefault(copay.label, copay)
    return CardReading(
        fields=fields,
        copays=tuple(copays.values()),
        barcodes=tuple(s.barcode for s in sides if s.barcode is not None),
        images=tuple(s.image for s in sides),
    )
