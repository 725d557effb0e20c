"""The whole write path against the REAL FHIR sandbox (Medplum's engine): record → outbox → sync → server.

Records are built from what ``FhirDirectory`` reads from the seeded demo practice (real Patient,
Appointment, Questionnaires and consent template), then handed to ``OutboxSink`` and delivered by
``SyncWorker`` (clock and sleep are fakes; the server, HTTP and SQLite are real).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "portal_client"))
from checkin_factory import MEMBER_ID, coverage_updated, png_signature
from sync_fakes import FakeClock

from kiosk.flow.types import (
    Address,
    Answer,
    AnswerKind,
    CheckinRecord,
    Demographics,
    DeskReason,
    Money,
    PaymentResult,
    PaymentStatus,
    QuestionnaireResult,
    ResponseItem,
    Signature,
    SignedConsent,
)
from portal_client.client import FhirClient
from portal_client.directory import FhirDirectory
from portal_client.outbox import Outbox, RowState, open_outbox
from portal_client.sandbox import Sandbox
from portal_client.sandbox import seed as demo
from portal_client.sandbox.seed import SeedInfo
from portal_client.sink import OutboxSink
from portal_client.sync import SyncWorker

pytestmark = pytest.mark.sandbox

CHECKIN = "0c5e2a9b7d3f4e81a6b2c9d0e1f2a3b4"
SYSTEM = "urn:open-checkin-kiosk:checkin"


class Cuttable(httpx.BaseTransport):
    """The real HTTP transport, with a switch that pulls the network cable."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network unreachable", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def network() -> Cuttable:
    return Cuttable()


@pytest.fixture
def client(sandbox_url: str, network: Cuttable) -> Iterator[FhirClient]:
    with FhirClient(sandbox_url, timeout=10.0, transport=network) as fhir:
        yield fhir


@pytest.fixture
def reader(sandbox_url: str) -> Iterator[FhirClient]:
    """A second client for checks (and for "staff" edits), not behind the cable switch."""
    with FhirClient(sandbox_url, timeout=10.0) as fhir:
        yield fhir


@pytest.fixture
def directory(reader: FhirClient, sandbox_seed: SeedInfo) -> FhirDirectory:
    return FhirDirectory(reader, tz=demo.DEFAULT_TZ, clock=lambda: sandbox_seed.now)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(tmp_path: Path, clock: FakeClock) -> Outbox:
    return open_outbox(tmp_path / "var", tmp_path / "etc" / "outbox.key", clock=clock)


@pytest.fixture
def worker(outbox: Outbox, client: FhirClient, clock: FakeClock) -> SyncWorker:
    # Medplum refuses transactions with conditional creates and more than 8 entries: send in parts.
    return SyncWorker(outbox, client, clock=clock, sleep=clock.sleep, random=lambda: 0.5, max_entries=8)


def _answers(items: list[dict[str, Any]]) -> tuple[ResponseItem, ...]:
    """Answer every question of a real Questionnaire (first option, or a plausible value)."""
    out: list[ResponseItem] = []
    for item in items:
        kind = item["type"]
        children = _answers(item.get("item", []))
        answer: Answer | None = None
        if kind in ("choice", "open-choice") and item.get("answerOption"):
            coding = item["answerOption"][0]["valueCoding"]
            answer = Answer(
                AnswerKind.CODING, coding["code"], coding.get("system", ""), coding.get("display", "")
            )
        elif kind in ("string", "text", "open-choice"):
            answer = Answer(AnswerKind.STRING, "fine")
        elif kind == "boolean":
            answer = Answer(AnswerKind.BOOLEAN, True)
        elif kind == "integer":
            answer = Answer(AnswerKind.INTEGER, 3)
        elif kind == "decimal":
            answer = Answer(AnswerKind.DECIMAL, "150.50")
        elif kind == "date":
            answer = Answer(AnswerKind.DATE, "2024-05-01")
        if answer is not None or children:
            out.append(
                ResponseItem(item["linkId"], item.get("text", ""), (answer,) if answer else (), children)
            )
    return tuple(out)


