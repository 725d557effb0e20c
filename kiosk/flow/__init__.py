"""The check-in flow: pure Python, no Kivy, no network, no hardware (DESIGN §3; contract in STEPS.md)."""

from .aamva import AamvaError, IdDocument
from .aamva import parse as parse_aamva
from .config import FlowConfig, StepSwitches
from .idle import IdleTimer
from .machine import CheckinFlow
from .matching import exact_matches, normalize_name
from .ports import (
    CheckinSink,
    Clock,
    Directory,
    PaymentTerminal,
    PortError,
    PrinterFailure,
    QueueNumbers,
    Rejected,
    ServiceUnavailable,
    StorageError,
    TicketPrinter,
)
from .questionnaire import Form, read_questionnaire
from .reminder import ReminderToken, TokenError, make_token, verify_token
from .results import Done, Result, Show, Step, ToDesk
from .session import Session

__all__ = [
    "AamvaError",
    "CheckinFlow",
    "CheckinSink",
    "Clock",
    "Directory",
    "Done",
    "FlowConfig",
    "Form",
    "IdDocument",
    "IdleTimer",
    "PaymentTerminal",
    "PortError",
    "PrinterFailure",
    "QueueNumbers",
    "Rejected",
    "ReminderToken",
    "Result",
    "ServiceUnavailable",
    "Session",
    "Show",
    "Step",
    "StepSwitches",
    "StorageError",
    "TicketPrinter",
    "ToDesk",
    "TokenError",
    "exact_matches",
    "make_token",
    "normalize_name",
    "parse_aamva",
    "read_questionnaire",
    "verify_token",
]
