"""Demo practice data for the FHIR sandbox (work in progress: fleshed out in the next commit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import httpx

DEFAULT_TZ = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class SeedInfo:
    base_url: str
    ids: dict[str, str] = field(default_factory=dict)


def seed(base_url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ) -> SeedInfo:
    org = {"resourceType": "Organization", "name": "Riverside Family Medicine", "active": True}
    response = httpx.post(base_url.rstrip("/") + "/Organization", json=org, timeout=10.0)
    response.raise_for_status()
    return SeedInfo(base_url, {"organization": response.json()["id"]})


def describe(info: SeedInfo) -> str:
    return f"Seeded {len(info.ids)} resources."