def make_record(directory: FhirDirectory, seed: SeedInfo, **changes: Any) -> CheckinRecord:
    who = demo.DEMO_NEW_FORMS
    patient = directory.get_patient(who.patient_id)
    appointment = directory.get_appointment(seed.appointment_ids["new_forms"])
    assert patient is not None and appointment is not None
    questionnaires = directory.questionnaires_due(patient, appointment)
    consents = directory.consents_due(patient, appointment)
    assert questionnaires and consents, "the seed gives this patient forms and a consent to do"
    now = seed.now
    responses = tuple(
        QuestionnaireResult(
            q["id"], q["url"] + (f"|{q['version']}" if q.get("version") else ""), q.get("title", ""),
            _answers(q["item"]), now + timedelta(minutes=2),
        )
        for q in questionnaires
    )  # fmt: skip
    signature = Signature(
        (((1.0, 2.0), (3.0, 4.0)),), png_signature(), (400, 150), now + timedelta(minutes=3)
    )
    shown = patient.demographics
    record = CheckinRecord(
        checkin_id=CHECKIN,
        kiosk_id="lobby-1",
        started_at=now,
        completed_at=now + timedelta(minutes=5),
        language="en",
        patient=patient,
        appointment=appointment,
        demographics=Demographics(
            shown.phone, "jose@example.org", Address("77 Elm St", "", "Springfield", "MA", "01101")
        ),
        insurance=coverage_updated(),
        responses=responses,
        consents=tuple(SignedConsent(doc, signature) for doc in consents),
        payment=PaymentResult(
            PaymentStatus.APPROVED,
            Money(2500),
            CHECKIN,
            processor_reference="txn_1",
            brand="VISA",
            last4="4242",
            at=now + timedelta(minutes=4),
        ),
        queue_number="A-001",
    )
    return replace(record, **changes)


def search(reader: FhirClient, rtype: str, **params: str) -> list[dict[str, Any]]:
    return list(reader.search_all(rtype, {**params, "_count": "100"}))


def test_a_full_checkin_lands_linked_to_the_patient(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, worker: SyncWorker, reader: FhirClient
) -> None:
    record = make_record(directory, sandbox_seed)
    OutboxSink(outbox).submit(record)
    report = worker.drain_once(force=False)
    assert (report.sent, report.dead, report.depth) == (1, 0, 0), list(outbox.rows(RowState.DEAD))
    pid = f"Patient/{record.patient.id}"
    appointment = reader.read("Appointment", sandbox_seed.appointment_ids["new_forms"])
    assert appointment["status"] == "arrived"

    (encounter,) = search(reader, "Encounter", identifier=f"{SYSTEM}|{CHECKIN}")
    enc_ref = f"Encounter/{encounter['id']}"
    assert encounter["status"] == "arrived" and encounter["class"]["code"] == "AMB"
    assert encounter["subject"]["reference"] == pid
    assert encounter["appointment"] == [{"reference": f"Appointment/{appointment['id']}"}]
    assert encounter["participant"][0]["individual"]["reference"] == f"Practitioner/{demo.PRACTITIONER_CHEN}"

    responses = [r for r in search(reader, "QuestionnaireResponse", subject=pid) if r.get("encounter")]
    assert len(responses) == len(record.responses)
    assert all(r["encounter"]["reference"] == enc_ref and r["status"] == "completed" for r in responses)

    consents = [c for c in search(reader, "Consent", patient=pid) if c.get("sourceAttachment")]
    assert len(consents) == len(record.consents)
    assert consents[0]["sourceAttachment"]["contentType"] == "image/png"
    assert consents[0]["policy"] == [{"uri": f"DocumentReference/{demo.CONSENT_DOCUMENT_ID}"}]

    coverages = [
        c
        for c in search(reader, "Coverage", beneficiary=pid)
        if c.get("identifier", [{}])[0].get("system") == SYSTEM
    ]
    (coverage,) = coverages
    assert coverage["subscriberId"] == MEMBER_ID and coverage["payor"] == [{"display": "Acme Health Plan"}]
    docs = [
        d for d in search(reader, "DocumentReference", subject=pid) if d.get("context", {}).get("related")
    ]
    assert len(docs) == 2
    assert all(d["context"]["related"] == [{"reference": f"Coverage/{coverage['id']}"}] for d in docs)

    (payment,) = search(reader, "PaymentReconciliation", identifier=f"{SYSTEM}|{CHECKIN}:payment")
    assert payment["detail"][0]["request"] == {"reference": enc_ref}
    assert payment["paymentAmount"] == {"value": 25, "currency": "USD"}

    (provenance,) = search(reader, "Provenance", _tag=f"{SYSTEM}|{CHECKIN}")
    targets = {t["reference"] for t in provenance["target"]}
    assert enc_ref in targets and f"Appointment/{appointment['id']}" in targets and pid in targets
    assert f"Coverage/{coverage['id']}" in targets
    assert not [t for t in targets if t.startswith("urn:uuid:")]
    assert provenance["agent"][0]["who"]["identifier"]["value"] == "lobby-1"

    patient = reader.read("Patient", record.patient.id)
    assert {"system": "email", "value": "jose@example.org"} in patient["telecom"]
    assert patient["name"] == record.patient.source["name"]  # everything else as it was
    assert any(a.get("line") == ["77 Elm St"] for a in patient["address"])


