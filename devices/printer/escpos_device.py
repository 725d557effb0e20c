"""What every real ESC/POS printer backend shares: render a job, ask the printer's state, send, report.

A job is rendered first into python-escpos's ``Dummy`` (with the configured printer profile), so the printer
receives one complete byte string that starts with ``ESC @`` (initialize: nothing left over from an earlier,
interrupted job). Then, on a fresh connection per job (a printer that was switched off and on again is simply
reached next time):

1. ask ``DLE EOT 1/2/4`` when the backend can read answers (network, USB, serial): out of paper, cover open
   or offline stops here, before any byte of the ticket is sent;
2. send the job;
3. ask once more: a printer that ran out of paper during the ticket says so at once.

Every failure becomes ``PrinterFailure(reason=...)`` with a reason the flow and the status screen understand
("offline", "out_of_paper", "cover_open", "error"), so the patient sees the number on screen instead.
:meth:`health` asks the printer the same questions (it blocks up to ``timeout``: call it off the UI thread).

Subclasses implement :meth:`_connection` (an unopened python-escpos printer object) and name their
``backend``; :func:`common_options` reads the options they share.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.errors import DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.printer import escpos_render
from devices.printer.escpos_setup import load_escpos, profile_names
from devices.printer.receipt_layout import Receipt, build_receipt_layout
from devices.printer.status import (
    QUERY_OFFLINE_CAUSE,
    QUERY_ONLINE,
    QUERY_PAPER,
    PrinterStatus,
    decode,
    is_status_byte,
)
from devices.printer.ticket_layout import TicketLayout, build_layout
from kiosk.flow.ports import PrinterFailure
from kiosk.flow.types import Ticket

log = logging.getLogger(__name__)

DEFAULT_PROFILE = "TM-T20II"
ESC_INIT = b"\x1b@"


@dataclass(frozen=True)
class CommonOptions:
    profile: str
    timezone: tzinfo | None
    cache_dir: Path | None
    status: bool
    timeout: float
    status_timeout: float = 1.0


def known_profiles() -> list[str]:
    """python-escpos's printer profiles, read from its capabilities.json (no import, no cache folder)."""
    spec = importlib.util.find_spec("escpos")
    if spec is None or spec.origin is None:
        return []
    try:
        data = json.loads((Path(spec.origin).parent / "capabilities.json").read_text(encoding="utf-8"))
        return sorted(data["profiles"])
    except (OSError, ValueError, KeyError):
        return []


def common_options(opts: OptionReader, *, status_default: bool) -> CommonOptions:
    """Options every escpos backend takes: profile, timezone, cache_dir, status, timeout, status_timeout."""
    profile = opts.get_str("profile", DEFAULT_PROFILE)
    profiles = known_profiles()
    if profiles and profile not in profiles:
        raise DeviceSetupError(
            f"printer backend {opts.backend!r}: unknown escpos profile {profile!r}; known profiles: "
            f"{', '.join(profiles)}"
        )
    zone_name = opts.get_optional_str("timezone")
    cache_dir = opts.get_optional_path("cache_dir")
    status = opts.get_bool("status", status_default)
    timeout = opts.get_float("timeout", 5.0, minimum=0.1, maximum=120.0)
    status_timeout = opts.get_float("status_timeout", 1.0, minimum=0.01, maximum=30.0)
    zone: tzinfo | None = None
    if zone_name is not None:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise opts.error("timezone", zone_name, "an IANA timezone such as 'America/New_York'") from None
    return CommonOptions(profile, zone, cache_dir, status, timeout, status_timeout)


