"""A tablet adds intake to a visit: it never makes a second Encounter for a visit that already has one.

Real runtimes (a lobby kiosk and a tablet) on the FHIR sandbox. The visit's Encounter may come from the
kiosk's check-in (the patient's ticket opens the visit on the tablet) or from the desk (the practice system
checked the patient in); either way the tablet's QuestionnaireResponses and Provenance point to it. With no
Encounter yet, the tablet makes one, and delivering its Bundle again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from checkin_driver import check_in
from test_outage_day import SteppingClock
from test_staff_status import DEMO_PIN, settings_for
from test_tablet_runtime import intake, server

from kiosk.flow.results import Done, Show, Step
from kiosk.runtime.build import Runtime, build_runtime
from portal_client.outbox import RowState
from portal_client.sandbox.crowd import CrowdPatient, crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox


@pytest.fixture
def tablet(sandbox_seed: SeedInfo, tmp_path: Path) -> Iterator[Runtime]:
    settings = settings_for(sandbox_seed.base_url, tmp_path / "tablet", kiosk={"mode": "tablet", "id": "tablet-1"})
    rt = build_runtime(settings, clock=SteppingClock(sandbox_seed.now))
    yield rt
    rt.stop()


def encounters(base: str, p: CrowdPatient) -> list[dict[str, Any]]:
    return server(base, "Encounter", appointment=f"Appointment/{p.appointment_id}")


def intake_lands(tablet: Runtime, first: Any, p: CrowdPatient) -> dict[str, Any]:
    """The patient fills in the intake; the tablet's row is delivered. Returns its payload as stored."""
    assert isinstance(first, Show) and first.step == Step.DEMOGRAPHICS, first
    end = intake(tablet, first, p)
    assert end.data["outcome"] == "done"
    (row_id,) = [r.id for r in tablet.outbox.rows(RowState.PENDING) if r.kind == "checkin"]
    payload = tablet.outbox.get(row_id).payload
    tablet.sync.drain_once()
    assert tablet.outbox.counts().dead == 0 and tablet.outbox.get(row_id) is None  # delivered
    return dict(payload)


def responses_point_to(base: str, p: CrowdPatient, encounter_id: str) -> None:
    responses = server(base, "QuestionnaireResponse", subject=f"Patient/{p.patient_id}")
    assert responses and {r["encounter"]["reference"] for r in responses} == {f"Encounter/{encounter_id}"}
    provenances = server(base, "Provenance", _count="100")
    targets = {t["reference"] for prov in provenances for t in prov.get("target", [])}
    assert f"Encounter/{encounter_id}" in targets


def test_after_a_kiosk_check_in_the_ticket_opens_the_same_encounter(
    tablet: Runtime, sandbox_seed: SeedInfo, tmp_path: Path
) -> None:
    base = sandbox_seed.base_url
    patients = crowd(3, sandbox_seed.now)
    seed_crowd(base, patients)
    p = next(x for x in patients if x.shape == "forms")
    kiosk = build_runtime(settings_for(base, tmp_path / "kiosk"), clock=SteppingClock(sandbox_seed.now))
    try:
        done = check_in(kiosk.flow, p)
        assert isinstance(done, Done)
        kiosk.sync.drain_once()
    finally:
        kiosk.stop()
    (kiosk_encounter,) = encounters(base, p)
    assert tablet.staff.unlock_pin(DEMO_PIN).ok
    tablet.flow.start()
    first = tablet.flow.submit({"action": "ticket", "text": f"CKI-TICKET:{done.summary['checkin_id']}"})
    sent = intake_lands(tablet, first, p)
    enc = next(e for e in sent["bundle"]["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert enc["request"]["ifNoneExist"] == f"appointment=Appointment/{p.appointment_id}"
    assert [e["id"] for e in encounters(base, p)] == [kiosk_encounter["id"]]  # still the kiosk's one
    responses_point_to(base, p, kiosk_encounter["id"])


def test_checked_in_at_the_desk_the_desks_encounter_is_used(tablet: Runtime, sandbox_seed: SeedInfo) -> None:
    base = sandbox_seed.base_url
    patients = crowd(3, sandbox_seed.now)
    seed_crowd(base, patients)
    p = next(x for x in patients if x.shape == "forms")
    http = httpx.Client(timeout=10)
    appointment = http.get(f"{base}/Appointment/{p.appointment_id}").json()
    assert http.put(f"{base}/Appointment/{p.appointment_id}", json={**appointment, "status": "arrived"}).is_success
    desk = http.post(f"{base}/Encounter", json={
        "resourceType": "Encounter", "status": "arrived", "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{p.patient_id}"},
        "appointment": [{"reference": f"Appointment/{p.appointment_id}"}]}).json()  # fmt: skip
    assert tablet.staff.unlock_pin(DEMO_PIN).ok
    tablet.flow.start()
    listed = tablet.flow.submit({"action": "load"})
    visit = next(v for v in listed.data["visits"] if v["appointment_id"] == p.appointment_id)
    assert visit["checked_in"]
    intake_lands(tablet, tablet.flow.submit({"action": "choose", "appointment_id": p.appointment_id}), p)
    assert [e["id"] for e in encounters(base, p)] == [desk["id"]]
    responses_point_to(base, p, desk["id"])


def test_without_an_encounter_the_tablet_makes_one_and_a_replay_changes_nothing(
    tablet: Runtime, sandbox_seed: SeedInfo
) -> None:
    base = sandbox_seed.base_url
    patients = crowd(3, sandbox_seed.now)
    seed_crowd(base, patients)
    p = next(x for x in patients if x.shape == "forms")
    assert encounters(base, p) == []
    assert tablet.staff.unlock_pin(DEMO_PIN).ok
    tablet.flow.start()
    tablet.flow.submit({"action": "load"})
    sent = intake_lands(tablet, tablet.flow.submit({"action": "choose", "appointment_id": p.appointment_id}), p)
    (made,) = encounters(base, p)
    assert made["status"] == "arrived"
    kinds = ("QuestionnaireResponse", "Consent", "Provenance")
    before = {kind: len(server(base, kind, _count="200")) for kind in kinds}
    # The same row delivered again (at-least-once delivery: an acknowledgement lost on the way back).
    enc = next(e for e in sent["bundle"]["entry"] if e["resource"]["resourceType"] == "Encounter")
    row_id = tablet.outbox.put("checkin", enc["resource"]["identifier"][0]["value"], sent)
    tablet.sync.drain_once()
    assert tablet.outbox.get(row_id) is None and tablet.outbox.counts().dead == 0  # delivered again
    assert [e["id"] for e in encounters(base, p)] == [made["id"]]
    assert {kind: len(server(base, kind, _count="200")) for kind in before} == before
    responses_point_to(base, p, made["id"])
