"""Barcode sources (camera + decoder, keyboard-wedge, serial, simulated) all deliver Barcode events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from devices.health import DeviceHealth


@dataclass(frozen=True)
class Barcode:
    format: str  # "PDF417" | "QRCode" | "Code128" | ...
    text: str = field(repr=False)  # raw barcode text is personal data: never logged
    source: str = ""  # backend name


BarcodeCallback = Callable[[Barcode], None]


@runtime_checkable
class BarcodeSource(Protocol):
    def start(self, on_barcode: BarcodeCallback) -> None:
        """Begin delivering barcodes; the callback runs on the source's thread (marshal before UI use)."""
        ...

    def stop(self) -> None: ...

    def health(self) -> DeviceHealth: ...
