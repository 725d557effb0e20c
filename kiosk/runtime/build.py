"""Wires settings → devices, back-end client, outbox, sync worker and the check-in flow (no Kivy here).

The Kivy app (`kiosk.ui.app`), the CLI and the tests all build their object graph through `build_runtime`,
so what the tests run is what the lobby runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from devices import registry
from devices.errors import DeviceError, DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from kiosk.flow.config import FlowConfig, StepSwitches
from kiosk.flow.machine import CheckinFlow
from kiosk.flow.ports import Clock
from kiosk.flow.types import Money
from kiosk.runtime.backend import Backend, build_backend, build_client, build_heartbeat
from kiosk.runtime.clock import SystemClock
from kiosk.runtime.counters import CountingSink, DailyCounters
from kiosk.runtime.device_ports import PrinterPort, TerminalPort
from kiosk.runtime.queue_numbers import FileQueueNumbers
from kiosk.runtime.staff_setup import build_staff
from kiosk.runtime.status import StatusModel
from kiosk.runtime.worker import FlowWorker
from kiosk.settings import DeviceSection, Settings

log = logging.getLogger(__name__)

DEVICE_KINDS = ("camera", "barcode", "smartcard", "payment", "printer", "insurance", "speech")
# Kinds a tablet never has (DESIGN §1: no printer or payment device on waiting-room tablets).
TABLET_WITHOUT = ("payment", "printer")
# Printer backends built on python-escpos: they take the kiosk's escpos cache folder and the clinic's timezone.
ESCPOS_PRINTERS = ("simulated", "network", "usb", "serial", "file")


def _money(cents: int | None, currency: str) -> Money | None:
    return None if cents is None else Money(cents, currency)


def flow_config(settings: Settings) -> FlowConfig:
    p, pay = settings.practice, settings.payment
    steps = settings.steps
    tablet = settings.kiosk.mode == "tablet"
    return FlowConfig(
        kiosk_id=settings.kiosk.id,
        clinic_name=p.name,
        timezone=ZoneInfo(p.timezone),
        languages=tuple(settings.kiosk.languages),
        default_language=settings.kiosk.default_language,
        steps=StepSwitches(
            demographics=steps.demographics,
            insurance=steps.insurance,
            forms=steps.forms,
            consents=steps.consents,
            payment=steps.payment and not tablet,
            ticket=steps.ticket and not tablet,
        ),
        early_minutes=p.checkin_window.early_minutes,
        late_minutes=p.checkin_window.late_minutes,
        desk_visit_types=frozenset(p.desk_rules.visit_types),
        desk_provider_ids=frozenset(p.desk_rules.providers),
        balance_limit=_money(p.desk_rules.balance_limit, pay.currency),
        copay_by_visit_type={k: Money(v, pay.currency) for k, v in pay.copay_by_visit_type.items()},
        default_copay=_money(pay.default_copay, pay.currency),
        self_pay_by_visit_type={k: Money(v, pay.currency) for k, v in pay.self_pay_by_visit_type.items()},
        default_self_pay=_money(pay.default_self_pay, pay.currency),
        currency=pay.currency,
        wait_area_by_location=dict(p.wait_areas),
        default_wait_area=p.default_wait_area,
        max_identify_attempts=settings.identify.max_attempts,
        reminder_secret=settings.reminder_secret(),
        reminder_max_age_days=settings.identify.reminder_max_age_days,
        tablet=tablet,
    )


# -- devices ---------------------------------------------------------------------------------------------
@dataclass
class Devices:
    camera: Any = None
    barcode: Any = None
    smartcard: Any = None
    payment: Any = None
    printer: Any = None
    insurance: Any = None  # devices.insurance CardReader: the capture screen pairs it with the camera
    speech: Any = None  # devices.speech Speaker: the UI reads screens aloud with it (stop() silences it)
    backends: dict[str, str] = field(default_factory=dict)
    # The camera whose frames the barcode source decodes (the kiosk's camera, shared): the identify screen runs
    # it while it shows the preview. None when no barcode source reads the kiosk's camera.
    scan_camera: Any = None

    def items(self) -> list[tuple[str, Any]]:
        return [(kind, getattr(self, kind)) for kind in DEVICE_KINDS]

    def health(self) -> list[DeviceHealth]:
        out = []
        for kind, device in self.items():
            if device is None:
                out.append(DeviceHealth(kind=kind, backend="", status=HealthStatus.DISABLED))
                continue
            try:
                out.append(device.health())
            except Exception as exc:
                out.append(DeviceHealth(kind=kind, backend=self.backends.get(kind, ""), status=HealthStatus.FAULT,
                                        detail="health_failed", last_error=type(exc).__name__))
        return out

    def stop(self) -> None:
        for kind, device in self.items():
            stop = getattr(device, "stop", None)
            if stop is None:
                continue
            try:
                stop()
            except Exception:
                log.exception("stopping %s failed", kind)


def _device_options(settings: Settings, kind: str, section: DeviceSection) -> dict[str, Any]:
    options = section.options
    if kind == "printer" and section.backend in ESCPOS_PRINTERS:
        # No out_dir by default: ticket previews carry "first name + initial" and stay in memory unless a
        # demo asks for files. The escpos capabilities cache lives in the kiosk's data folder.
        options.setdefault("cache_dir", str(settings.data_dir / "cache"))
        options.setdefault("timezone", settings.practice.timezone)
    # relative paths: against the config file's folder
    for key in ("out_dir", "cache_dir", "images", "path", "api_key_file"):
        value = options.get(key)
        if isinstance(value, str) and value:
            options[key] = settings.resolve(Path(value))
        elif isinstance(value, list):
            options[key] = [settings.resolve(Path(v)) if isinstance(v, str) else v for v in value]
    return options


def _enabled(settings: Settings, kind: str) -> bool:
    section: DeviceSection = getattr(settings.devices, kind)
    if settings.kiosk.mode == "tablet" and kind in TABLET_WITHOUT:
        return False
    return section.enabled


def build_devices(settings: Settings) -> Devices:
    """Create every enabled device; a backend that cannot load stops start-up (no silent fallback)."""
    devices = Devices()
    for kind in DEVICE_KINDS:
        if not _enabled(settings, kind):
            continue
        section: DeviceSection = getattr(settings.devices, kind)
        setattr(devices, kind, registry.create(kind, section.backend, _device_options(settings, kind, section)))
        devices.backends[kind] = section.backend
    _attach_scan_camera(devices)
    return devices


def _attach_scan_camera(devices: Devices) -> None:
    """A camera barcode source without a camera of its own decodes the kiosk's camera (one device, shared)."""
    from devices.barcode.multi import parts

    for part in parts(devices.barcode):
        if getattr(part, "backend", "") != "camera" or not hasattr(part, "attach_camera"):
            continue
        if getattr(part, "_owns_camera", False):
            continue  # [devices.barcode.camera]: its own camera, started with the source
        if devices.camera is None:
            raise DeviceSetupError(
                "barcode backend 'camera' needs a camera: enable [devices.camera], or give the barcode source "
                "its own camera table ([devices.barcode.camera])"
            )
        part.attach_camera(devices.camera)
        devices.scan_camera = devices.camera


