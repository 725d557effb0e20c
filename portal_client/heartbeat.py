"""The heartbeat: the kiosk keeps its own ``Device`` resource current on the back-end (DESIGN §5, §7).

Every ``interval`` seconds (60 by default) one conditional update,
``PUT Device?identifier=urn:open-checkin-kiosk:device|<kiosk id>``, creates or replaces the kiosk's Device:
the same identifier the check-in Provenance names as its author. A replay is harmless (it is the kiosk's
own resource and always carries the whole current state). It does not go through the outbox: a heartbeat
that cannot be delivered is stale a minute later, so it is simply tried again then.

What the monitor view reads from the Device (no personal data in any of it):

- ``status`` ``active`` while the kiosk runs (``inactive`` after a clean stop), ``version[0].value`` the app
  version, ``deviceName`` the kiosk id;
- ``statusReason``: ``online`` when every device is fine, ``hw-discon`` when one is in fault
  (device-status-reason codes);
- ``property``: one per device ``health-<kind>`` (``valueCode`` ok / degraded / fault / disabled, with the
  detail key as text), ``outbox-depth`` and ``dead-rows`` (``valueQuantity``);
- extensions (``EXT_BASE``…): ``heartbeat-at`` (instant), ``last-successful-sync`` (dateTime, absent before
  the first delivery), ``kiosk-status`` (ok / degraded / fault), ``last-sync-error`` (a message key).

Clock and sleep are injectable: tests call ``beat()`` and move a fake clock; nothing waits on wall time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kiosk.flow.ports import Clock

from .client import FhirClient
from .errors import BackendError
from .fhir.write_common import DEVICE_SYSTEM, instant

log = logging.getLogger(__name__)

Json = dict[str, Any]
EXT_BASE = "http://open-checkin-kiosk.org/fhir/StructureDefinition/"
PROPERTY_SYSTEM = "urn:open-checkin-kiosk:device-property"
HEALTH_SYSTEM = "urn:open-checkin-kiosk:device-health"
STATUS_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/device-status-reason"


@dataclass(frozen=True)
class ComponentHealth:
    """One device's health as the heartbeat reports it (the runtime converts ``devices`` health to this)."""

    name: str  # "printer", "payment", ...
    status: str  # "ok" | "degraded" | "fault" | "disabled"
    detail: str = ""  # a message key ("out_of_paper"), never personal data


@dataclass(frozen=True)
class SyncFigures:
    """What the heartbeat reports about delivery (from the sync worker's state)."""

    depth: int = 0
    dead: int = 0
    last_success: datetime | None = None
    last_error: str | None = None


def overall(components: Sequence[ComponentHealth], figures: SyncFigures) -> str:
    """``fault`` when a device is in fault, ``degraded`` when one needs attention or rows are dead."""
    statuses = {c.status for c in components}
    if "fault" in statuses:
        return "fault"
    if "degraded" in statuses or figures.dead:
        return "degraded"
    return "ok"


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _code(system: str, code: str, text: str = "") -> Json:
    concept: Json = {"coding": [{"system": system, "code": code}]}
    if text:
        concept["text"] = text
    return concept


