"""The monitor view's model (no Kivy): every kiosk of the practice, read from the back-end's Device resources
that each kiosk's heartbeat keeps current (``portal_client.heartbeat``: the format is described there).

API for the UI (``kiosk monitor``)::

    monitor = FleetMonitor(client, offline_after_s=120, outbox_backlog=10, clock_skew_s=120, refresh_s=15)
    unsubscribe = monitor.subscribe(on_snapshot)   # on_snapshot(MonitorSnapshot) on the worker thread
    monitor.start()                                # refreshes every refresh_s on its own thread
    monitor.refresh_now()                          # wake the worker now ("refresh" button)
    monitor.snapshot                               # the latest MonitorSnapshot (None before the first read)
    monitor.stop()

``MonitorSnapshot.kiosks`` is a tuple of ``KioskView`` (sorted by kiosk id): ``online`` (a heartbeat within
``offline_after_s`` and not stopped), ``in_use`` (a patient at the screen: True / False / None unknown),
``devices`` (kind -> (status, detail)), outbox depth and dead rows, last sync, clock skew, and ``alerts``
(``Alert(code, severity, detail)``, most severe first). Alert codes: ``offline``, ``stopped`` (a clean
shutdown), ``printer_out_of_paper``, ``printer_offline``, ``printer_paper_low``, ``reader_missing``,
``<kind>_fault``, ``<kind>_degraded``, ``outbox_backlog``, ``dead_rows``, ``clock_skew``, ``sync_error``.
Severities: ``critical`` (the kiosk cannot serve patients as it should) or ``warning``.

Times: a kiosk's last heartbeat is its ``heartbeat-at`` (the kiosk's clock) compared with the monitor's
clock (injectable; tests drive it); ``clock_skew`` compares ``heartbeat-at`` with the server's
``meta.lastUpdated`` of the same write, so a kiosk whose clock is wrong is flagged rather than trusted
silently. When the back-end cannot be read, the snapshot keeps the last known kiosks with ``error`` set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kiosk.flow.ports import Clock

from .client import FhirClient
from .errors import BackendError
from .fhir.read_mapping import MappingError, parse_instant
from .fhir.write_common import DEVICE_SYSTEM
from .heartbeat import EXT_BASE

log = logging.getLogger(__name__)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Alert:
    code: str
    severity: str  # "critical" | "warning"
    detail: str = ""  # a message key or a number, never personal data


@dataclass(frozen=True)
class KioskView:
    kiosk_id: str
    kind: str  # "kiosk" | "tablet"
    version: str
    online: bool
    stopped: bool  # the kiosk said goodbye (status inactive)
    last_heartbeat: datetime | None
    seconds_since_heartbeat: float | None
    in_use: bool | None
    overall: str  # what the kiosk said: ok | degraded | fault
    devices: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # kind -> (status, detail)
    outbox_depth: int = 0
    dead_rows: int = 0
    last_sync: datetime | None = None
    last_sync_error: str = ""
    clock_skew_s: float | None = None
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class MonitorSnapshot:
    taken_at: datetime
    kiosks: tuple[KioskView, ...] = ()
    error: str = ""  # a message key when the back-end could not be read ("backend_unavailable", ...)

    @property
    def online(self) -> int:
        return sum(k.online for k in self.kiosks)

    @property
    def alerts(self) -> int:
        return sum(len(k.alerts) for k in self.kiosks)


@dataclass(frozen=True)
class Thresholds:
    offline_after_s: float = 120.0
    outbox_backlog: int = 10
    clock_skew_s: float = 120.0


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value, where="Device")
    except MappingError:
        return None


def _extensions(resource: Json) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ext in resource.get("extension") or []:
        url = str(ext.get("url") or "")
        if url.startswith(EXT_BASE):
            out[url.removeprefix(EXT_BASE)] = next((v for k, v in ext.items() if k.startswith("value")), None)
    return out


def _properties(resource: Json) -> tuple[dict[str, tuple[str, str]], dict[str, float]]:
    health: dict[str, tuple[str, str]] = {}
    numbers: dict[str, float] = {}
    for prop in resource.get("property") or []:
        code = str(((prop.get("type") or {}).get("coding") or [{}])[0].get("code") or "")
        if code.startswith("health-") and prop.get("valueCode"):
            concept = prop["valueCode"][0]
            status = str((concept.get("coding") or [{}])[0].get("code") or "")
            health[code.removeprefix("health-")] = (status, str(concept.get("text") or ""))
        elif prop.get("valueQuantity"):
            value = prop["valueQuantity"][0].get("value")
            if isinstance(value, (int, float)):
                numbers[code] = float(value)
    return health, numbers


def _device_alerts(devices: Mapping[str, tuple[str, str]]) -> list[Alert]:
    alerts = []
    for kind, (status, detail) in sorted(devices.items()):
        if kind == "session" or status not in ("fault", "degraded"):
            continue
        if kind == "printer" and detail in ("out_of_paper", "offline", "paper_low"):
            code = "printer_paper_low" if detail == "paper_low" else f"printer_{detail}"
        elif kind == "smartcard" and status == "fault":
            code = "reader_missing" if detail in ("no_reader", "pcscd_unavailable", "unplugged") else "smartcard_fault"
        else:
            code = f"{kind}_{status}"
        alerts.append(Alert(code, "critical" if status == "fault" else "warning", detail))
    return alerts


def read_kiosk(resource: Json, now: datetime, limits: Thresholds = Thresholds()) -> KioskView | None:
    """One kiosk's view from its Device resource (pure). None for a Device that is not a kiosk's."""
    kiosk_id = next((str(i.get("value")) for i in resource.get("identifier") or []
                     if i.get("system") == DEVICE_SYSTEM and i.get("value")), None)  # fmt: skip
    if kiosk_id is None:
        return None
    ext = _extensions(resource)
    devices, numbers = _properties(resource)
    beat = _instant(ext.get("heartbeat-at"))
    stored = _instant((resource.get("meta") or {}).get("lastUpdated"))
    age = (now - beat).total_seconds() if beat is not None else None
    stopped = resource.get("status") == "inactive"
    online = not stopped and age is not None and age <= limits.offline_after_s
    skew = (beat - stored).total_seconds() if beat is not None and stored is not None else None
    session = devices.get("session")
    depth, dead = int(numbers.get("outbox-depth", 0)), int(numbers.get("dead-rows", 0))
    alerts: list[Alert] = []
    if stopped:
        alerts.append(Alert("stopped", "critical"))
    elif not online:
        alerts.append(Alert("offline", "critical", f"{int(age)}s" if age is not None else ""))
    alerts += _device_alerts(devices)
    if dead:
        alerts.append(Alert("dead_rows", "critical", str(dead)))
    if depth >= limits.outbox_backlog:
        alerts.append(Alert("outbox_backlog", "warning", str(depth)))
    if skew is not None and abs(skew) > limits.clock_skew_s:
        alerts.append(Alert("clock_skew", "warning", f"{int(skew)}s"))
    sync_error = str(ext.get("last-sync-error") or "")
    if sync_error and depth:
        alerts.append(Alert("sync_error", "warning", sync_error))
    alerts.sort(key=lambda a: a.severity != "critical")  # stable: critical first, in the order above
    text = str((resource.get("type") or {}).get("text") or "").lower()
    return KioskView(
        kiosk_id=kiosk_id,
        kind="tablet" if "tablet" in text else "kiosk",
        version=str(((resource.get("version") or [{}])[0]).get("value") or ""),
        online=online,
        stopped=stopped,
        last_heartbeat=beat,
        seconds_since_heartbeat=age,
        in_use=None if session is None else session[1] == "in_use",
        overall=str(ext.get("kiosk-status") or ""),
        devices={k: v for k, v in devices.items() if k != "session"},
        outbox_depth=depth,
        dead_rows=dead,
        last_sync=_instant(ext.get("last-successful-sync")),
        last_sync_error=sync_error,
        clock_skew_s=skew,
        alerts=tuple(alerts),
    )


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FleetMonitor:
    def __init__(
        self,
        client: FhirClient,
        *,
        clock: Clock | None = None,
        offline_after_s: float = 120.0,
        outbox_backlog: int = 10,
        clock_skew_s: float = 120.0,
        refresh_s: float = 15.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._client = client
        self._clock: Clock = clock or _UtcClock()
        self.limits = Thresholds(offline_after_s, outbox_backlog, clock_skew_s)
        self.refresh_s = refresh_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._sleep = sleep or self._wait
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[MonitorSnapshot], None]] = []
        self._thread: threading.Thread | None = None
        self.snapshot: MonitorSnapshot | None = None

    def read(self) -> Sequence[Json]:
        params = {"identifier": f"{DEVICE_SYSTEM}|", "_count": "200"}
        return list(self._client.search_all("Device", params, limit=1000))

    def refresh(self) -> MonitorSnapshot:
        """Read every kiosk's Device once, publish and return the snapshot. Never raises."""
        now = self._clock.now()
        try:
            resources = self.read()
        except BackendError as exc:
            log.info("monitor: back-end not read (%s)", exc.key)
            kiosks = self.snapshot.kiosks if self.snapshot else ()
            snap = MonitorSnapshot(now, kiosks, error=exc.key)
        except Exception as exc:
            log.error("monitor: read failed (%s)", type(exc).__name__)
            snap = MonitorSnapshot(now, self.snapshot.kiosks if self.snapshot else (), error="monitor_error")
        else:
            views = [v for r in resources if (v := read_kiosk(r, now, self.limits)) is not None]
            snap = MonitorSnapshot(now, tuple(sorted(views, key=lambda v: v.kiosk_id)))
        self.snapshot = snap
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(snap)
            except Exception:
                log.exception("monitor subscriber failed")
        return snap

    def subscribe(self, callback: Callable[[MonitorSnapshot], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    # -- the worker ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="fleet-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def refresh_now(self) -> None:
        self._wake.set()

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.refresh()
            if self._stopping.is_set():
                break
            self._sleep(self.refresh_s)