def check_devices(settings: Settings) -> list[str]:
    """`kiosk config check`: every device section can be built (backends and options are valid)."""
    problems = []
    for kind in DEVICE_KINDS:
        if not _enabled(settings, kind):
            continue
        section: DeviceSection = getattr(settings.devices, kind)
        try:
            registry.check_options(kind, section.backend, _device_options(settings, kind, section))
        except DeviceError as exc:
            problems.append(f"[devices.{kind}] backend = {section.backend!r}: {exc}")
    return problems


def device_report(settings: Settings) -> list[tuple[str, str, str]]:
    """`kiosk doctor`, devices: (name, status, detail) per kind. Each device is built and asked on its own,
    so one that cannot load does not hide the others."""
    rows: list[tuple[str, str, str]] = []
    for kind in DEVICE_KINDS:
        section: DeviceSection = getattr(settings.devices, kind)
        if not _enabled(settings, kind):
            rows.append((f"{kind} (-)", str(HealthStatus.DISABLED), ""))
            continue
        name = f"{kind} ({section.backend})"
        try:
            device: Any = registry.create(kind, section.backend, _device_options(settings, kind, section))
        except DeviceError as exc:
            rows.append((name, str(HealthStatus.FAULT), str(exc)))
            continue
        try:
            health = device.health()
            where = device.describe() if hasattr(device, "describe") else ""
            detail = health.detail or health.last_error
            rows.append((name, str(health.status), ": ".join(part for part in (where, detail) if part)))
        except Exception as exc:
            rows.append((name, str(HealthStatus.FAULT), f"health check failed: {type(exc).__name__}"))
        finally:
            stop = getattr(device, "stop", None)
            if stop is not None:
                stop()
    return rows