def device_resource(
    kiosk_id: str,
    version: str,
    components: Sequence[ComponentHealth],
    figures: SyncFigures,
    at: datetime,
    *,
    active: bool = True,
    mode: str = "kiosk",
) -> Json:
    """The kiosk's Device resource at ``at`` (pure)."""
    state = overall(components, figures)
    properties: list[Json] = [
        {
            "type": _code(PROPERTY_SYSTEM, f"health-{c.name}", c.name),
            "valueCode": [_code(HEALTH_SYSTEM, c.status, c.detail)],
        }
        for c in components
    ]
    properties += [
        {"type": _code(PROPERTY_SYSTEM, "outbox-depth"), "valueQuantity": [{"value": figures.depth, "unit": "rows"}]},
        {"type": _code(PROPERTY_SYSTEM, "dead-rows"), "valueQuantity": [{"value": figures.dead, "unit": "rows"}]},
    ]
    extensions: list[Json] = [
        {"url": EXT_BASE + "heartbeat-at", "valueInstant": instant(at)},
        {"url": EXT_BASE + "kiosk-status", "valueCode": state},
    ]
    if figures.last_success is not None:
        extensions.append({"url": EXT_BASE + "last-successful-sync", "valueDateTime": instant(figures.last_success)})
    if figures.last_error:
        extensions.append({"url": EXT_BASE + "last-sync-error", "valueCode": figures.last_error})
    reason = "online" if state != "fault" else "hw-discon"
    return {
        "resourceType": "Device",
        "extension": extensions,
        "identifier": [{"system": DEVICE_SYSTEM, "value": kiosk_id}],
        "status": "active" if active else "inactive",
        "statusReason": [_code(STATUS_REASON_SYSTEM, reason if active else "off")],
        "deviceName": [{"name": f"Check-in kiosk {kiosk_id}", "type": "user-friendly-name"}],
        "type": {"text": "Patient check-in tablet" if mode == "tablet" else "Patient check-in kiosk"},
        "version": [{"value": version}],
        "property": properties,
    }


class Heartbeat:
    """Keeps the kiosk's Device current: ``beat()`` once, or ``start()`` a thread that beats every interval.

    ``on_contact(ok, error_key)`` is told after every beat whether the back-end answered (the runtime
    forwards it to the sync worker, which wakes up when the back-end comes back)."""

    def __init__(
        self,
        client: FhirClient,
        *,
        kiosk_id: str,
        version: str,
        health: Callable[[], Sequence[ComponentHealth]],
        figures: Callable[[], SyncFigures],
        clock: Clock | None = None,
        interval: float = 60.0,
        sleep: Callable[[float], None] | None = None,
        on_contact: Callable[[bool, str | None], None] | None = None,
        mode: str = "kiosk",
    ) -> None:
        self._client = client
        self.kiosk_id = kiosk_id
        self.version = version
        self._health = health
        self._figures = figures
        self._clock: Clock = clock or _UtcClock()
        self.interval = interval
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._on_contact = on_contact
        self._mode = mode
        self._thread: threading.Thread | None = None
        self.last_beat: datetime | None = None  # the last heartbeat the server took
        self.last_error: str | None = None
        self.beats = 0

    @property
    def url(self) -> str:
        return f"Device?identifier={quote(DEVICE_SYSTEM, safe=':')}|{quote(self.kiosk_id, safe='')}"

    def resource(self, *, active: bool = True) -> Json:
        components = self._safe(self._health, [])
        figures = self._safe(self._figures, SyncFigures())
        return device_resource(self.kiosk_id, self.version, components, figures, self._clock.now(),
                               active=active, mode=self._mode)  # fmt: skip

    @staticmethod
    def _safe(fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as exc:
            log.warning("heartbeat: a status source failed (%s)", type(exc).__name__)
            return default

    def beat(self, *, active: bool = True) -> bool:
        """Send the Device once. True when the back-end took it; errors are logged (type only), not raised."""
        resource = self.resource(active=active)
        try:
            self._client.request("PUT", self.url, json=resource)
        except BackendError as exc:
            self.last_error = exc.key
            log.info("heartbeat not delivered (%s, HTTP %s)", exc.key, exc.status)
            self._contact(False, exc.key)
            return False
        except Exception as exc:  # a bug must not stop the heartbeat thread
            self.last_error = "heartbeat_error"
            log.error("heartbeat failed: %s", type(exc).__name__)
            return False
        self.beats += 1
        self.last_beat = self._clock.now()
        self.last_error = None
        log.debug("heartbeat delivered")
        self._contact(True, None)
        return True

    def _contact(self, ok: bool, key: str | None) -> None:
        if self._on_contact is None:
            return
        try:
            self._on_contact(ok, key)
        except Exception:
            log.exception("heartbeat contact callback failed")

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0, *, farewell: bool = False) -> None:
        """Stop the thread; ``farewell`` sends a last Device with ``status = inactive`` (a clean shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if farewell:
            self.beat(active=False)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._sleep(self.interval)
