"""The sync worker: a thread that drains the outbox to the FHIR server (DESIGN §5).

Per row, by what the back-end answered:
- delivered → the row is deleted (``ack``);
- unavailable (connect error, timeout, 5xx, 429) → back to pending; the worker pauses with exponential
  backoff and jitter, or exactly ``Retry-After`` when the server sent one;
- auth (401/403) → the re-auth hook (e.g. drop the cached token), then up to ``max_auth_retries`` more
  tries at once; still refused → back to pending with backoff (the row is not at fault);
- rejected (other 4xx) → the row is dead, kept with the (encrypted) OperationOutcome for staff;
- version conflict → handled inside ``Deliverer`` (re-read, re-apply); if it keeps conflicting, backoff.

Replays are harmless (conditional creates, If-Match re-application), so delivery is at-least-once.

State for the status screen goes to subscribers as an immutable ``SyncState`` after each drain. Callbacks
run on the worker thread: UI code marshals them to its own thread. The clock, the sleep and the random
source are injectable, so tests never wait on wall time: ``drain_once()`` runs one pass synchronously
(``kiosk sync`` uses it too).
"""

from __future__ import annotations

import logging
import random as _random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.flow.ports import Clock

from .client import FhirClient
from .delivery import Deliverer
from .errors import AuthError, BackendError, BackendRejected, BackendUnavailable, PreconditionFailed
from .outbox import Outbox, OutboxError, OutboxRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncState:
    online: bool = False  # the last exchange with the back-end got an answer
    depth: int = 0  # rows still to deliver
    dead: int = 0  # rows the back-end refused (staff must look)
    last_success: datetime | None = None
    last_error: str | None = None  # a message key, e.g. "backend_unavailable"; None after a success
    next_attempt: datetime | None = None  # when the worker tries again after a failure


@dataclass(frozen=True)
class DrainReport:
    sent: int = 0
    dead: int = 0
    retried: int = 0  # rows put back for later
    depth: int = 0  # rows left to deliver afterwards


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


Subscriber = Callable[[SyncState], None]


