"""The offline day against the real sandbox: what the prefetch keeps, that the offline directory answers as
the live one did, the sealed file, the day turning over, and local arrivals."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_sync_sandbox import Cuttable, make_record

from kiosk.flow.types import AppointmentStatus
from portal_client.client import FhirClient
from portal_client.crypto import SealedBox
from portal_client.directory import FhirDirectory
from portal_client.errors import BackendUnavailable
from portal_client.offline import FILE_NAME, DayCache, DayCacheWorker, prefetch
from portal_client.offline_directory import LocalArrivals, OfflineDirectory
from portal_client.outbox import open_outbox
from portal_client.sandbox import seed as demo
from portal_client.sandbox.seed import SeedInfo
from portal_client.sink import OutboxSink

pytestmark = pytest.mark.sandbox


class Clock:
    def __init__(self, now: object) -> None:
        self.t = now

    def now(self):  # type: ignore[no-untyped-def]
        return self.t


@pytest.fixture
def network() -> Cuttable:
    return Cuttable()


@pytest.fixture
def live(sandbox_url: str, sandbox_seed: SeedInfo, network: Cuttable) -> Iterator[FhirDirectory]:
    with FhirClient(sandbox_url, timeout=10.0, transport=network) as client:
        yield FhirDirectory(client, tz=demo.DEFAULT_TZ, clock=lambda: sandbox_seed.now)


@pytest.fixture
def box(tmp_path: Path) -> SealedBox:
    return SealedBox.from_key_file(tmp_path / "keys" / "outbox.key")


def test_prefetch_keeps_the_day_minimally(live: FhirDirectory, sandbox_seed: SeedInfo) -> None:
    snap = prefetch(live, sandbox_seed.today, now=sandbox_seed.now)
    assert set(sandbox_seed.appointment_ids.values()) <= set(snap.appointments)
    whitfield = snap.patients[demo.DEMO_RETURNING.patient_id]
    assert set(whitfield) <= {"resourceType", "id", "active", "name", "birthDate", "telecom", "address", "extension"}
    assert "meta" not in whitfield and "identifier" not in whitfield  # no MRN, no version
    assert snap.patients[demo.DEMO_BALANCE.patient_id]["extension"][0]["valueMoney"]["value"] == 250
    assert snap.forms_due[sandbox_seed.appointment_ids["returning"]] == []
    assert sorted(snap.forms_due[sandbox_seed.appointment_ids["new_forms"]]) == sorted(
        [demo.QUESTIONNAIRE_HEALTH_HISTORY, demo.QUESTIONNAIRE_PHQ9])
    assert snap.consents_due[sandbox_seed.appointment_ids["new_forms"]] == [demo.CONSENT_DOCUMENT_ID]
    assert snap.names["Practitioner/" + demo.PRACTITIONER_CHEN].startswith("Dr. Maya Chen")


def test_offline_answers_are_the_live_answers(
    live: FhirDirectory, sandbox_seed: SeedInfo, network: Cuttable, tmp_path: Path, box: SealedBox
) -> None:
    cache = DayCache(tmp_path / "data", box)
    cache.store(prefetch(live, sandbox_seed.today, now=sandbox_seed.now))
    clock = Clock(sandbox_seed.now)
    directory = OfflineDirectory(live, cache, clock=clock)
    day = sandbox_seed.today
    answers = {}
    for down in (False, True):
        network.down = down
        got = []
        for who in demo.DEMO_PATIENTS.values():
            found = directory.find_patients(who.family.upper(), who.given, who.birth_date)
            patient = directory.get_patient(who.patient_id)
            assert patient is not None
            appointments = directory.appointments_on(who.patient_id, day)
            got.append((
                [p.id for p in found], (patient.given, patient.family, patient.birth_date, patient.demographics,
                                        patient.balance),
                appointments, directory.coverage_for(who.patient_id),
                [[q["id"] for q in directory.questionnaires_due(patient, a)] for a in appointments],
                [[d.id for d in directory.consents_due(patient, a)] for a in appointments],
            ))  # fmt: skip
        answers[down] = got
        assert directory.offline is down
    assert answers[True] == answers[False]
    assert directory.served_offline > 0
    # An unknown patient is unknown offline too; another day has nothing.
    assert directory.find_patients("Nobody", "No", demo.DEMO_RETURNING.birth_date) == ()
    assert directory.appointments_on(demo.DEMO_RETURNING.patient_id, day + timedelta(days=1)) == ()


def test_without_a_snapshot_the_outage_reaches_the_flow(live: FhirDirectory, network: Cuttable) -> None:
    network.down = True
    with pytest.raises(BackendUnavailable):
        OfflineDirectory(live, None).find_patients("Whitfield", "Eleanor", demo.DEMO_RETURNING.birth_date)


def test_the_snapshot_file_is_sealed_0600_and_bound_to_its_day(
    live: FhirDirectory, sandbox_seed: SeedInfo, tmp_path: Path, box: SealedBox
) -> None:
    data = tmp_path / "data"
    DayCache(data, box).store(prefetch(live, sandbox_seed.today, now=sandbox_seed.now))
    path = data / FILE_NAME
    assert os.stat(path).st_mode & 0o777 == 0o600
    blob = path.read_bytes()
    assert b"Whitfield" not in blob and b"1948-06-12" not in blob
    assert DayCache(data, box).snapshot(sandbox_seed.today) is not None  # a restart reads it back
    # The day in clear is the associated data: moved to another day, it does not open (and is deleted).
    path.write_bytes((sandbox_seed.today + timedelta(days=1)).isoformat().encode() + blob[10:])
    assert DayCache(data, box).snapshot(sandbox_seed.today + timedelta(days=1)) is None
    assert not path.exists()


def test_worker_refreshes_keeps_the_last_good_snapshot_and_purges_at_day_end(
    live: FhirDirectory, sandbox_seed: SeedInfo, network: Cuttable, tmp_path: Path, box: SealedBox
) -> None:
    cache = DayCache(tmp_path / "data", box)
    clock = Clock(sandbox_seed.now)
    worker = DayCacheWorker(cache, live, tz=demo.DEFAULT_TZ, clock=clock, refresh=timedelta(minutes=30),
                            retry=timedelta(minutes=2))  # fmt: skip
    assert worker.tick()
    first = cache.snapshot(sandbox_seed.today)
    assert first is not None and not worker.tick()  # fresh enough
    clock.t += timedelta(minutes=31)
    network.down = True
    assert not worker.tick() and worker.last_error == "backend_unavailable"
    assert cache.snapshot(sandbox_seed.today) is first  # the last good one stays
    network.down = False
    clock.t += timedelta(minutes=1)
    assert not worker.tick()  # waits for the retry delay
    clock.t += timedelta(minutes=1)
    assert worker.tick() and cache.snapshot(sandbox_seed.today) is not first
    # Midnight: yesterday's snapshot is deleted before anything else; today's is fetched when possible.
    network.down = True
    clock.t = sandbox_seed.now.replace(hour=0, minute=5) + timedelta(days=1)
    assert not worker.tick()
    assert not cache.path.exists() and cache.snapshot(sandbox_seed.today) is None


def test_local_arrivals_mark_appointments_waiting_in_the_outbox(
    live: FhirDirectory, sandbox_seed: SeedInfo, tmp_path: Path
) -> None:
    outbox = open_outbox(tmp_path / "data", tmp_path / "keys" / "outbox.key")
    directory = OfflineDirectory(live, None, arrivals=LocalArrivals(outbox))
    appointment_id = sandbox_seed.appointment_ids["new_forms"]
    assert directory.get_appointment(appointment_id).status is AppointmentStatus.BOOKED  # type: ignore[union-attr]
    OutboxSink(outbox).submit(make_record(live, sandbox_seed))
    assert directory.get_appointment(appointment_id).status is AppointmentStatus.ARRIVED  # type: ignore[union-attr]
    (listed,) = [a for a in directory.appointments_on(demo.DEMO_NEW_FORMS.patient_id, sandbox_seed.today)]
    assert listed.status is AppointmentStatus.ARRIVED
    for row in outbox.rows():
        outbox.ack(row.id)  # delivered: the server's word counts again
    assert directory.get_appointment(appointment_id).status is AppointmentStatus.BOOKED  # type: ignore[union-attr]
