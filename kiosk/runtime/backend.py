"""The back-end half of the kiosk's object graph: FHIR client (TLS, authentication), directory (with the
offline day and local arrivals), encrypted outbox, sync worker, heartbeat. No Kivy here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.flow.ports import Clock
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.runtime.build import Devices

log = logging.getLogger(__name__)


# -- back-end --------------------------------------------------------------------------------------------
@dataclass
class Backend:
    client: Any
    directory: Any
    outbox: Any
    sink: Any
    sync: Any
    auth: Any = None
    day_cache: Any = None  # portal_client.offline.DayCacheWorker when [offline] prefetch is on
    heartbeat: Any = None

    def start(self, settings: Settings) -> None:
        if self.day_cache is not None:
            self.day_cache.start()
        if settings.sync.enabled:
            self.sync.start()
        if self.heartbeat is not None and settings.heartbeat.enabled:
            self.heartbeat.start()

    def close(self) -> None:
        heartbeat = self.heartbeat
        if heartbeat is not None and heartbeat.running:
            # A clean stop says so (Device status "inactive"), if the back-end was answering.
            heartbeat.stop(farewell=heartbeat.beats > 0 and heartbeat.last_error is None)
        for worker in (self.heartbeat, self.day_cache, self.sync):
            stop = getattr(worker, "stop", None)
            if stop:
                try:
                    stop()
                except Exception:
                    log.exception("stopping %s failed", type(worker).__name__)
        for obj in (self.outbox, self.client, self.auth):
            close = getattr(obj, "close", None)
            if close:
                close()


def tls_verify(settings: Settings) -> Any:
    """``verify`` for httpx: an SSL context when a CA file or a client certificate is set, else a bool."""
    from portal_client.auth import tls_context

    b = settings.backend
    if not b.verify_tls:
        log.warning("TLS verification of the back-end is OFF ([backend] verify_tls = false)")
        return False
    if b.ca_file or b.client_cert_file:
        return tls_context(
            ca_file=settings.resolve(b.ca_file) if b.ca_file else None,
            cert_file=settings.resolve(b.client_cert_file) if b.client_cert_file else None,
            key_file=settings.resolve(b.client_key_file) if b.client_key_file else None,
        )
    return True


def build_auth(settings: Settings, verify: Any, *, clock: Any = None, transport: Any = None) -> Any:
    """The ``httpx.Auth`` for ``[backend] auth``: None, a static bearer token, or SMART Backend Services."""
    from portal_client.auth import DEFAULT_SCOPE, BearerToken, SmartBackendAuth, load_private_key

    b = settings.backend
    if b.auth == "bearer":
        return BearerToken(settings.bearer_token())
    if b.auth == "smart":
        smart = b.smart
        assert smart.private_key_file is not None  # settings validation
        return SmartBackendAuth(
            client_id=smart.client_id,
            private_key=load_private_key(settings.resolve(smart.private_key_file), smart.algorithm),
            algorithm=smart.algorithm,
            key_id=smart.key_id or None,
            scope=smart.scope or DEFAULT_SCOPE,
            token_endpoint=smart.token_endpoint or None,
            fhir_base_url=b.base_url,
            clock=clock,
            timeout=b.timeout_s,
            transport=transport,
            verify=verify,
        )
    return None


def build_client(settings: Settings, *, timeout: float | None = None) -> tuple[Any, Any]:
    """``(FhirClient, auth)`` as configured: TLS (CA file, client certificate) and authentication."""
    from kiosk import __version__
    from portal_client.client import FhirClient

    b = settings.backend
    verify = tls_verify(settings)
    auth = build_auth(settings, verify)
    client = FhirClient(b.base_url, auth=auth, timeout=timeout or b.timeout_s, verify=verify,
                        user_agent=f"open-checkin-kiosk/{__version__}")  # fmt: skip
    return client, auth


def check_backend(settings: Settings) -> list[str]:
    """`kiosk config check`: secrets and certificates named in [backend] can be used."""
    from portal_client.errors import AuthError

    b = settings.backend
    problems = []
    if b.auth == "smart" and b.smart.private_key_file is not None:
        from portal_client.auth import load_private_key

        try:
            load_private_key(settings.resolve(b.smart.private_key_file), b.smart.algorithm)
        except AuthError as exc:
            problems.append(f"[backend.smart] private_key_file = {str(b.smart.private_key_file)!r}: {exc}")
    if b.auth == "bearer":
        try:
            if not settings.bearer_token():
                problems.append("[backend] token_file / token_env: the token is empty")
        except OSError as exc:
            problems.append(f"[backend] token_file = {str(b.token_file)!r}: cannot read it ({exc.strerror})")
    for key in ("ca_file", "client_cert_file", "client_key_file"):
        value = getattr(b, key)
        if value is not None and not settings.resolve(value).is_file():
            problems.append(f"[backend] {key} = {str(value)!r}: file not found")
    if not problems and (b.ca_file or b.client_cert_file):
        try:
            tls_verify(settings)
        except (OSError, ValueError) as exc:
            problems.append(f"[backend] ca_file / client_cert_file: not usable ({type(exc).__name__})")
    return problems


def build_backend(settings: Settings, *, clock: Clock | None = None, recover_after: timedelta | None = None) -> Backend:
    """``recover_after``: see ``Outbox`` (None at kiosk start-up: every row left in flight is sent again)."""
    from portal_client.crypto import SealedBox, ensure_outside
    from portal_client.directory import FhirDirectory
    from portal_client.offline import DayCache, DayCacheWorker
    from portal_client.offline_directory import LocalArrivals, OfflineDirectory
    from portal_client.outbox import DB_NAME, Outbox
    from portal_client.sink import OutboxSink
    from portal_client.sync import SyncWorker

    client, auth = build_client(settings)
    tz = ZoneInfo(settings.practice.timezone)
    live = FhirDirectory(client, tz=tz)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_outside(settings.outbox_key_path, data_dir)
    box = SealedBox.from_key_file(settings.outbox_key_path)  # one key seals the outbox and the offline day
    outbox = Outbox(data_dir / DB_NAME, box, dead_retention=timedelta(days=settings.outbox.dead_retention_days),
                    recover_after=recover_after)  # fmt: skip
    cache = DayCache(data_dir, box)
    day_worker = None
    if settings.offline.prefetch:
        day_worker = DayCacheWorker(cache, live, tz=tz, clock=clock,
                                    refresh=timedelta(minutes=settings.offline.refresh_minutes))  # fmt: skip
    elif cache.path.exists():
        cache.purge()  # the feature was switched off: nothing of it stays on disk
    directory = OfflineDirectory(live, cache if day_worker else None, arrivals=LocalArrivals(outbox), clock=clock)
    sync = SyncWorker(outbox, client, idle_poll=settings.sync.idle_poll_s, max_delay=settings.sync.max_backoff_s,
                      max_entries=settings.backend.max_transaction_entries or None,
                      reauth=getattr(auth, "invalidate", None))  # fmt: skip
    sink = OutboxSink(outbox, on_stored=sync.wake)
    return Backend(client=client, directory=directory, outbox=outbox, sink=sink, sync=sync, auth=auth,
                   day_cache=day_worker)  # fmt: skip


def build_heartbeat(settings: Settings, backend: Backend, devices: Devices, clock: Clock | None) -> Any:
    from kiosk import __version__
    from portal_client.heartbeat import ComponentHealth, Heartbeat, SyncFigures

    sync = backend.sync

    def health() -> list[ComponentHealth]:
        return [ComponentHealth(h.kind, str(h.status), h.detail or h.last_error) for h in devices.health()]

    def figures() -> SyncFigures:
        counts, state = backend.outbox.counts(), sync.state  # counts: also rows stored since the last pass
        return SyncFigures(counts.depth, counts.dead, state.last_success, state.last_error)

    def contact(ok: bool, error_key: str | None) -> None:
        was_online = sync.state.online
        sync.report_contact(ok, error_key)
        if ok and not was_online and sync.state.depth:
            sync.wake()  # the back-end is back: deliver now rather than at the end of a long backoff

    return Heartbeat(backend.client, kiosk_id=settings.kiosk.id, version=__version__, health=health,
                     figures=figures, clock=clock, interval=settings.heartbeat.interval_s, on_contact=contact,
                     mode=settings.kiosk.mode)  # fmt: skip


__all__ = ["Backend", "build_backend", "build_client", "build_heartbeat", "check_backend"]