class SyncWorker:
    def __init__(
        self,
        outbox: Outbox,
        client: FhirClient,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
        reauth: Callable[[], None] | None = None,
        max_entries: int | None = 8,
        base_delay: float = 2.0,
        max_delay: float = 300.0,
        max_retry_after: float = 3600.0,
        max_auth_retries: int = 2,
        idle_poll: float = 30.0,
    ) -> None:
        self._outbox = outbox
        self._deliverer = Deliverer(client, max_entries=max_entries)
        self._clock: Clock = clock or _UtcClock()
        self._event = threading.Event()
        self._sleep = sleep or self._wait
        self._random = random or _random.Random().random
        self._reauth = reauth
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_retry_after = max_retry_after
        self._max_auth_retries = max_auth_retries
        self._idle_poll = idle_poll
        self._failures = 0
        self._pause_until: datetime | None = None
        self._force = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._drain_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        counts = outbox.counts()
        self._state = SyncState(depth=counts.depth, dead=counts.dead)

    # -- state -----------------------------------------------------------------------------------------
    @property
    def state(self) -> SyncState:
        with self._state_lock:
            return self._state

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(state)`` after every change (on the worker thread). Returns an unsubscribe."""
        with self._state_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._state_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, **changes: Any) -> None:
        counts = self._outbox.counts()
        with self._state_lock:
            self._state = replace(self._state, depth=counts.depth, dead=counts.dead, **changes)
            state, subscribers = self._state, list(self._subscribers)
        for callback in subscribers:
            try:
                callback(state)
            except Exception:
                log.exception("sync state subscriber failed")

    def report_contact(self, ok: bool, error_key: str | None = None) -> None:
        """Reachability seen elsewhere (the heartbeat): keeps ``online`` honest when the outbox is empty."""
        self._publish(online=ok, **({} if ok else {"last_error": error_key or "backend_unavailable"}))

    # -- one pass --------------------------------------------------------------------------------------
    def drain_once(self, *, force: bool = True) -> DrainReport:
        """One pass, now: deliver rows until none is left or the back-end fails.

        ``force`` (the default: ``kiosk sync``, "sync now") tries every pending row at once, ignoring the
        backoff; the worker thread passes ``force=False`` to respect due times and the pause.
        """
        sent = dead = retried = 0
        with self._drain_lock:
            now = self._clock.now()
            if not force and self._pause_until is not None and now < self._pause_until:
                return DrainReport(depth=self._outbox.counts().depth)
            while not self._stopping:
                row = self._outbox.claim(due_only=not force)
                if row is None:
                    break
                result = self._send(row)
                if result == "sent":
                    sent += 1
                elif result == "dead":
                    dead += 1
                else:
                    retried += 1
                    break
        report = DrainReport(sent, dead, retried, self._outbox.counts().depth)
        if sent or dead or retried:
            log.info("sync pass: %d sent, %d dead, %d retried, %d left", sent, dead, retried, report.depth)
        self._publish()
        return report

    def _send(self, row: OutboxRow) -> str:
        auth_tries = 0
        while True:
            try:
                self._deliverer.deliver(row.payload, lambda p: self._outbox.replace_payload(row.id, p))
            except AuthError as exc:
                if self._reauth is not None and auth_tries < self._max_auth_retries:
                    auth_tries += 1
                    log.info(
                        "row %d: back-end refused our credentials (HTTP %s), re-authenticating",
                        row.id,
                        exc.status,
                    )
                    try:
                        self._reauth()
                    except Exception as reauth_exc:
                        log.warning("re-authentication failed (%s)", type(reauth_exc).__name__)
                        return self._retry(row, exc, online=False)
                    continue
                return self._retry(row, exc, online=True)
            except BackendUnavailable as exc:
                return self._retry(row, exc, online=False, retry_after=exc.retry_after)
            except PreconditionFailed as exc:
                return self._retry(row, exc, online=True)
            except BackendRejected as exc:
                self._outbox.mark_dead(row.id, exc.outcome or _outcome_for(exc))
                log.warning("row %d (%s) refused by the back-end: HTTP %s", row.id, row.kind, exc.status)
                self._publish(online=True)
                return "dead"
            except OutboxError:
                raise
            except Exception as exc:  # a bug: keep the row, try later, tell the logs (type only)
                log.exception("row %d: unexpected %s while delivering", row.id, type(exc).__name__)
                return self._retry(row, None, online=self.state.online, error_key="sync_error")
            self._outbox.ack(row.id)
            self._failures = 0
            self._pause_until = None
            log.info("row %d (%s) delivered after %d attempt(s)", row.id, row.kind, row.attempts)
            self._publish(online=True, last_success=self._clock.now(), last_error=None, next_attempt=None)
            return "sent"

    def _retry(
        self,
        row: OutboxRow,
        exc: BackendError | None,
        *,
        online: bool,
        retry_after: float | None = None,
        error_key: str | None = None,
    ) -> str:
        self._failures += 1
        if retry_after is not None:
            delay = min(retry_after, self._max_retry_after)
        else:
            delay = self.backoff(self._failures)
        self._outbox.release(row.id, delay=delay)
        self._pause_until = self._clock.now() + timedelta(seconds=delay)
        key = error_key or (exc.key if exc is not None else "sync_error")
        log.info("row %d: %s (HTTP %s); retry in %.1f s", row.id, key, getattr(exc, "status", None), delay)
        self._publish(online=online, last_error=key, next_attempt=self._pause_until)
        return "retry"

    def backoff(self, failures: int) -> float:
        """Exponential backoff with "equal jitter": half the step fixed, half random."""
        step = min(self._max_delay, self._base_delay * (2.0 ** max(0, failures - 1)))
        return step / 2 + self._random() * step / 2

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="outbox-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Try now, ignoring the backoff ("sync now" on the status screen)."""
        self._force = True
        self._event.set()

    def notify(self) -> None:
        """New work was stored: send it now unless the worker is backing off."""
        self._event.set()

    def _wait(self, seconds: float) -> None:
        self._event.wait(seconds)
        self._event.clear()

    def _next_delay(self) -> float:
        now = self._clock.now()
        delay = self._idle_poll
        due = self._outbox.next_due()
        if due is not None:
            delay = min(delay, max(0.0, (due - now).total_seconds()))
        if self._pause_until is not None:
            delay = max(delay, (self._pause_until - now).total_seconds())
        return max(0.0, delay)

    def _run(self) -> None:
        log.info("sync worker started")
        while not self._stopping:
            force, self._force = self._force, False
            delay: float | None = None
            try:
                self.drain_once(force=force)
            except Exception as exc:
                log.error("sync pass failed: %s", type(exc).__name__)
                delay = self._idle_poll
                try:
                    self._publish(last_error="storage_error")
                except Exception:
                    log.error("sync state unavailable")
            if self._stopping:
                break
            self._sleep(delay if delay is not None else self._next_delay())
        log.info("sync worker stopped")


def _outcome_for(exc: BackendError) -> dict[str, object]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "processing", "diagnostics": f"{exc.key}: HTTP {exc.status}"}
        ],
    }