class EscposPrinter:
    """Base of the network, USB, serial and file printers (not registered itself)."""

    backend: ClassVar[str] = "escpos"

    def __init__(self, common: CommonOptions, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._escpos: Any = load_escpos(common.cache_dir)
        try:
            self._escpos.Dummy(profile=common.profile)
        except KeyError:
            raise DeviceSetupError(
                f"printer backend {self.backend!r}: unknown escpos profile {common.profile!r}; "
                f"known profiles: {', '.join(profile_names(common.cache_dir))}"
            ) from None
        self.profile = common.profile
        self.timeout = common.timeout
        self.status_timeout = common.status_timeout
        self._timezone = common.timezone
        self._query_status = common.status
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failure = ""  # reason of the last failed job, cleared by a good job or a healthy answer
        self.last_status = PrinterStatus()
        self.jobs = 0

    # -- for subclasses -----------------------------------------------------------------------------------
    def _connection(self) -> Any:
        """A new, unopened python-escpos printer object for one job."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the printer is (for `kiosk doctor`; configuration, never personal data)."""
        return ""

    def _read_answer(self, printer: Any) -> bytes:
        """The printer's answer to a status query, waiting at most ``status_timeout``."""
        return bytes(printer._read())

    # -- PrinterDevice protocol ---------------------------------------------------------------------------
    def print_ticket(self, ticket: Ticket) -> None:
        self._print(build_layout(ticket, self._timezone), f"ticket {ticket.queue_number}")

    def print_receipt(self, receipt: Receipt) -> None:
        """Print the receipt of an approved payment. Raises PrinterFailure like print_ticket."""
        self._print(build_receipt_layout(receipt, self._timezone), f"receipt {receipt.payment.reference}")

    def print_layout(self, layout: TicketLayout, job: str = "test print") -> None:
        """Print any layout (the status screen's test print)."""
        self._print(layout, job)

    def render(self, layout: TicketLayout) -> bytes:
        """The exact bytes a job sends for ``layout``."""
        dummy: Any = self._escpos.Dummy(profile=self.profile)  # fresh: its code-page state starts clean
        escpos_render.render(layout, dummy)
        return ESC_INIT + bytes(dummy.output)

    def health(self) -> DeviceHealth:
        with self._lock:
            try:
                printer = self._open()
            except PrinterFailure as exc:
                return self._health(HealthStatus.FAULT, exc.reason)
            try:
                status = self._ask(printer)
            except PrinterFailure as exc:
                return self._health(HealthStatus.FAULT, exc.reason)
            finally:
                _close(printer)
            if status.problem:
                return self._health(HealthStatus.FAULT, status.problem)
            if status.answered or not self._query_status:
                self._failure = ""  # the printer says it is fine again (paper refilled, cover closed)
            if self._failure:
                return self._health(HealthStatus.FAULT, self._failure)
            if status.paper_low:
                return self._health(HealthStatus.DEGRADED, "paper_low")
            if self._query_status and not status.answered:
                return self._health(HealthStatus.OK, "status_unknown")
            return self._health(HealthStatus.OK, "")

    # -- internals ----------------------------------------------------------------------------------------
    def _print(self, layout: TicketLayout, job: str) -> None:
        data = self.render(layout)
        started = self._monotonic()
        with self._lock:
            try:
                self._send(data)
            except PrinterFailure as exc:
                self._failure = exc.reason
                log.warning("%s not printed: %s (%s)", job, exc.reason, self.backend)
                raise
            self._failure = ""
            self.jobs += 1
        log.info("%s printed (%d bytes, %.0f ms, %s)", job, len(data), (self._monotonic() - started) * 1000,
                 self.backend)

    def _send(self, data: bytes) -> None:
        printer = self._open()
        try:
            before = self._ask(printer)
            if before.problem:
                raise PrinterFailure(f"printer cannot print: {before.problem}", reason=before.problem)
            try:
                printer._raw(data)
            except Exception as exc:
                raise self._failure_from(exc, "write") from exc
            after = self._ask(printer)
            if after.problem:
                raise PrinterFailure(f"printer stopped: {after.problem}", reason=after.problem)
        finally:
            _close(printer)

    def _open(self) -> Any:
        printer = self._connection()
        try:
            printer.open()
        except Exception as exc:
            _close(printer)
            raise self._failure_from(exc, "open") from exc
        return printer

    def _ask(self, printer: Any) -> PrinterStatus:
        """DLE EOT 1 (and 2 when offline) and 4. A printer that does not answer the first query is not asked
        more (its status stays unknown): one ``status_timeout`` per connection at most."""
        if not self._query_status:
            return PrinterStatus()
        online = self._query(printer, QUERY_ONLINE)
        if online is None:
            self.last_status = PrinterStatus()
            return self.last_status
        cause = None
        if online is not None and online & 0x08:
            cause = self._query(printer, QUERY_OFFLINE_CAUSE)
        paper = self._query(printer, QUERY_PAPER)
        status = decode(online, cause, paper)
        self.last_status = status
        return status

    def _query(self, printer: Any, query: bytes) -> int | None:
        try:
            printer._raw(query)
            answer = self._read_answer(printer)
        except NotImplementedError:
            return None
        except TimeoutError:
            return None
        except Exception as exc:
            if _is_timeout(exc):
                return None
            raise self._failure_from(exc, "status") from exc
        for value in bytes(answer or b""):
            if is_status_byte(value):
                return value
        return None

    def _failure_from(self, exc: BaseException, phase: str) -> PrinterFailure:
        name = type(exc).__name__
        offline = isinstance(exc, OSError) or name in _OFFLINE_ERRORS or _is_timeout(exc)
        reason = "offline" if offline else "error"
        log.warning("printer %s failed during %s: %s", self.backend, phase, name)
        return PrinterFailure(f"printer {phase} failed: {name}", reason=reason)

    def _health(self, status: HealthStatus, detail: str) -> DeviceHealth:
        return DeviceHealth("printer", self.backend, status, detail, last_error=self._failure)


# escpos / pyusb / pyserial exceptions that mean "cannot reach the printer" (matched by name: the libraries
# are optional and imported lazily).
_OFFLINE_ERRORS = frozenset(
    {"DeviceNotFoundError", "USBNotFoundError", "USBError", "USBTimeoutError", "SerialException",
     "SerialTimeoutException", "PortNotOpenError", "NoBackendError"}
)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__ in ("USBTimeoutError", "SerialTimeoutException")


def _close(printer: Any) -> None:
    try:
        printer.close()
    except Exception as exc:  # a half-open connection must not hide the real outcome
        log.debug("printer close failed: %s", type(exc).__name__)
