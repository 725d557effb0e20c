"""Local ``/metrics`` (Prometheus text format, prometheus-client) and ``/healthz`` for practice IT (DESIGN §7).

Started by ``Runtime.start()`` when ``[metrics] enabled``; bound to ``[metrics] host:port`` (127.0.0.1:9108 by
default). Anywhere but loopback a bearer token is required (``token_file`` / ``token_env``; settings refuse
the file otherwise): ``Authorization: Bearer <token>`` on both paths, compared in constant time, 401 without.
Every scrape reads the kiosk's status model at that moment (no background sampling). Nothing personal is
exported: ids, states, counts and times.

``/healthz``: JSON ``{"status": "ok"|"degraded"|"fault", "kiosk", "version", "devices": {kind: status},
"outbox_depth", "outbox_dead", "backend_online"}``; HTTP 200, or 503 when a device is in fault.

Metrics (all gauges): ``kiosk_info{kiosk,version,mode}``, ``kiosk_uptime_seconds``,
``kiosk_device_status{kind,backend,status}`` (one-hot over ok/degraded/fault/disabled),
``kiosk_outbox_rows{state}`` (waiting, dead), ``kiosk_backend_online``, ``kiosk_last_sync_timestamp_seconds``,
``kiosk_heartbeat_timestamp_seconds``, ``kiosk_checkins_today``, ``kiosk_desk_handoffs_today``,
``kiosk_payments_today``, ``kiosk_payments_today_cents``, ``kiosk_session_in_use``,
``kiosk_staff_lockout_seconds``, ``kiosk_disk_free_bytes``, ``kiosk_disk_total_bytes``.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kiosk.runtime.status import StatusSnapshot

log = logging.getLogger(__name__)

STATES = ("ok", "degraded", "fault", "disabled")


def overall(snap: StatusSnapshot) -> str:
    statuses = {d.status for d in snap.devices}
    if "fault" in statuses:
        return "fault"
    if "degraded" in statuses or snap.outbox.dead:
        return "degraded"
    return "ok"


def _gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


class KioskCollector(Collector):
    """Reads a fresh snapshot per scrape. ``snapshot`` and ``lockout`` are the status model's and staff's."""

    def __init__(self, snapshot: Callable[[], StatusSnapshot], lockout: Callable[[], float] = lambda: 0.0) -> None:
        self._snapshot = snapshot
        self._lockout = lockout

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
        yield _gauge("kiosk_info", "This kiosk", 1, {"kiosk": s.kiosk_id, "version": s.version, "mode": s.mode})
        yield _gauge("kiosk_uptime_seconds", "Seconds since the kiosk's runtime was built", s.uptime_s)
        devices = GaugeMetricFamily("kiosk_device_status", "Device health (1 for its current status)",
                                    labels=["kind", "backend", "status"])  # fmt: skip
        for d in s.devices:
            for state in STATES:
                devices.add_metric([d.kind, d.backend, state], 1.0 if d.status == state else 0.0)
        yield devices
        rows = GaugeMetricFamily("kiosk_outbox_rows", "Outbox rows by state", labels=["state"])
        rows.add_metric(["waiting"], s.outbox.depth)
        rows.add_metric(["dead"], s.outbox.dead)
        yield rows
        yield _gauge("kiosk_backend_online", "1 when the last exchange with the back-end got an answer",
                     1.0 if s.outbox.online else 0.0)  # fmt: skip
        if s.outbox.last_success is not None:
            yield _gauge("kiosk_last_sync_timestamp_seconds", "Last delivery to the back-end",
                         s.outbox.last_success.timestamp())  # fmt: skip
        if s.heartbeat_at is not None:
            yield _gauge("kiosk_heartbeat_timestamp_seconds", "Last heartbeat the back-end took",
                         s.heartbeat_at.timestamp())  # fmt: skip
        yield _gauge("kiosk_checkins_today", "Check-ins finished today", s.today.checkins)
        yield _gauge("kiosk_desk_handoffs_today", "Patients handed to the desk today", s.today.desk_handoffs)
        yield _gauge("kiosk_payments_today", "Approved card payments today", s.today.payments)
        yield _gauge("kiosk_payments_today_cents", "Their total, in cents", s.today.payments_cents,
                     {"currency": s.currency})  # fmt: skip
        yield _gauge("kiosk_session_in_use", "1 while a patient is using the kiosk", 1.0 if s.in_use else 0.0)
        yield _gauge("kiosk_staff_lockout_seconds", "Seconds until staff PIN entry is open again", self._lockout())
        yield _gauge("kiosk_disk_free_bytes", "Free space where the data folder is", s.disk.free_bytes)
        yield _gauge("kiosk_disk_total_bytes", "Size of that file system", s.disk.total_bytes)


def health_document(snap: StatusSnapshot) -> dict[str, Any]:
    return {
        "status": overall(snap),
        "kiosk": snap.kiosk_id,
        "version": snap.version,
        "devices": {d.kind: d.status for d in snap.devices},
        "outbox_depth": snap.outbox.depth,
        "outbox_dead": snap.outbox.dead,
        "backend_online": snap.outbox.online,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class MetricsServer:
    def __init__(
        self,
        snapshot: Callable[[], StatusSnapshot],
        *,
        host: str = "127.0.0.1",
        port: int = 9108,
        token: str = "",
        lockout: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(KioskCollector(snapshot, lockout))
        self._snapshot = snapshot
        self._token = token
        self.host = host
        self._server = (_Server6 if ":" in host else _Server)((host, port), self._handler())
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @classmethod
    def from_runtime(cls, runtime: Any) -> MetricsServer:
        from kiosk.settings_ops import LOOPBACK_HOSTS

        m = runtime.settings.metrics
        token = runtime.settings.metrics_token()
        if m.host not in LOOPBACK_HOSTS and not token:
            raise ValueError("[metrics] the token is empty: refusing to open /metrics to the network without one")
        lockout = runtime.staff.lockout_remaining if runtime.staff is not None else (lambda: 0.0)
        return cls(runtime.status.snapshot, host=m.host, port=m.port, token=token, lockout=lockout)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()
        log.info("metrics on %s (/metrics, /healthz%s)", self.url, ", bearer token" if self._token else "")

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "kiosk-metrics"

            def log_message(self, format: str, *args: Any) -> None:  # no access log lines
                return

            def do_GET(self) -> None:
                if outer._token and not _authorized(self.headers.get("Authorization", ""), outer._token):
                    self._send(401, b"unauthorized\n", "text/plain", {"WWW-Authenticate": "Bearer"})
                    return
                path = self.path.split("?", 1)[0]
                try:
                    if path == "/metrics":
                        self._send(200, generate_latest(outer.registry), CONTENT_TYPE_LATEST)
                    elif path == "/healthz":
                        doc = health_document(outer._snapshot())
                        code = 503 if doc["status"] == "fault" else 200
                        self._send(code, json.dumps(doc).encode(), "application/json")
                    else:
                        self._send(404, b"not found\n", "text/plain")
                except Exception as exc:
                    log.error("metrics request failed: %s", type(exc).__name__)
                    self._send(500, b"error\n", "text/plain")

            def _send(self, code: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _authorized(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