def resource_count(sandbox: Sandbox) -> int:
    return int(httpx.get(f"{sandbox.root_url}/healthz").json()["resources"])


def test_replaying_the_same_row_creates_nothing(
    directory: FhirDirectory,
    sandbox_seed: SeedInfo,
    outbox: Outbox,
    worker: SyncWorker,
    reader: FhirClient,
    fhir_sandbox: Sandbox,
) -> None:
    OutboxSink(outbox).submit(make_record(directory, sandbox_seed))
    (row,) = outbox.rows()
    assert worker.drain_once(force=False).sent == 1
    count = resource_count(fhir_sandbox)
    appointment = reader.read("Appointment", sandbox_seed.appointment_ids["new_forms"])
    patient = reader.read("Patient", demo.DEMO_NEW_FORMS.patient_id)

    outbox.put(row.kind, row.checkin_id, row.payload)  # the same row again (say the ack was lost)
    assert worker.drain_once(force=False).sent == 1
    assert resource_count(fhir_sandbox) == count  # no second Encounter, nor anything else
    assert len(search(reader, "Encounter", identifier=f"{SYSTEM}|{CHECKIN}")) == 1
    assert len(search(reader, "Provenance", _tag=f"{SYSTEM}|{CHECKIN}")) == 1
    # and no new versions of what it updated
    assert (
        reader.read("Appointment", appointment["id"])["meta"]["versionId"] == appointment["meta"]["versionId"]
    )
    assert reader.read("Patient", patient["id"])["meta"]["versionId"] == patient["meta"]["versionId"]


def test_back_end_down_row_stays_pending_then_is_sent(
    directory: FhirDirectory,
    sandbox_seed: SeedInfo,
    outbox: Outbox,
    worker: SyncWorker,
    reader: FhirClient,
    network: Cuttable,
    clock: FakeClock,
) -> None:
    OutboxSink(outbox).submit(make_record(directory, sandbox_seed))
    network.down = True
    report = worker.drain_once(force=False)
    assert (report.sent, report.retried, report.depth) == (0, 1, 1)
    assert not worker.state.online and worker.state.last_error == "backend_unavailable"
    (row,) = outbox.rows()
    assert row.state is RowState.PENDING and row.attempts == 1
    assert search(reader, "Encounter", identifier=f"{SYSTEM}|{CHECKIN}") == []
    network.down = False
    assert worker.drain_once(force=False).sent == 0  # still backing off
    clock.advance(60)
    assert worker.drain_once(force=False).sent == 1
    assert worker.state.online and worker.state.depth == 0
    assert len(search(reader, "Encounter", identifier=f"{SYSTEM}|{CHECKIN}")) == 1


def test_appointment_changed_meanwhile_is_reread_not_overwritten(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, worker: SyncWorker, reader: FhirClient
) -> None:
    record = make_record(directory, sandbox_seed)
    OutboxSink(outbox).submit(record)
    # the front desk edits the appointment and the patient after the kiosk read them
    appointment_id = sandbox_seed.appointment_ids["new_forms"]
    staff_view = reader.read("Appointment", appointment_id)
    staff_view["comment"] = "Interpreter requested"
    reader.update(staff_view, if_match=f'W/"{staff_view["meta"]["versionId"]}"')
    staff_patient = reader.read("Patient", record.patient.id)
    staff_patient["gender"] = "male"
    staff_patient.setdefault("telecom", []).append({"system": "phone", "value": "555-0199", "use": "work"})
    reader.update(staff_patient, if_match=f'W/"{staff_patient["meta"]["versionId"]}"')

    assert worker.drain_once(force=False).sent == 1
    appointment = reader.read("Appointment", appointment_id)
    assert appointment["status"] == "arrived" and appointment["comment"] == "Interpreter requested"
    history = reader.request("GET", f"Appointment/{appointment_id}/_history").json()
    statuses = [(e["resource"]["status"], e["resource"].get("comment")) for e in history["entry"]]
    assert ("arrived", None) not in statuses  # never written over the staff's version
    patient = reader.read("Patient", record.patient.id)
    assert patient["gender"] == "male"
    assert {"system": "phone", "value": "555-0199", "use": "work"} in patient["telecom"]
    assert {"system": "email", "value": "jose@example.org"} in patient["telecom"]


