"""The offline day: today's schedule kept on the kiosk, so patients can check in while the back-end is down.

``prefetch`` reads, through the live ``FhirDirectory``, every Appointment of the practice's local day, the
Patients they name (minimal: name, birth date, phone/email/address, balance — no identifiers, no version,
so a Patient change made offline is re-applied on the server's current version at delivery), each one's
Coverage, and the Questionnaires and consent templates due for each visit. The ``Snapshot`` is JSON,
compressed and sealed with the outbox's ``SealedBox`` (AES-256-GCM, associated data naming the day) in one
file of the data folder, written atomically (0600). A snapshot of another day is never served and is
deleted (``DayCache.purge_stale``): at start-up, at the first tick of a new day, and by ``purge()``.

``DayCacheWorker`` keeps it fresh: a prefetch at start and every ``refresh`` after; a failed prefetch keeps
the last good snapshot of the same day. Clock and sleep are injectable (tests call ``tick()``).
``offline_directory.OfflineDirectory`` serves from the snapshot when the back-end is unreachable.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from kiosk.flow.ports import Clock

from .client import FhirClient
from .crypto import CryptoError, SealedBox
from .directory import FhirDirectory
from .errors import BackendError
from .fhir import read_mapping as rm

log = logging.getLogger(__name__)

Json = dict[str, Any]
FILE_NAME = "offline-day.sealed"
FORMAT = 1
_PATIENT_KEYS = ("resourceType", "id", "active", "name", "birthDate", "telecom", "address")
_MAX_APPOINTMENTS = 2000


@dataclass(frozen=True)
class Snapshot:
    """Everything the flow reads for one local day (FHIR JSON as read, re-mapped when served)."""

    day: date
    taken_at: datetime
    appointments: dict[str, Json] = field(default_factory=dict, repr=False)
    patients: dict[str, Json] = field(default_factory=dict, repr=False)  # minimal, no meta
    coverage: dict[str, Json] = field(default_factory=dict, repr=False)  # patient id -> Coverage
    names: dict[str, str] = field(default_factory=dict, repr=False)  # "Practitioner/x" -> display name
    questionnaires: dict[str, Json] = field(default_factory=dict, repr=False)
    templates: dict[str, Json] = field(default_factory=dict, repr=False)  # consent DocumentReferences
    forms_due: dict[str, list[str]] = field(default_factory=dict, repr=False)  # appointment id -> ids
    consents_due: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def to_json(self) -> Json:
        return {
            "format": FORMAT,
            "day": self.day.isoformat(),
            "taken_at": self.taken_at.isoformat(),
            "appointments": self.appointments,
            "patients": self.patients,
            "coverage": self.coverage,
            "names": self.names,
            "questionnaires": self.questionnaires,
            "templates": self.templates,
            "forms_due": self.forms_due,
            "consents_due": self.consents_due,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        if data.get("format") != FORMAT:
            raise ValueError("unknown offline snapshot format")
        return cls(
            day=date.fromisoformat(data["day"]),
            taken_at=datetime.fromisoformat(data["taken_at"]),
            **{k: dict(data.get(k) or {}) for k in (
                "appointments", "patients", "coverage", "names", "questionnaires", "templates",
                "forms_due", "consents_due")},
        )  # fmt: skip


def minimal_patient(resource: Mapping[str, Any]) -> Json:
    """What the flow needs of a Patient: name, birth date, contact details, the balance extension."""
    out: Json = {k: resource[k] for k in _PATIENT_KEYS if k in resource}
    balance = [e for e in resource.get("extension") or [] if e.get("url") == rm.BALANCE_EXTENSION_URL]
    if balance:
        out["extension"] = balance
    return out


def _patient_ids(appointments: Iterable[Mapping[str, Any]]) -> list[str]:
    ids: list[str] = []
    for resource in appointments:
        for participant in resource.get("participant") or []:
            pid = rm.reference_id((participant.get("actor") or {}).get("reference"), "Patient")
            if pid and pid not in ids:
                ids.append(pid)
    return ids


class _Memo:
    """The client for one prefetch: identical searches (the forms of a visit type, the consent templates)
    are asked once, not once per appointment."""

    def __init__(self, client: FhirClient) -> None:
        self._client = client
        self._seen: dict[str, list[Json]] = {}

    def search_all(self, resource_type: str, params: Mapping[str, Any], limit: int = 500) -> Iterator[Json]:
        key = json.dumps([resource_type, params, limit], sort_keys=True, default=str)
        if key not in self._seen:
            self._seen[key] = list(self._client.search_all(resource_type, params, limit=limit))
        return iter(self._seen[key])

    def read(self, resource_type: str, resource_id: str) -> Json:
        return self._client.read(resource_type, resource_id)


def prefetch(directory: FhirDirectory, day: date, *, now: datetime, chunk: int = 50) -> Snapshot:
    """Read the day through the live directory. Raises ``BackendError`` when the back-end fails meanwhile."""
    client, tz = directory.client, directory.tz
    directory = FhirDirectory(_Memo(client), tz=tz, language=directory.language,  # type: ignore[arg-type]
                              default_renewal=directory.default_renewal, page_size=directory.page_size)  # fmt: skip
    start = datetime.combine(day, time.min, tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tz)
    params = {"date": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"], "_count": "500", "_sort": "date"}
    appointments = {str(a["id"]): a for a in client.search_all("Appointment", params, limit=_MAX_APPOINTMENTS)}
    names = directory.resolve_names(k for a in appointments.values() for k in rm.appointment_references(a))
    patients: dict[str, Json] = {}
    pids = _patient_ids(appointments.values())
    for i in range(0, len(pids), chunk):
        ids = pids[i : i + chunk]
        for resource in client.search_all("Patient", {"_id": ",".join(ids), "_count": str(len(ids))}, limit=len(ids)):
            patients[str(resource["id"])] = minimal_patient(resource)
    names = dict(names)
    coverage: dict[str, Json] = {}
    for pid in patients:
        info = directory.coverage_for(pid)
        if info is not None and info.source:
            coverage[pid] = dict(info.source)
            payer = rm.payer_reference(info.source)
            if payer and info.payer_name:
                names[payer] = info.payer_name
    questionnaires: dict[str, Json] = {}
    templates: dict[str, Json] = {}
    forms_due: dict[str, list[str]] = {}
    consents_due: dict[str, list[str]] = {}
    for aid, resource in appointments.items():
        try:
            appointment = rm.appointment(resource, names)
            patient = rm.patient(patients[appointment.patient_id])
        except (rm.MappingError, KeyError):
            continue
        forms = directory.questionnaires_due(patient, appointment)
        questionnaires.update({str(q["id"]): dict(q) for q in forms})
        forms_due[aid] = [str(q["id"]) for q in forms]
        consents = [d for d in directory.consents_due(patient, appointment) if d.source]
        templates.update({d.id: dict(d.source) for d in consents})
        consents_due[aid] = [d.id for d in consents]
    log.info("offline day: %d appointment(s), %d patient(s) kept for %s", len(appointments), len(patients), day)
    return Snapshot(day, now, appointments, patients, coverage, names, questionnaires, templates, forms_due,
                    consents_due)  # fmt: skip


class DayCache:
    """The sealed snapshot file in the data folder, and the snapshot in memory. Thread-safe."""

    def __init__(self, data_dir: str | os.PathLike[str], box: SealedBox) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._box = box
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._loaded = False

    @staticmethod
    def _aad(day: date) -> bytes:
        return b"offline-day\x00" + day.isoformat().encode()

    def snapshot(self, day: date) -> Snapshot | None:
        """The snapshot of ``day`` (from memory, else from the file), or None."""
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self._snapshot = self._read()
            snap = self._snapshot
        return snap if snap is not None and snap.day == day else None

    def _read(self) -> Snapshot | None:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("offline day: cannot read the snapshot (%s)", type(exc).__name__)
            return None
        try:
            day = date.fromisoformat(blob[:10].decode("ascii"))
            data = json.loads(zlib.decompress(self._box.open(blob[10:], aad=self._aad(day))))
            return Snapshot.from_json(data)
        except (CryptoError, ValueError, zlib.error, UnicodeDecodeError, KeyError, TypeError) as exc:
            log.warning("offline day: snapshot unusable (%s); deleted", type(exc).__name__)
            self.path.unlink(missing_ok=True)
            return None

    def store(self, snapshot: Snapshot) -> None:
        raw = json.dumps(snapshot.to_json(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        sealed = self._box.seal(zlib.compress(raw, 6), aad=self._aad(snapshot.day))
        blob = snapshot.day.isoformat().encode("ascii") + sealed
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, blob)
            os.fsync(fd)
        finally:
            os.close(fd)
        with self._lock:
            os.replace(tmp, self.path)
            self._snapshot, self._loaded = snapshot, True

    def purge(self) -> None:
        """Forget the snapshot and delete its file (end of day, or the feature switched off)."""
        with self._lock:
            self._snapshot, self._loaded = None, True
            self.path.unlink(missing_ok=True)
        log.info("offline day: snapshot purged")

    def purge_stale(self, today: date) -> bool:
        """Delete a snapshot of another day. True when one was deleted."""
        self.snapshot(today)  # loads the file once
        with self._lock:
            stale = self._snapshot is not None and self._snapshot.day != today
        if stale:
            self.purge()
        return stale


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class DayCacheWorker:
    """Prefetches the day at start and every ``refresh``; purges yesterday's snapshot when the day turns."""

    def __init__(
        self,
        cache: DayCache,
        directory: FhirDirectory,
        *,
        tz: tzinfo,
        clock: Clock | None = None,
        refresh: timedelta = timedelta(minutes=30),
        retry: timedelta = timedelta(minutes=2),
        tick_every: float = 60.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.cache = cache
        self._directory = directory
        self._tz = tz
        self._clock: Clock = clock or _UtcClock()
        self._refresh = refresh
        self._retry = retry
        self._tick_every = tick_every
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._thread: threading.Thread | None = None
        self._next_try: datetime | None = None
        self.last_error: str | None = None

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    def tick(self) -> bool:
        """Purge a stale snapshot; prefetch when none is fresh enough. True when a prefetch was stored."""
        now = self._clock.now()
        today = now.astimezone(self._tz).date()
        if self.cache.purge_stale(today):
            self._next_try = None
        snap = self.cache.snapshot(today)
        due = snap is None or now >= snap.taken_at + self._refresh
        if not due or (self._next_try is not None and now < self._next_try):
            return False
        try:
            fresh = prefetch(self._directory, today, now=now)
        except BackendError as exc:
            self.last_error = exc.key
            self._next_try = now + self._retry
            log.info("offline day: prefetch failed (%s); %s", exc.key,
                     "keeping the earlier snapshot" if snap else "no snapshot yet")  # fmt: skip
            return False
        self.cache.store(fresh)
        self.last_error, self._next_try = None, None
        return True

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="offline-day", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # a bug must not end the thread
                log.error("offline day: tick failed (%s)", type(exc).__name__)
            self._sleep(self._tick_every)
