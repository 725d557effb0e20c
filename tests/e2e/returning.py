"""Shared by the e2e tests: the real runtime on the seeded sandbox, and a returning patient's taps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devices.barcode.samples import aamva_payload
from kiosk.flow.results import Result, Show, Step
from kiosk.runtime.build import Runtime, build_runtime
from kiosk.runtime.clock import FixedClock
from kiosk.settings import DEFAULT_CONFIG, load_settings
from portal_client.sandbox.seed import DEMO_RETURNING, SeedInfo


def e2e_runtime(seed: SeedInfo, base_url: str, tmp_path: Path, **overrides: Any) -> Runtime:
    """config/default.toml against ``base_url`` with a temporary data folder; the test drains the outbox."""
    sections: dict[str, Any] = {
        "backend": {"base_url": base_url, "timeout_s": 5},
        "kiosk": {"data_dir": str(tmp_path / "data")},
        "outbox": {"key_file": str(tmp_path / "keys" / "outbox.key")},
        "sync": {"enabled": False},
    }
    for name, values in overrides.items():
        sections.setdefault(name, {}).update(values)
    settings = load_settings(DEFAULT_CONFIG).with_overrides(**sections)
    return build_runtime(settings, clock=FixedClock(seed.now))


def answer(result: Show) -> dict[str, Any]:
    """What the demo's returning patient (nothing to change, a co-pay) taps on each step."""
    match result.step:
        case Step.CONFIRM_APPOINTMENT:
            chosen = next(a for a in result.data["appointments"] if a["selectable"])
            return {"action": "confirm", "appointment_id": chosen["id"]}
        case Step.DEMOGRAPHICS:
            return {"action": "confirm"}
        case Step.INSURANCE:
            return {"action": "same"}
        case Step.PAYMENT:
            return {"action": "pay"}
        case Step.TICKET:
            return {"action": "done"}
    raise AssertionError(f"unexpected step {result.step} errors={dict(result.errors)}")


def scan_returning_patient(runtime: Runtime) -> Result:
    """Start a session and scan the returning patient's ID barcode."""
    p = DEMO_RETURNING
    runtime.flow.start()
    return runtime.flow.submit(
        {"action": "barcode", "text": aamva_payload(given=p.given, family=p.family, dob=p.birth_date)}
    )
