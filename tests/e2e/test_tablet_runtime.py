"""Tablet mode through the real runtime and the FHIR sandbox: staff unlock with the PIN, choose a patient from
today's schedule (or scan the ticket a kiosk printed), hand over; the patient fills in forms and signs; the
tablet ends locked, and the QuestionnaireResponses and Consent land on the server like a kiosk check-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from checkin_driver import answer, check_in
from test_outage_day import SteppingClock
from test_staff_status import DEMO_PIN, settings_for

from kiosk.flow.results import Done, Result, Show, Step
from kiosk.runtime.build import Runtime, build_runtime
from portal_client.sandbox.crowd import CrowdPatient, crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox


@pytest.fixture
def tablet(sandbox_seed: SeedInfo, tmp_path: Path) -> Iterator[Runtime]:
    settings = settings_for(sandbox_seed.base_url, tmp_path / "tablet", kiosk={"mode": "tablet", "id": "tablet-1"})
    rt = build_runtime(settings, clock=SteppingClock(sandbox_seed.now))
    yield rt
    rt.stop()


def intake(rt: Runtime, result: Result, p: CrowdPatient) -> Show:
    while isinstance(result, Show) and result.step != Step.HAND_BACK:
        assert result.step in (Step.DEMOGRAPHICS, Step.INSURANCE, Step.FORMS, Step.CONSENTS), result.step
        assert not result.errors, result.errors
        result = rt.flow.submit(answer(result, p))
    assert isinstance(result, Show)
    return result


def server(base: str, kind: str, **params: str) -> list[dict[str, Any]]:
    entries = httpx.get(f"{base}/{kind}", params={"_count": "100", **params}).json().get("entry", [])
    return [e["resource"] for e in entries]


def test_staff_pick_a_patient_the_patient_fills_in_and_it_lands(tablet: Runtime, sandbox_seed: SeedInfo) -> None:
    rt, base = tablet, sandbox_seed.base_url
    patients = crowd(3, sandbox_seed.now)
    seed_crowd(base, patients)
    p = next(x for x in patients if x.shape == "forms")  # health history + PHQ-9 + consent due
    assert rt.devices.printer is None and rt.devices.payment is None
    start = rt.flow.start()
    assert isinstance(start, Show) and start.step == Step.TABLET_START
    assert rt.flow.submit({"action": "load"}).errors == {"base": "staff_locked"}

    assert rt.staff.unlock_pin(DEMO_PIN).ok
    listed = rt.flow.submit({"action": "load"})
    visit = next(v for v in listed.data["visits"] if v["appointment_id"] == p.appointment_id)
    assert visit["patient_name"] == f"{p.given} {p.family}" and visit["selectable"]
    first = rt.flow.submit({"action": "choose", "appointment_id": p.appointment_id})
    assert isinstance(first, Show) and first.step == Step.DEMOGRAPHICS and rt.staff.current() is None

    end = intake(rt, first, p)
    assert end.data["outcome"] == "done" and rt.flow.session.patient is None
    assert rt.flow.submit({"action": "release"}).errors == {"base": "staff_locked"}
    rt.sync.drain_once()
    assert rt.outbox.counts().depth <= 1 and rt.outbox.counts().dead == 0  # (the release attempt is no action)

    responses = server(base, "QuestionnaireResponse", subject=f"Patient/{p.patient_id}")
    assert {r["status"] for r in responses} == {"completed"} and len(responses) == 2
    consents = server(base, "Consent", patient=f"Patient/{p.patient_id}", status="active")
    assert len(consents) == 1
    device = server(base, "Provenance", _count="100")
    assert any(a.get("who", {}).get("identifier", {}).get("value") == "tablet-1"
               for prov in device for a in prov.get("agent", []))  # fmt: skip
    assert rt.counters.today().checkins == 1 and rt.counters.today().payments == 0

    assert rt.staff.unlock_pin(DEMO_PIN).ok
    back = rt.flow.submit({"action": "release"})
    assert isinstance(back, Show) and back.step == Step.TABLET_START
    audit = [e.action for e in rt.staff.audit.entries()]
    assert audit == ["unlock", "tablet_session_started", "lock", "unlock", "tablet_released"]


def test_a_ticket_from_the_lobby_kiosk_opens_that_visit(
    tablet: Runtime, sandbox_seed: SeedInfo, tmp_path: Path
) -> None:
    base = sandbox_seed.base_url
    patients = crowd(2, sandbox_seed.now)
    seed_crowd(base, patients)
    p = patients[0]
    kiosk = build_runtime(settings_for(base, tmp_path / "kiosk"), clock=SteppingClock(sandbox_seed.now))
    try:
        done = check_in(kiosk.flow, p)
        assert isinstance(done, Done)
        qr = f"CKI-TICKET:{done.summary['checkin_id']}"
        assert kiosk.devices.printer.tickets[-1].checkin_id == done.summary["checkin_id"]
        assert tablet.staff.unlock_pin(DEMO_PIN).ok
        tablet.flow.start()
        assert tablet.flow.submit({"action": "ticket", "text": qr}).errors == {"base": "ticket_not_found"}  # not synced
        kiosk.sync.drain_once()
    finally:
        kiosk.stop()
    first = tablet.flow.submit({"action": "barcode", "text": qr})
    assert isinstance(first, Show) and first.step == Step.DEMOGRAPHICS, first
    assert first.data["first_name"] == p.given
    assert tablet.flow.session.appointment.id == p.appointment_id  # type: ignore[union-attr]
    assert tablet.flow.session.checkin_id != done.summary["checkin_id"]
