"""Device health as every backend reports it (status screen, heartbeat, `kiosk doctor`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # works, needs attention soon (paper low)
    FAULT = "fault"  # cannot work (out of paper, offline, unplugged)
    DISABLED = "disabled"  # not configured on this kiosk


@dataclass(frozen=True)
class DeviceHealth:
    kind: str  # "camera" | "barcode" | "smartcard" | "payment" | "printer"
    backend: str
    status: HealthStatus
    detail: str = ""  # a message key such as "out_of_paper", never personal data
    last_error: str = ""
