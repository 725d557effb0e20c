"""Camera Protocol: frames are captured on the backend's own thread; consumers poll the latest frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from devices.health import DeviceHealth


@dataclass(frozen=True)
class Frame:
    image: Any  # numpy.ndarray, HxWx3 uint8, BGR (OpenCV order)
    index: int  # increases with each new frame
    timestamp: float  # time.monotonic() when captured


@runtime_checkable
class Camera(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def latest_frame(self) -> Frame | None:
        """The newest frame, or None before the first one. Never blocks."""
        ...

    def health(self) -> DeviceHealth: ...