def test_staff_already_checked_the_patient_in(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, worker: SyncWorker, reader: FhirClient
) -> None:
    OutboxSink(outbox).submit(make_record(directory, sandbox_seed))
    appointment_id = sandbox_seed.appointment_ids["new_forms"]
    staff_view = reader.read("Appointment", appointment_id)
    staff_view["status"] = "arrived"
    updated = reader.update(staff_view, if_match=f'W/"{staff_view["meta"]["versionId"]}"')
    assert worker.drain_once(force=False).sent == 1
    assert reader.read("Appointment", appointment_id)["meta"]["versionId"] == updated["meta"]["versionId"]
    (provenance,) = search(reader, "Provenance", _tag=f"{SYSTEM}|{CHECKIN}")
    assert f"Appointment/{appointment_id}" not in {t["reference"] for t in provenance["target"]}


def test_desk_hand_off_leaves_the_appointment_and_opens_a_task(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, worker: SyncWorker, reader: FhirClient
) -> None:
    record = make_record(directory, sandbox_seed, needs_staff=True, desk_reason=DeskReason.CONSENT_DECLINED,
                         consents=(), payment=None, payment_deferred=Money(2500))  # fmt: skip
    OutboxSink(outbox).submit(record)
    assert worker.drain_once(force=False).sent == 1
    assert reader.read("Appointment", sandbox_seed.appointment_ids["new_forms"])["status"] == "booked"
    (encounter,) = search(reader, "Encounter", identifier=f"{SYSTEM}|{CHECKIN}")
    tasks = {
        t["code"]["coding"][0]["code"]: t
        for t in search(reader, "Task", patient=f"Patient/{record.patient.id}")
    }
    assert set(tasks) == {"desk-handoff", "collect-payment"}
    assert tasks["desk-handoff"]["focus"] == {"reference": f"Encounter/{encounter['id']}"}
    assert tasks["desk-handoff"]["businessStatus"]["coding"][0]["code"] == "consent_declined"
    assert tasks["collect-payment"]["input"][0]["valueMoney"] == {"value": 25, "currency": "USD"}


def test_one_big_transaction_is_refused_by_this_engine(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, client: FhirClient, clock: FakeClock
) -> None:
    """Why ``max_entries=8``: Medplum refuses > 8 entries when any is a conditional create."""
    OutboxSink(outbox).submit(make_record(directory, sandbox_seed))
    whole = SyncWorker(outbox, client, clock=clock, sleep=clock.sleep, max_entries=None)
    assert whole.drain_once(force=False).dead == 1
    (dead,) = outbox.rows(RowState.DEAD)
    assert "too many entries" in str(dead.outcome)


def test_a_signed_consent_is_not_due_again(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, worker: SyncWorker
) -> None:
    record = make_record(directory, sandbox_seed)
    OutboxSink(outbox).submit(record)
    assert worker.drain_once().sent == 1
    assert record.appointment is not None
    assert not directory.consents_due(record.patient, record.appointment)


def test_completed_forms_are_not_due_again(
    directory: FhirDirectory, sandbox_seed: SeedInfo, outbox: Outbox, worker: SyncWorker
) -> None:
    """What the kiosk writes is what the kiosk reads: the forms just filled are not asked again."""
    record = make_record(directory, sandbox_seed)
    assert record.appointment is not None
    assert directory.questionnaires_due(record.patient, record.appointment)
    OutboxSink(outbox).submit(record)
    assert worker.drain_once().sent == 1
    assert not directory.questionnaires_due(record.patient, record.appointment)
    coverage = directory.coverage_for(record.patient.id)
    assert coverage is not None and coverage.member_id == MEMBER_ID and coverage.copay == Money(2500)
