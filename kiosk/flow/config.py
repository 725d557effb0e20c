"""The practice's rules as the flow sees them. Built from kiosk.settings by the runtime; pure data here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from zoneinfo import ZoneInfo

from .types import Money


@dataclass(frozen=True)
class StepSwitches:
    """Each optional step can be switched off per practice."""

    demographics: bool = True
    insurance: bool = True
    forms: bool = True
    consents: bool = True
    payment: bool = True
    ticket: bool = True


@dataclass(frozen=True)
class FlowConfig:
    kiosk_id: str = "kiosk-1"
    clinic_name: str = "Demo Clinic"
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("America/New_York"))
    languages: tuple[str, ...] = ("en", "es")
    default_language: str = "en"
    steps: StepSwitches = field(default_factory=StepSwitches)
    # Check-in window around the appointment start.
    early_minutes: int = 60
    late_minutes: int = 15
    # Who must see the desk.
    desk_visit_types: frozenset[str] = frozenset()
    desk_provider_ids: frozenset[str] = frozenset()
    balance_limit: Money | None = None  # balance above this -> desk; None = ignore balances
    # Money.
    copay_by_visit_type: dict[str, Money] = field(default_factory=dict)
    default_copay: Money | None = None  # when neither coverage nor table names one
    self_pay_by_visit_type: dict[str, Money] = field(default_factory=dict)
    default_self_pay: Money | None = None
    currency: str = "USD"
    # Where to wait: by location id, else the default.
    wait_area_by_location: dict[str, str] = field(default_factory=dict)
    default_wait_area: str = "the waiting room"
    # Identification.
    max_identify_attempts: int = 3
    reminder_secret: bytes = b""  # HMAC key for reminder QR tokens; empty = QR check-in off
    reminder_max_age_days: int = 14
    # Forms: one question per page instead of one top-level item per page (STEPS.md, forms).
    simple_forms: bool = False
    # Tablet mode (STEPS.md, "Tablet mode"): staff start each session; no payment, no ticket.
    tablet: bool = False
