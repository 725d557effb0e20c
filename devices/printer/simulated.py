"""A receipt printer in software: python-escpos's ``Dummy`` with a real printer profile.

Every ticket is rendered to real ESC/POS bytes (``last_bytes``, ``tickets``) and, with ``out_dir``, saved as
``ticket-<n>.bin`` (the raw bytes) plus ``ticket-<n>.png`` (a preview drawn from the same layout).

Options (``[devices.printer]`` with ``backend = "simulated"``):

- ``profile``: an escpos printer profile (default "TM-T20II", 576 dots).
- ``out_dir``: folder for the .bin/.png files (default: none, keep in memory only). Tickets carry a first
  name and last initial: point it at a demo folder, never at a shared one.
- ``preview``: also write the PNG (default true).
- ``timezone``: IANA name of the clinic's timezone for the printed time (default: the ticket's own).
- ``cache_dir``: folder for escpos's capabilities cache (default $ESCPOS_CAPABILITIES_PICKLE_DIR or a
  per-user temp folder).

Test hooks: :meth:`fail_next`, :meth:`set_paper`, :meth:`set_online`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.errors import DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader
from devices.printer import escpos_render, preview
from devices.printer.escpos_setup import load_escpos, profile_names
from devices.printer.ticket_layout import TicketLayout, build_layout
from kiosk.flow.ports import PrinterFailure
from kiosk.flow.types import Ticket

log = logging.getLogger(__name__)

DEFAULT_PROFILE = "TM-T20II"


class SimulatedPrinter:
    backend = "simulated"

    def __init__(
        self,
        *,
        profile: str = DEFAULT_PROFILE,
        out_dir: Path | None = None,
        preview: bool = True,
        timezone: tzinfo | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        escpos_printer = load_escpos(cache_dir)
        try:
            self._printer: Any = escpos_printer.Dummy(profile=profile)
        except KeyError:
            raise DeviceSetupError(
                f"printer backend 'simulated': unknown escpos profile {profile!r}; "
                f"known profiles: {', '.join(profile_names(cache_dir))}"
            ) from None
        self.profile = profile
        self._out_dir = out_dir
        self._preview = preview
        self._timezone = timezone
        self._lock = threading.Lock()
        self._paper_out = False
        self._paper_low = False
        self._online = True
        self._fail_next: str | None = None
        self._failure = ""  # reason of the last failed print, cleared by a good one
        self.tickets: list[Ticket] = []
        self.last_bytes = b""
        self.files: list[Path] = []
        self._number = 0  # ticket-<n> files continue after those already in out_dir
        if out_dir is not None:
            try:
                out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise DeviceSetupError(
                    f"printer backend 'simulated': cannot create out_dir {str(out_dir)!r}: {exc}"
                ) from exc
            self._number = max((_ticket_number(p) for p in out_dir.glob("ticket-*.bin")), default=0)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedPrinter:
        opts = OptionReader("printer", cls.backend, options)
        profile = opts.get_str("profile", DEFAULT_PROFILE)
        out_dir = opts.get_optional_path("out_dir")
        want_preview = opts.get_bool("preview", True)
        zone_name = opts.get_optional_str("timezone")
        cache_dir = opts.get_optional_path("cache_dir")
        opts.finish()
        zone: tzinfo | None = None
        if zone_name is not None:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise opts.error(
                    "timezone", zone_name, "an IANA timezone such as 'America/New_York'"
                ) from None
        return cls(profile=profile, out_dir=out_dir, preview=want_preview, timezone=zone, cache_dir=cache_dir)

    # -- PrinterDevice protocol ---------------------------------------------------------------------------
    def print_ticket(self, ticket: Ticket) -> None:
        with self._lock:
            reason = self._blocking_reason()
            if reason:
                self._failure = reason
                log.warning("ticket %s not printed: %s", ticket.queue_number, reason)
                raise PrinterFailure(f"printer cannot print: {reason}", reason=reason)
            layout = build_layout(ticket, self._timezone)
            self._printer.clear()
            escpos_render.render(layout, self._printer)
            data: bytes = self._printer.output
            self._printer.clear()
            self.last_bytes = data
            self.tickets.append(ticket)
            self._number += 1
            number = self._number
            if self._out_dir is not None:
                self._save(self._out_dir, number, data, layout)
            self._failure = ""
        log.info("ticket %s printed (%d bytes, #%d)", ticket.queue_number, len(data), number)

    def health(self) -> DeviceHealth:
        with self._lock:
            if not self._online:
                return self._health(HealthStatus.FAULT, "offline")
            if self._paper_out:
                return self._health(HealthStatus.FAULT, "out_of_paper")
            if self._failure:
                return self._health(HealthStatus.FAULT, self._failure)
            if self._paper_low:
                return self._health(HealthStatus.DEGRADED, "paper_low")
            return self._health(HealthStatus.OK, "")

    # -- test hooks ---------------------------------------------------------------------------------------
    def fail_next(self, reason: str = "error") -> None:
        """The next print raises PrinterFailure(reason=reason); health shows it until a print succeeds."""
        with self._lock:
            self._fail_next = reason

    def set_paper(self, out: bool = False, low: bool = False) -> None:
        with self._lock:
            self._paper_out = out
            self._paper_low = low
            if not out and self._failure == "out_of_paper":
                self._failure = ""

    def set_online(self, online: bool) -> None:
        with self._lock:
            self._online = online
            if online and self._failure == "offline":
                self._failure = ""

    # -- internals ----------------------------------------------------------------------------------------
    def _blocking_reason(self) -> str:
        if not self._online:
            return "offline"
        if self._paper_out:
            return "out_of_paper"
        if self._fail_next is not None:
            reason, self._fail_next = self._fail_next, None
            return reason
        return ""

    def _health(self, status: HealthStatus, detail: str) -> DeviceHealth:
        return DeviceHealth("printer", self.backend, status, detail, last_error=self._failure)

    def _save(self, folder: Path, number: int, data: bytes, layout: TicketLayout) -> None:
        bin_path = folder / f"ticket-{number}.bin"
        bin_path.write_bytes(data)
        self.files.append(bin_path)
        if self._preview:
            png_path = folder / f"ticket-{number}.png"
            png_path.write_bytes(preview.render_png(layout))
            self.files.append(png_path)


def _ticket_number(path: Path) -> int:
    suffix = path.stem.removeprefix("ticket-")
    return int(suffix) if suffix.isdigit() else 0
