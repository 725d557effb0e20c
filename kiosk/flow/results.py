"""What a flow step returns (Home Assistant config-flow style).

``Show(step, data, errors)``: render this step with this data; ``errors`` maps a field name (or "base")
to a message key. ``Done(summary)``: the check-in is complete. ``ToDesk(reason, summary)``: send the patient
to the front desk, politely; whatever was entered has been kept and handed to the outbox.

The exact ``data`` and input shapes per step are specified in ``kiosk/flow/STEPS.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    WELCOME = "welcome"
    IDENTIFY = "identify"
    IDENTIFY_DOB = "identify_dob"
    CONFIRM_APPOINTMENT = "confirm_appointment"
    DEMOGRAPHICS = "demographics"
    INSURANCE = "insurance"
    FORMS = "forms"
    CONSENTS = "consents"
    PAYMENT = "payment"
    TICKET = "ticket"
    DONE = "done"
    DESK = "desk"
    # Tablet mode (tablet.py): staff choose the patient; the tablet ends locked until staff take it back.
    TABLET_START = "tablet_start"
    HAND_BACK = "hand_back"


@dataclass(frozen=True)
class Show:
    step: Step
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    summary: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ToDesk:
    reason: str
    summary: Mapping[str, Any] = field(default_factory=dict, repr=False)


Result = Show | Done | ToDesk
