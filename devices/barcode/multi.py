"""Several barcode sources as one: a lobby kiosk with a 2D imager (wedge or serial) AND the camera.

The runtime holds one barcode device; ``backend = "multi"`` makes that one device a list of others, all
delivering to the same callback (each on its own thread, as before: the UI marshals them all the same way).

Options (``[devices.barcode]`` with ``backend = "multi"``)::

    [devices.barcode]
    backend = "multi"

    [[devices.barcode.sources]]
    backend = "wedge"              # the USB 2D imager in keyboard mode
    max_gap = 0.05

    [[devices.barcode.sources]]
    backend = "camera"             # decodes the kiosk's camera while the identify screen shows it
    roi = [0.2, 0.15, 0.8, 0.85]

Each table is one source: ``backend`` plus that backend's own options (checked by it). A source is never
``multi`` itself. Health is the worst part's (FAULT when any part is at fault, detail named by the part).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from devices.barcode.base import BarcodeCallback, BarcodeSource
from devices.errors import DeviceOperationError, DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)

_ORDER = {HealthStatus.OK: 0, HealthStatus.DISABLED: 0, HealthStatus.DEGRADED: 1, HealthStatus.FAULT: 2}


class MultiBarcodeSource:
    backend = "multi"

    def __init__(self, sources: Sequence[BarcodeSource]) -> None:
        if not sources:
            raise ValueError("a multi barcode source needs at least one source")
        self.sources: tuple[BarcodeSource, ...] = tuple(sources)
        self._started: list[BarcodeSource] = []

    @staticmethod
    def _tables(options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        opts = OptionReader("barcode", MultiBarcodeSource.backend, options)
        found, raw = opts.get_raw("sources")
        opts.finish()
        expected = 'a list of tables, each with a backend (e.g. [[devices.barcode.sources]] backend = "wedge")'
        if not found or not isinstance(raw, (list, tuple)) or not raw:
            raise opts.error("sources", raw, expected)
        tables = []
        for table in raw:
            if not isinstance(table, Mapping) or not isinstance(table.get("backend"), str):
                raise opts.error("sources", table, expected)
            rest = dict(table)
            backend = str(rest.pop("backend"))
            if backend == MultiBarcodeSource.backend:
                raise opts.error("sources", backend, "other barcode backends (a multi source cannot hold another)")
            tables.append((backend, rest))
        return tables

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MultiBarcodeSource:
        from devices import registry

        sources = []
        for backend, rest in cls._tables(options):
            created = registry.create("barcode", backend, rest)
            if not isinstance(created, BarcodeSource):
                raise DeviceSetupError(f"barcode backend 'multi': {backend!r} is not a barcode source")
            sources.append(created)
        return cls(sources)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """`kiosk config check`: the list's shape, and each part as its own backend checks it."""
        from devices import registry

        for backend, rest in cls._tables(options):
            registry.check_options("barcode", backend, rest)

    # -- BarcodeSource protocol ---------------------------------------------------------------------------
    def start(self, on_barcode: BarcodeCallback) -> None:
        if self._started:
            raise DeviceOperationError("barcode source already started")
        try:
            for source in self.sources:
                source.start(on_barcode)
                self._started.append(source)
        except Exception:
            self.stop()  # all or nothing: a kiosk half listening would be hard to diagnose
            raise
        log.info("barcode sources started: %s", ", ".join(_name(s) for s in self.sources))

    def stop(self) -> None:
        started, self._started = self._started, []
        for source in reversed(started):
            try:
                source.stop()
            except Exception as exc:
                log.warning("stopping barcode source %s failed: %s", _name(source), type(exc).__name__)

    def health(self) -> DeviceHealth:
        worst: DeviceHealth | None = None
        for source in self.sources:
            try:
                health = source.health()
            except Exception as exc:
                health = DeviceHealth("barcode", _name(source), HealthStatus.FAULT, "health_failed", type(exc).__name__)
            if worst is None or _ORDER.get(health.status, 2) > _ORDER.get(worst.status, 2):
                worst = health
        assert worst is not None  # at least one source (checked in __init__)
        if _ORDER.get(worst.status, 2) == 0:
            return DeviceHealth("barcode", self.backend, HealthStatus.OK)
        detail = f"{worst.backend}: {worst.detail}" if worst.detail else worst.backend
        return DeviceHealth("barcode", self.backend, worst.status, detail, worst.last_error)


def _name(source: object) -> str:
    return str(getattr(source, "backend", type(source).__name__))


def parts(source: object) -> list[Any]:
    """The sources inside a barcode device: its parts for ``multi``, else the device itself (None: none)."""
    if source is None:
        return []
    if isinstance(source, MultiBarcodeSource):
        return list(source.sources)
    return [source]