# -- the whole kiosk -------------------------------------------------------------------------------------
@dataclass
class Runtime:
    settings: Settings
    flow: CheckinFlow
    worker: FlowWorker
    devices: Devices
    backend: Backend
    queue: FileQueueNumbers
    clock: Clock
    started: bool = False
    # Staff mode and operations (kiosk/staff, status.py, counters.py, metrics.py): see their docstrings.
    staff: Any = None  # kiosk.staff.auth.StaffAuth
    counters: Any = None  # kiosk.runtime.counters.DailyCounters
    printer_port: Any = None  # kiosk.runtime.device_ports.PrinterPort (the last ticket, for reprints)
    status: Any = None  # kiosk.runtime.status.StatusModel
    metrics: Any = None  # kiosk.runtime.metrics.MetricsServer when [metrics] enabled

    @property
    def directory(self) -> Any:
        return self.backend.directory

    @property
    def outbox(self) -> Any:
        return self.backend.outbox

    @property
    def sync(self) -> Any:
        return self.backend.sync

    @property
    def heartbeat(self) -> Any:
        return self.backend.heartbeat

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        # The camera is not started here: the screen that shows a preview starts and stops it, so an idle
        # kiosk holds no frames and burns no CPU. The back-end's workers: offline-day prefetch, sync, heartbeat.
        self.backend.start(self.settings)
        if self.settings.metrics.enabled:
            from kiosk.runtime.metrics import MetricsServer

            self.metrics = MetricsServer.from_runtime(self)
            self.metrics.start()

    def stop(self) -> None:
        if self.metrics is not None:
            self.metrics.stop()
        self.worker.stop()
        self.devices.stop()
        self.backend.close()
        self.started = False

    def health(self) -> list[DeviceHealth]:
        return self.devices.health()

    def restart_devices(self) -> None:
        """Stop every device, build them again from the settings and swap them in (status screen action).
        The flow reaches printer and terminal through ports that follow the swap; whoever started an input
        device (barcode, card reader, camera) starts the new one (``status.on_devices_restarted``)."""
        self.devices.stop()
        fresh = build_devices(self.settings)
        for kind in DEVICE_KINDS:
            setattr(self.devices, kind, getattr(fresh, kind))
        self.devices.backends = fresh.backends
        log.info("devices restarted")

    def session_health(self) -> DeviceHealth:
        """Whether a patient is using the kiosk now, as a pseudo device the heartbeat reports (the monitor
        view's "in use / idle"): status ok, detail ``in_use`` or ``idle``."""
        from kiosk.runtime.status import IDLE_STEPS

        in_use = str(self.flow.session.step) not in IDLE_STEPS
        return DeviceHealth(kind="session", backend="", status=HealthStatus.OK, detail="in_use" if in_use else "idle")


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """The kiosk's object graph. ``clock`` replaces the system clock (tests pin the practice's "now")."""
    devices = build_devices(settings)
    config = flow_config(settings)
    clock = clock or SystemClock(config.timezone)
    backend = build_backend(settings, clock=clock)
    reported = _ReportedDevices(devices)
    backend.heartbeat = build_heartbeat(settings, backend, reported, clock)  # type: ignore[arg-type]
    queue = FileQueueNumbers(settings.data_dir / "queue-numbers.json", prefix=settings.kiosk.queue_prefix)
    counters = DailyCounters(settings.data_dir, config.timezone, clock)
    printer_port = PrinterPort(devices, clock, config.timezone) if devices.printer is not None else None
    staff = build_staff(settings, outbox=backend.outbox, on_stored=backend.sync.notify, now=clock.now)
    flow = CheckinFlow(
        config,
        directory=backend.directory,
        sink=CountingSink(backend.sink, counters),
        terminal=TerminalPort(devices) if devices.payment is not None else None,
        printer=printer_port,
        queue=queue,
        clock=clock,
        **_tablet_ports(settings, backend, staff),
    )
    runtime = Runtime(settings=settings, flow=flow, worker=FlowWorker(), devices=devices, backend=backend,
                      queue=queue, clock=clock, staff=staff, counters=counters, printer_port=printer_port)  # fmt: skip
    reported.runtime = runtime
    runtime.status = StatusModel(runtime)
    return runtime


class _ReportedDevices:
    """What the heartbeat reports: every device, plus the session pseudo device (in use / idle)."""

    def __init__(self, devices: Devices) -> None:
        self.devices = devices
        self.runtime: Runtime | None = None

    def health(self) -> list[DeviceHealth]:
        out = self.devices.health()
        if self.runtime is not None:
            out.append(self.runtime.session_health())
        return out


def _tablet_ports(settings: Settings, backend: Backend, staff: Any) -> dict[str, Any]:
    """Tablet mode: the staff gate and the schedule reads (today's appointments, ticket QR) for the flow."""
    if settings.kiosk.mode != "tablet":
        return {}
    return {"staff": staff, "schedule": backend.directory.live}


def doctor_report(settings: Settings) -> list[tuple[str, str, str]]:
    """`kiosk doctor`: (name, status, detail) per device and for the back-end."""
    rows = device_report(settings)
    from portal_client.errors import BackendError

    try:
        client, auth = build_client(settings, timeout=min(settings.backend.timeout_s, 5.0))
    except BackendError as exc:
        return [*rows, ("back-end", "fault", f"{settings.backend.base_url}: {exc}")]
    try:
        client.search("Patient", {"_count": 0})
        rows.append(("back-end", "ok", settings.backend.base_url))
    except BackendError as exc:
        rows.append(("back-end", "fault", f"{settings.backend.base_url}: {exc}"))
    finally:
        client.close()
        if auth is not None and hasattr(auth, "close"):
            auth.close()
    return rows
