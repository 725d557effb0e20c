"""`kiosk monitor`: the fleet monitor built from a configuration file (``[backend]`` to read from, ``[monitor]``
for the thresholds). The Kivy dashboard (kiosk/ui) renders ``FleetMonitor`` snapshots; see
``portal_client.monitor`` for the model's API."""

from __future__ import annotations

from typing import Any

from kiosk.settings import Settings


class FleetHandle:
    """The monitor and what it holds open: ``close()`` stops the worker and the HTTP client."""

    def __init__(self, monitor: Any, client: Any, auth: Any) -> None:
        self.monitor = monitor
        self._client = client
        self._auth = auth

    def close(self) -> None:
        self.monitor.stop()
        self._client.close()
        close = getattr(self._auth, "close", None)
        if close is not None:
            close()


def build_fleet_monitor(settings: Settings, *, clock: Any = None) -> FleetHandle:
    from kiosk.runtime.backend import build_client
    from portal_client.monitor import FleetMonitor

    client, auth = build_client(settings)
    m = settings.monitor
    monitor = FleetMonitor(client, clock=clock, offline_after_s=m.offline_after_s, outbox_backlog=m.outbox_backlog,
                           clock_skew_s=m.clock_skew_s, refresh_s=m.refresh_s)  # fmt: skip
    return FleetHandle(monitor, client, auth)
