"""Smart-card readers: card insert/remove events with the card's UID (staff badges)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from devices.health import DeviceHealth


class CardEventKind(StrEnum):
    INSERTED = "inserted"
    REMOVED = "removed"
    READER_ADDED = "reader_added"
    READER_REMOVED = "reader_removed"


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    reader: str
    uid: str = field(default="", repr=False)  # upper-case hex, e.g. "04A1B2C3"; empty when unknown
    atr: str = ""


CardCallback = Callable[[CardEvent], None]


@runtime_checkable
class CardReader(Protocol):
    def start(self, on_event: CardCallback) -> None:
        """Begin watching; the callback runs on the reader's thread (marshal before UI use)."""
        ...

    def stop(self) -> None: ...

    def readers(self) -> list[str]: ...

    def health(self) -> DeviceHealth: ...
