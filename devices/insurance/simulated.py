"""A simulated insurance-card reader for the demo and tests: the real finder and gates (so guidance and
auto-capture behave as on a kiosk), canned OCR fields instead of tesseract.

Options (``[devices.insurance]`` with ``backend = "simulated"``):

- ``fields``: a table of what the front "reads" (``member_id``, ``group_number``, ``payer_name``,
  ``plan_name``, ``subscriber_name``, ``rx_bin``, ``rx_pcn``, ``rx_group``); default a fictional card.
- ``confidence``: of every field (default 0.95).
- ``find``: ``"real"`` (default: OpenCV finds the card; a frame without one gives ``card_not_found``) or
  ``"always"`` (every frame is a well-held card: a test pattern camera can drive the whole step).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from devices.health import DeviceHealth, HealthStatus
from devices.insurance.base import CardSide, FieldValue, Guidance, Quality
from devices.insurance.fields import FIELDS
from devices.options import OptionReader

DEMO_CARD = {
    "payer_name": "Harbor Point Health",
    "plan_name": "Select PPO",
    "member_id": "HPH123456789",
    "group_number": "GR20417",
    "subscriber_name": "ALEX DEMO",
    "rx_bin": "610014",
    "rx_pcn": "HPRX",
    "rx_group": "HPRX01",
}


class SimulatedCardReader:
    backend = "simulated"

    def __init__(self, fields: Mapping[str, str] | None = None, *, confidence: float = 0.95,
                 find: str = "real") -> None:
        if find not in ("real", "always"):
            raise ValueError("find must be 'real' or 'always'")
        self.fields = dict(DEMO_CARD if fields is None else fields)
        self.confidence = confidence
        self.find = find
        self.reads = 0

    @classmethod
    def _parse(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = OptionReader("insurance", cls.backend, options)
        found, raw = opts.get_raw("fields")
        if found and (not isinstance(raw, Mapping) or not all(
            k in FIELDS and isinstance(v, str) for k, v in raw.items()
        )):
            raise opts.error("fields", raw, "a table of " + ", ".join(FIELDS) + " = text")
        confidence = opts.get_float("confidence", 0.95, minimum=0.0, maximum=1.0)
        find = opts.get_str("find", "real", choices=("real", "always"))
        opts.finish()
        return {"fields": dict(raw) if found else None, "confidence": confidence, "find": find}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedCardReader:
        return cls(**cls._parse(options))

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        cls._parse(options)

    def assess(self, frame: Any) -> Quality:
        if self.find == "always":
            h, w = frame.shape[:2]
            corners = ((0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0))
            return Quality(Guidance.OK, corners, 1.0, 1000.0, 0.0, (w, h))
        from devices.insurance.gates import assess

        return assess(frame)

    def read_side(self, side: str, frames: Sequence[Any]) -> CardSide:
        from devices.insurance.finder import find_card, warp_card
        from devices.insurance.reader import side_image

        started = time.perf_counter()
        self.reads += 1
        frame = frames[0]
        quad = find_card(frame) if self.find == "real" else None
        card = warp_card(frame, quad) if quad is not None else frame
        found = quad is not None or self.find == "always"
        values = self.fields if side == "front" and found else {}
        return CardSide(
            side=side,
            image=side_image(side, card, 90),
            fields={k: FieldValue(v, self.confidence) for k, v in values.items() if v},
            found=found,
            seconds=time.perf_counter() - started,
        )

    def health(self) -> DeviceHealth:
        return DeviceHealth("insurance", self.backend, HealthStatus.OK)

    def stop(self) -> None:
        return None
