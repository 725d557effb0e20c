"""Helpers for the insurance-card tests: the generated photo set (tests/fixtures/insurance, see its generate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "insurance"


def card(manifest: dict[str, Any], number: int) -> dict[str, Any]:
    return manifest["cards"][number]


def photo(manifest: dict[str, Any], number: int, level: str = "mild", side: str = "front") -> tuple[Any, Any]:
    """(BGR frame, true corners) of one photo."""
    entry = next(p for p in card(manifest, number)["photos"] if p["level"] == level and p["side"] == side)
    image = cv2.imread(str(FIXTURES / entry["file"]), cv2.IMREAD_COLOR)
    assert image is not None
    return image, entry["corners"]
