"""A whole check-in through the real runtime (no Kivy): real outbox, real sync worker, real FHIR sandbox, and a
real network cut between them. The check-in completes while the back-end is unreachable and lands later,
exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from returning import answer, e2e_runtime, scan_returning_patient
from tcp_proxy import TcpProxy

from kiosk.flow.results import Done, Show, Step
from kiosk.runtime.build import Runtime
from portal_client.sandbox.seed import DEMO_RETURNING, SeedInfo


@pytest.fixture
def runtime(sandbox_seed: SeedInfo, kiosk_proxy: TcpProxy, tmp_path: Path) -> Iterator[Runtime]:
    runtime = e2e_runtime(sandbox_seed, f"http://127.0.0.1:{kiosk_proxy.port}/fhir/R4", tmp_path)
    yield runtime
    runtime.stop()


def _search(base_url: str, resource_type: str, **params: str) -> list[dict[str, Any]]:
    bundle = httpx.get(f"{base_url}/{resource_type}", params=params, timeout=10).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def test_checkin_completes_while_the_back_end_is_cut_and_lands_once_later(
    runtime: Runtime, kiosk_proxy: TcpProxy, sandbox_seed: SeedInfo
) -> None:
    p = DEMO_RETURNING
    flow = runtime.flow
    result = scan_returning_patient(runtime)
    assert isinstance(result, Show) and result.step == Step.CONFIRM_APPOINTMENT
    appointment_id = next(a["id"] for a in result.data["appointments"] if a["selectable"])
    result = flow.submit(answer(result))  # reads coverage, forms and consents due: still online

    kiosk_proxy.cut()  # the lobby's network goes down
    ticket = None
    while isinstance(result, Show):
        if result.step == Step.TICKET:
            ticket = result
        result = flow.submit(answer(result))
    assert isinstance(result, Done)
    assert ticket is not None and ticket.data["printed"] and not ticket.errors
    assert runtime.devices.printer.tickets[-1].queue_number == ticket.data["queue_number"]

    report = runtime.sync.drain_once()
    assert report.sent == 0 and runtime.outbox.counts().depth == 1  # kept, encrypted, for later
    assert _search(sandbox_seed.base_url, "Encounter", patient=f"Patient/{p.patient_id}") == []

    kiosk_proxy.restore()
    assert runtime.sync.drain_once().sent == 1
    assert runtime.outbox.counts().depth == 0
    base = sandbox_seed.base_url
    appointment = httpx.get(f"{base}/Appointment/{appointment_id}", timeout=10).json()
    assert appointment["status"] == "arrived"
    encounters = _search(base, "Encounter", patient=f"Patient/{p.patient_id}")
    assert len(encounters) == 1 and encounters[0]["status"] == "arrived"
    payments = _search(base, "PaymentReconciliation")
    assert len(payments) == 1 and payments[0]["paymentAmount"]["value"] == 25

    # Nothing more to send, and sending again changes nothing.
    assert runtime.sync.drain_once().sent == 0
    assert len(_search(base, "Encounter", patient=f"Patient/{p.patient_id}")) == 1
