"""The staff status screen's model (no Kivy): what the kiosk knows about itself, and the staff actions.

API for the UI (``runtime.status`` is a ``StatusModel``)::

    snap = status.snapshot()        # StatusSnapshot: local reads only (device health, outbox, disk, counts)
    probe = status.probe_backend()  # BackendProbe: one small request to the back-end (reachable, latency)
    status.test_print()             # ActionResult(ok, key, detail); every action needs an unlocked staff
    status.reprint_last()           #   session (runtime.staff) and is audited with who did it;
    status.sync_now()               #   key "staff_locked" when nobody is unlocked (nothing done)
    status.retry_dead(row_id=None)  # one dead outbox row, or all of them, back to pending
    status.discard_dead(row_id)     # delete one dead row (its check-in is then only in the audit trail)
    status.restart_devices()        # stop, rebuild and swap every device; listeners are told afterwards
    status.on_devices_restarted(cb) # cb() runs (on the calling thread) after a restart: re-start scanning
    status.leave_kiosk_mode()       # authorizes and audits; the UI then closes the app
    status.cancel_session(on_done)  # non-blocking, any thread: aborts a payment in progress, then queues
                                    #   flow.reset() on runtime.worker; on_done(result) runs on that thread

Threads: ``snapshot``, ``probe_backend`` and the actions other than ``cancel_session`` may block (device
health asks printers over the network, the outbox is SQLite, sync may deliver): call them off Kivy's main
thread (e.g. ``runtime.worker.call(status.snapshot, on_done)``) and marshal results back.

Result keys: ``done``, ``staff_locked``, ``no_printer``, ``printer_failed`` (detail: the reason),
``no_ticket`` (nothing printed today, or the day changed), ``not_dead`` (no such dead row), ``failed``
(detail: an exception type). Nothing personal is in any snapshot field, result or audit line.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.flow.results import Result, Step
from kiosk.flow.types import Ticket
from kiosk.runtime.counters import DayCounts

log = logging.getLogger(__name__)

IDLE_STEPS = frozenset({str(Step.WELCOME), str(Step.DONE), str(Step.DESK), "tablet_start"})  # nobody at the screen


@dataclass(frozen=True)
class DeviceStatus:
    kind: str
    backend: str
    status: str  # ok | degraded | fault | disabled
    detail: str = ""  # a message key: "out_of_paper", "no_reader", ...
    last_error: str = ""


@dataclass(frozen=True)
class BackendProbe:
    url: str
    reachable: bool | None = None  # None: not asked yet
    latency_ms: float | None = None
    error: str = ""  # a message key ("backend_unavailable", "backend_auth", ...)
    checked_at: datetime | None = None


@dataclass(frozen=True)
class DeadRow:
    id: int
    kind: str  # "checkin", "audit", ...
    created_at: datetime
    attempts: int
    issues: str  # severity + code + where of each OperationOutcome issue; never its diagnostics


@dataclass(frozen=True)
class OutboxStatus:
    depth: int = 0
    dead: int = 0
    dead_rows: tuple[DeadRow, ...] = ()
    online: bool = False
    last_success: datetime | None = None
    last_error: str | None = None
    next_attempt: datetime | None = None


@dataclass(frozen=True)
class DiskStatus:
    path: str
    free_bytes: int
    total_bytes: int

    @property
    def free_fraction(self) -> float:
        return self.free_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class StatusSnapshot:
    kiosk_id: str
    mode: str  # "kiosk" | "tablet"
    version: str
    taken_at: datetime
    uptime_s: float
    devices: tuple[DeviceStatus, ...]
    backend: BackendProbe  # the last probe (probe_backend), or "not asked yet"
    outbox: OutboxStatus
    heartbeat_at: datetime | None
    heartbeat_error: str | None
    disk: DiskStatus
    today: DayCounts
    currency: str
    session_step: str  # the flow's current step ("welcome" = idle)
    can_reprint: bool
    staff: str | None = None  # who is unlocked
    alerts: tuple[str, ...] = field(default=())  # keys: "printer_fault", "outbox_dead", "disk_low", ...

    @property
    def in_use(self) -> bool:
        return self.session_step not in IDLE_STEPS


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    key: str
    detail: str = ""


def issue_summary(outcome: Any) -> str:
    issues = (outcome or {}).get("issue") or []
    parts = []
    for issue in issues[:3]:
        where = ",".join(issue.get("expression") or issue.get("location") or [])
        parts.append(f"{issue.get('severity', '?')} {issue.get('code', '?')}" + (f" at {where}" if where else ""))
    return "; ".join(parts)


class StatusModel:
    def __init__(self, runtime: Any, *, monotonic: Callable[[], float] = time.monotonic,
                 disk_low_fraction: float = 0.05) -> None:  # fmt: skip
        self._rt = runtime
        self._monotonic = monotonic
        self._started = monotonic()
        self._disk_low = disk_low_fraction
        self._probe = BackendProbe(url=runtime.settings.backend.base_url)
        self._listeners: list[Callable[[], None]] = []
        self._restart_lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------------------
    def snapshot(self) -> StatusSnapshot:
        from kiosk import __version__

        rt = self._rt
        devices = tuple(DeviceStatus(h.kind, h.backend, str(h.status), h.detail, h.last_error) for h in rt.health())
        heartbeat = rt.heartbeat
        staff = rt.staff.current_staff() if rt.staff is not None else None
        snap = StatusSnapshot(
            kiosk_id=rt.settings.kiosk.id,
            mode=rt.settings.kiosk.mode,
            version=__version__,
            taken_at=rt.clock.now(),
            uptime_s=self._monotonic() - self._started,
            devices=devices,
            backend=self._probe,
            outbox=self._outbox(),
            heartbeat_at=getattr(heartbeat, "last_beat", None),
            heartbeat_error=getattr(heartbeat, "last_error", None),
            disk=self._disk(rt.settings.data_dir),
            today=rt.counters.today(),
            currency=rt.settings.payment.currency,
            session_step=str(rt.flow.session.step),
            can_reprint=rt.printer_port is not None and rt.printer_port.last_ticket is not None,
            staff=staff,
        )
        return _with_alerts(snap, self._disk_low)

    def _outbox(self) -> OutboxStatus:
        from portal_client.outbox import RowState

        outbox, state = self._rt.outbox, self._rt.sync.state
        counts = outbox.counts()
        dead = []
        for row_id in outbox.row_ids(RowState.DEAD)[:50]:
            try:
                row = outbox.get(row_id)
            except Exception as exc:  # a row that no longer opens is still listed
                dead.append(DeadRow(row_id, "?", datetime.fromtimestamp(0).astimezone(), 0, type(exc).__name__))
                continue
            if row is not None:
                dead.append(DeadRow(row.id, row.kind, row.created_at, row.attempts, issue_summary(row.outcome)))
        return OutboxStatus(counts.depth, counts.dead, tuple(dead), state.online, state.last_success,
                            state.last_error, state.next_attempt)  # fmt: skip

    @staticmethod
    def _disk(path: Path) -> DiskStatus:
        try:
            usage = shutil.disk_usage(path)
        except OSError:
            return DiskStatus(str(path), 0, 0)
        return DiskStatus(str(path), usage.free, usage.total)

    def probe_backend(self) -> BackendProbe:
        """One small search (this kiosk's Device) with its round-trip time. Never raises."""
        from portal_client.errors import BackendError
        from portal_client.fhir.write_common import DEVICE_SYSTEM

        rt = self._rt
        started = self._monotonic()
        try:
            rt.backend.client.search("Device", {"identifier": f"{DEVICE_SYSTEM}|{rt.settings.kiosk.id}", "_count": "1"})
            error, reachable = "", True
        except BackendError as exc:
            error, reachable = exc.key, exc.status is not None  # an HTTP answer: reachable, but refusing
        except Exception as exc:
            error, reachable = "backend_error", False
            log.warning("back-end probe failed: %s", type(exc).__name__)
        latency = (self._monotonic() - started) * 1000
        self._probe = BackendProbe(rt.settings.backend.base_url, reachable, round(latency, 1), error, rt.clock.now())
        return self._probe

    # -- actions ------------------------------------------------------------------------------------------
    def _staff(self) -> str | None:
        staff = self._rt.staff
        who = staff.current_staff() if staff is not None else None
        if who is not None:
            staff.touch()
        return who

    def _audit(self, action: str, result: ActionResult) -> ActionResult:
        self._rt.staff.record(action, outcome="success" if result.ok else "failure", detail=result.detail or result.key)
        return result

    def test_print(self) -> ActionResult:
        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        printer = self._rt.devices.printer
        if printer is None:
            return self._audit("test_print", ActionResult(False, "no_printer"))
        settings = self._rt.settings
        ticket = Ticket(queue_number="TEST", display_name="Test print", issued_at=self._rt.clock.now(), wait_area="-",
                        clinic_name=settings.practice.name, language=settings.kiosk.default_language)  # fmt: skip
        return self._audit("test_print", _print(printer, ticket))

    def reprint_last(self) -> ActionResult:
        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        port = self._rt.printer_port
        ticket = port.last_ticket if port is not None else None
        if ticket is None:
            return self._audit("reprint_ticket", ActionResult(False, "no_ticket"))
        result = _print(self._rt.devices.printer, ticket)
        return self._audit("reprint_ticket", ActionResult(result.ok, result.key, result.detail or ticket.queue_number))

    def sync_now(self) -> ActionResult:
        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        sync = self._rt.sync
        if sync.running:
            sync.wake()
            detail = "woken"
        else:
            report = sync.drain_once()
            detail = f"sent:{report.sent}"
        return self._audit("sync_now", ActionResult(True, "done", detail))

    def retry_dead(self, row_id: int | None = None) -> ActionResult:
        from portal_client.outbox import RowState

        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        outbox = self._rt.outbox
        ids = outbox.row_ids(RowState.DEAD) if row_id is None else [row_id]
        retried = sum(bool(outbox.retry_dead(i)) for i in ids)
        if retried:
            self._rt.sync.wake()
        ok = retried > 0 or row_id is None
        detail = f"row:{row_id}" if row_id is not None else f"rows:{retried}"
        return self._audit("retry_dead_row", ActionResult(ok, "done" if ok else "not_dead", detail))

    def discard_dead(self, row_id: int) -> ActionResult:
        from portal_client.outbox import RowState

        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        outbox = self._rt.outbox
        if row_id not in outbox.row_ids(RowState.DEAD):
            return self._audit("discard_dead_row", ActionResult(False, "not_dead", f"row:{row_id}"))
        outbox.ack(row_id)  # deletes the row
        return self._audit("discard_dead_row", ActionResult(True, "done", f"row:{row_id}"))

    def restart_devices(self) -> ActionResult:
        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        with self._restart_lock:
            try:
                self._rt.restart_devices()
            except Exception as exc:
                log.error("restarting devices failed: %s", type(exc).__name__)
                return self._audit("restart_devices", ActionResult(False, "failed", type(exc).__name__))
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("devices-restarted listener failed")
        return self._audit("restart_devices", ActionResult(True, "done"))

    def on_devices_restarted(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def leave_kiosk_mode(self) -> ActionResult:
        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        return self._audit("leave_kiosk_mode", ActionResult(True, "done"))

    def cancel_session(self, on_done: Callable[[Result], None] | None = None) -> ActionResult:
        if self._staff() is None:
            return ActionResult(False, "staff_locked")
        rt = self._rt
        step = str(rt.flow.session.step)
        terminal = rt.devices.payment
        if terminal is not None and step == str(Step.PAYMENT) and rt.worker.busy:
            threading.Thread(target=_safe_cancel, args=(terminal,), name="cancel-payment", daemon=True).start()
        rt.worker.call(rt.flow.reset, on_done or (lambda _r: None))
        return self._audit("cancel_session", ActionResult(True, "done", step))


def _safe_cancel(terminal: Any) -> None:
    try:
        terminal.cancel()
    except Exception as exc:
        log.warning("payment cancel failed: %s", type(exc).__name__)


def _print(printer: Any, ticket: Ticket) -> ActionResult:
    if printer is None:
        return ActionResult(False, "no_printer")
    try:
        printer.print_ticket(ticket)
    except Exception as exc:
        return ActionResult(False, "printer_failed", str(getattr(exc, "reason", type(exc).__name__)))
    return ActionResult(True, "done")


def _with_alerts(snap: StatusSnapshot, disk_low: float) -> StatusSnapshot:
    alerts = [f"{d.kind}_{d.status}" for d in snap.devices if d.status in ("fault", "degraded")]
    if snap.outbox.dead:
        alerts.append("outbox_dead")
    if snap.backend.reachable is False or (snap.outbox.last_error is not None and not snap.outbox.online):
        alerts.append("backend_unreachable")
    if snap.disk.total_bytes and snap.disk.free_fraction < disk_low:
        alerts.append("disk_low")
    from dataclasses import replace

    return replace(snap, alerts=tuple(alerts))
