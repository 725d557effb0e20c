"""The FHIR sandbox behaves like the real FHIR R4 server the kiosk relies on (portal_client/sandbox/README.md).

Each test pins one behaviour of Medplum's engine (or of our thin wrapper) that the kiosk depends on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal_client.sandbox import NodeModulesMissing, Sandbox, SandboxError
from portal_client.sandbox.launcher import parse_node_version, satisfies_engines

pytestmark = pytest.mark.sandbox

FHIR = {"Content-Type": "application/fhir+json"}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def http(empty_sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=empty_sandbox_url + "/", headers=FHIR, timeout=10.0) as client:
        yield client


def _patient(
    family: str = "Rivera", given: str = "Ana", birth_date: str = "1980-02-03", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": family, "given": [given]}],
        "birthDate": birth_date,
        **extra,
    }


def _appointment(
    patient_id: str, start: str = "2024-05-01T14:00:00Z", end: str = "2024-05-01T14:20:00Z"
) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": start,
        "end": end,
        "participant": [{"status": "accepted", "actor": {"reference": f"Patient/{patient_id}"}}],
    }


def _encounter(patient_ref: str, checkin_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "arrived",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "identifier": [{"system": "urn:test:checkin", "value": checkin_id}],
        "subject": {"reference": patient_ref},
    }


def _provenance(target: str) -> dict[str, Any]:
    return {
        "resourceType": "Provenance",
        "target": [{"reference": target}],
        "recorded": "2024-05-01T14:01:00Z",
        "agent": [{"who": {"display": "kiosk-1"}}],
    }


def _count(http: httpx.Client, resource_type: str) -> int:
    total: int = http.get(resource_type).json()["total"]
    return total


def _etag(resource: dict[str, Any]) -> str:
    return f'W/"{resource["meta"]["versionId"]}"'


# -- the process --------------------------------------------------------------------------------------------
def test_engines_range() -> None:
    assert satisfies_engines(parse_node_version("v20.19.0"))
    assert satisfies_engines(parse_node_version("v22.20.0"))
    assert satisfies_engines(parse_node_version("v24.1.0"))
    assert not satisfies_engines(parse_node_version("v20.18.3"))
    assert not satisfies_engines(parse_node_version("v18.19.0"))
    assert not satisfies_engines(parse_node_version("v22.11.0"))
    assert not satisfies_engines(parse_node_version("v21.7.0"))


def test_healthz_metadata_and_unknown_paths(fhir_sandbox: Sandbox) -> None:
    assert fhir_sandbox.base_url.startswith("http://127.0.0.1:")
    assert fhir_sandbox.base_url.endswith("/fhir/R4")
    assert httpx.get(fhir_sandbox.root_url + "/healthz").json()["status"] == "ok"
    metadata = httpx.get(fhir_sandbox.base_url + "/metadata").json()
    assert metadata["resourceType"] == "CapabilityStatement"
    assert metadata["fhirVersion"] == "4.0.1"
    outside = httpx.get(fhir_sandbox.root_url + "/not-fhir")
    assert outside.status_code == 404
    assert outside.json()["resourceType"] == "OperationOutcome"


def test_second_sandbox_on_its_own_port_and_stop_is_final(fhir_sandbox: Sandbox) -> None:
    with Sandbox() as other:
        assert other.port not in (0, fhir_sandbox.port)
        assert other.healthy()
        root = other.root_url
    assert not other.running
    with pytest.raises(httpx.TransportError):
        httpx.get(root + "/healthz", timeout=2.0)
    with pytest.raises(SandboxError):
        _ = other.base_url


def test_port_in_use_fails_with_the_servers_reason(fhir_sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError, match="(?s)exited with code 2.*cannot listen"):
        Sandbox(port=fhir_sandbox.port).start()


def test_reset_empties_the_store(http: httpx.Client, fhir_sandbox: Sandbox) -> None:
    http.post("Patient", json=_patient()).raise_for_status()
    assert _count(http, "Patient") == 1
    fhir_sandbox.reset()
    assert _count(http, "Patient") == 0


# -- validation ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("resource", "path"),
    [
        (_patient(birth_date="1980-13-01"), "Patient.birthDate"),
        (_patient(favouriteColour="blue"), "Patient.favouriteColour"),
        (
            {
                "resourceType": "Appointment",
                "status": "booked",
                "start": "2024-05-01T14:00:00Z",
                "end": "2024-05-01T14:20:00Z",
            },
            "Appointment.participant",
        ),
        ({**_patient(), "photo": [{"contentType": "image/png", "data": "not base64!"}]}, "Patient.photo"),
    ],
    ids=["bad-date", "unknown-element", "missing-required", "bad-base64"],
)
def test_invalid_resource_is_rejected_with_the_element_path(
    http: httpx.Client, resource: dict[str, Any], path: str
) -> None:
    response = http.post(resource["resourceType"], json=resource)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    expressions = [e for issue in outcome["issue"] for e in issue.get("expression", [])]
    assert any(e.startswith(path) for e in expressions), expressions
    assert _count(http, resource["resourceType"]) == 0


def test_invariant_is_checked(http: httpx.Client) -> None:
    booked_without_times = {
        "resourceType": "Appointment",
        "status": "booked",
        "participant": [{"status": "accepted", "actor": {"display": "someone"}}],
    }
    response = http.post("Appointment", json=booked_without_times)
    assert response.status_code == 400
    assert "app-3" in response.text


def test_what_the_engine_does_not_check(http: httpx.Client) -> None:
    """Required code bindings and calendar validity are NOT checked: our own code must check them."""
    bad_status = _appointment("x")
    bad_status["status"] = "not-a-status"
    assert http.post("Appointment", json=bad_status).status_code == 201
    assert http.post("Patient", json=_patient(birth_date="1980-02-30")).status_code == 201


def test_invalid_json_is_an_operation_outcome(http: httpx.Client) -> None:
    response = http.post("Patient", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


# -- CRUD, headers ------------------------------------------------------------------------------------------
def test_create_read_headers_and_server_assigned_id(http: httpx.Client) -> None:
    response = http.post("Patient", json=_patient(id="client-chosen"))
    assert response.status_code == 201
    created = response.json()
    assert created["id"] != "client-chosen"  # a create ignores the client's id, as a real server does
    assert response.headers["ETag"] == _etag(created)
    location = response.headers["Location"]
    assert location == f"{http.base_url}Patient/{created['id']}/_history/{created['meta']['versionId']}"
    read = http.get(f"Patient/{created['id']}")
    assert read.status_code == 200
    assert read.headers["ETag"] == _etag(created)
    assert read.headers["Content-Type"].startswith("application/fhir+json")
    missing = http.get("Patient/does-not-exist")
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"


def test_update_with_if_match(http: httpx.Client) -> None:
    patient = http.post("Patient", json=_patient()).json()
    appointment = http.post("Appointment", json=_appointment(patient["id"])).json()
    arrived = {**appointment, "status": "arrived"}

    ok = http.put(f"Appointment/{appointment['id']}", json=arrived, headers={"If-Match": _etag(appointment)})
    assert ok.status_code == 200
    assert ok.json()["status"] == "arrived"
    assert ok.headers["ETag"] != _etag(appointment)

    stale = http.put(
        f"Appointment/{appointment['id']}", json=arrived, headers={"If-Match": _etag(appointment)}
    )
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"

    # An unquoted If-Match is IGNORED by the engine: the stale update goes through. Always quote it.
    unquoted = http.put(
        f"Appointment/{appointment['id']}",
        json=arrived,
        headers={"If-Match": appointment["meta"]["versionId"]},
    )
    assert unquoted.status_code == 200


def test_conditional_create_with_if_none_exist(http: httpx.Client) -> None:
    patient = http.post("Patient", json=_patient()).json()
    encounter = _encounter(f"Patient/{patient['id']}", "c-1")
    headers = {"If-None-Exist": "identifier=urn:test:checkin|c-1"}
    first = http.post("Encounter", json=encounter, headers=headers)
    assert first.status_code == 201
    again = http.post("Encounter", json=encounter, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert _count(http, "Encounter") == 1


# -- searches the kiosk uses --------------------------------------------------------------------------------
def test_searches_the_kiosk_uses(http: httpx.Client) -> None:
    ana = http.post(
        "Patient", json=_patient(identifier=[{"system": "urn:test:mrn", "value": "MRN-1"}])
    ).json()
    http.post("Patient", json=_patient(given="Ana", family="Riverside")).raise_for_status()
    http.post(
        "Patient", json=_patient(given="Bo", family="Rivera", birth_date="1990-01-01")
    ).raise_for_status()

    by_name_dob = http.get("Patient", params={"family": "rivera", "birthdate": "1980-02-03"}).json()
    assert {e["resource"]["id"] for e in by_name_dob["entry"]} == {ana["id"]}
    assert by_name_dob["entry"][0]["search"]["mode"] == "match"
    assert by_name_dob["entry"][0]["fullUrl"].endswith(f"/Patient/{ana['id']}")

    # String search is a case-insensitive PREFIX match: the flow does the exact match.
    prefix = http.get("Patient", params={"family": "RIVER", "birthdate": "1980-02-03"}).json()
    assert prefix["total"] == 2

    by_identifier = http.get("Patient", params={"identifier": "urn:test:mrn|MRN-1"}).json()
    assert [e["resource"]["id"] for e in by_identifier["entry"]] == [ana["id"]]

    for start in ("2024-05-01T13:00:00Z", "2024-05-01T18:30:00Z", "2024-05-02T14:00:00Z"):
        end = start.replace(":00:00Z", ":20:00Z").replace(":30:00Z", ":50:00Z")
        http.post("Appointment", json=_appointment(ana["id"], start, end)).raise_for_status()
    day = http.get(
        "Appointment",
        params=[
            ("patient", f"Patient/{ana['id']}"),
            ("date", "ge2024-05-01T00:00:00-04:00"),
            ("date", "lt2024-05-02T00:00:00-04:00"),
            ("_sort", "date"),
            ("_count", "50"),
        ],
    ).json()
    assert [e["resource"]["start"] for e in day["entry"]] == ["2024-05-01T13:00:00Z", "2024-05-01T18:30:00Z"]
    newest_first = http.get(
        "Appointment", params={"patient": f"Patient/{ana['id']}", "_sort": "-date", "_count": "1"}
    ).json()
    assert newest_first["total"] == 3
    assert [e["resource"]["start"] for e in newest_first["entry"]] == ["2024-05-02T14:00:00Z"]


def test_reference_search_needs_type_and_id(http: httpx.Client) -> None:
    """``patient=<bare id>`` matches nothing here (real servers differ): always send ``Patient/<id>``."""
    patient = http.post("Patient", json=_patient()).json()
    http.post("Appointment", json=_appointment(patient["id"])).raise_for_status()
    assert http.get("Appointment", params={"patient": f"Patient/{patient['id']}"}).json()["total"] == 1
    assert http.get("Appointment", params={"patient": patient["id"]}).json()["total"] == 0


def test_include_is_ignored(http: httpx.Client) -> None:
    """``_include`` returns only the matches: resolve referenced resources with a second read/search."""
    patient = http.post("Patient", json=_patient()).json()
    http.post("Appointment", json=_appointment(patient["id"])).raise_for_status()
    bundle = http.get("Appointment", params={"_include": "Appointment:patient"}).json()
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Appointment"]


# -- transactions -------------------------------------------------------------------------------------------
def _tx(http: httpx.Client, entries: list[dict[str, Any]]) -> httpx.Response:
    return http.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})


def _post_entry(
    resource: dict[str, Any], full_url: str | None = None, if_none_exist: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
    if if_none_exist:
        request["ifNoneExist"] = if_none_exist
    return {"fullUrl": full_url or f"urn:uuid:{uuid.uuid4()}", "resource": resource, "request": request}


def test_transaction_resolves_urn_uuid_references(http: httpx.Client) -> None:
    patient_urn = f"urn:uuid:{uuid.uuid4()}"
    response = _tx(
        http,
        [
            _post_entry(
                _appointment("placeholder")
                | {"participant": [{"status": "accepted", "actor": {"reference": patient_urn}}]}
            ),
            _post_entry(_patient(), full_url=patient_urn),
        ],
    )
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "transaction-response"
    appointment_entry, patient_entry = bundle["entry"]  # response entries keep the request's order
    patient = patient_entry["resource"]
    assert patient_entry["response"]["status"] == "201"
    assert (
        patient_entry["response"]["location"]
        == f"Patient/{patient['id']}/_history/{patient['meta']['versionId']}"
    )
    assert patient_entry["response"]["etag"] == _etag(patient)
    assert appointment_entry["resource"]["participant"][0]["actor"]["reference"] == f"Patient/{patient['id']}"


def test_transaction_conditional_create_of_an_existing_resource_resolves_to_it(http: httpx.Client) -> None:
    """A replayed check-in: the ifNoneExist entry matches, and urn:uuid refs to it point at the EXISTING one."""
    patient = http.post("Patient", json=_patient()).json()
    encounter_urn = f"urn:uuid:{uuid.uuid4()}"

    def bundle() -> list[dict[str, Any]]:
        return [
            _post_entry(_provenance(encounter_urn)),
            _post_entry(
                _encounter(f"Patient/{patient['id']}", "c-42"),
                full_url=encounter_urn,
                if_none_exist="identifier=urn:test:checkin|c-42",
            ),
        ]

    first = _tx(http, bundle()).json()
    encounter_id = first["entry"][1]["resource"]["id"]
    assert first["entry"][1]["response"]["status"] == "201"

    replay = _tx(http, bundle())
    assert replay.status_code == 200
    replayed = replay.json()
    assert replayed["entry"][1]["response"]["status"] == "200"  # matched, not created
    assert replayed["entry"][1]["resource"]["id"] == encounter_id
    assert replayed["entry"][0]["resource"]["target"] == [{"reference": f"Encounter/{encounter_id}"}]
    assert _count(http, "Encounter") == 1
    assert _count(http, "Provenance") == 2  # an unconditional create is NOT deduplicated


def test_transaction_with_stale_if_match_is_412_and_all_or_nothing(http: httpx.Client) -> None:
    patient = http.post("Patient", json=_patient()).json()
    appointment = http.post("Appointment", json=_appointment(patient["id"])).json()
    stale_etag = _etag(appointment)
    http.put(f"Appointment/{appointment['id']}", json={**appointment, "comment": "moved"}).raise_for_status()

    response = _tx(
        http,
        [
            _post_entry(
                _encounter(f"Patient/{patient['id']}", "c-7"), if_none_exist="identifier=urn:test:checkin|c-7"
            ),
            _post_entry(_provenance(f"Patient/{patient['id']}")),
            {
                "resource": {**appointment, "status": "arrived"},
                "request": {
                    "method": "PUT",
                    "url": f"Appointment/{appointment['id']}",
                    "ifMatch": stale_etag,
                },
            },
        ],
    )
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"
    # The creates ran BEFORE the failing update (engine order) and were rolled back by the sandbox.
    assert _count(http, "Encounter") == 0
    assert _count(http, "Provenance") == 0
    assert http.get(f"Appointment/{appointment['id']}").json()["status"] == "booked"


def test_transaction_with_invalid_entry_is_400_and_all_or_nothing(http: httpx.Client) -> None:
    response = _tx(http, [_post_entry(_patient()), _post_entry(_patient(birth_date="yesterday"))])
    assert response.status_code == 400
    assert "Patient.birthDate" in response.text
    assert _count(http, "Patient") == 0


def test_transaction_entry_processing_order(http: httpx.Client) -> None:
    """Entries run by kind (DELETE, POST, PUT/PATCH, GET), not in Bundle order; results keep Bundle order."""
    patient = http.post("Patient", json=_patient()).json()
    appointment = http.post("Appointment", json=_appointment(patient["id"])).json()
    response = _tx(
        http,
        [
            {"request": {"method": "GET", "url": f"Appointment/{appointment['id']}"}},
            {
                "resource": {**appointment, "status": "arrived"},
                "request": {"method": "PUT", "url": f"Appointment/{appointment['id']}"},
            },
            {"request": {"method": "GET", "url": "Encounter?identifier=urn:test:checkin|c-9"}},
            _post_entry(_encounter(f"Patient/{patient['id']}", "c-9")),
        ],
    )
    assert response.status_code == 200
    read, updated, search, created = response.json()["entry"]
    assert read["resource"]["status"] == "arrived"  # the GET listed first saw the later PUT
    assert updated["response"]["status"] == "200"
    assert search["resource"]["total"] == 1  # ...and the later POST
    assert created["response"]["status"] == "201"


def test_transaction_with_conditional_create_is_limited_to_8_entries(http: httpx.Client) -> None:
    """Medplum: a transaction needing strict isolation (any ifNoneExist / conditional update) has <= 8 entries."""
    patient = http.post("Patient", json=_patient()).json()
    ref = f"Patient/{patient['id']}"
    conditional = _post_entry(_encounter(ref, "c-8"), if_none_exist="identifier=urn:test:checkin|c-8")

    eight = _tx(http, [conditional] + [_post_entry(_provenance(ref)) for _ in range(7)])
    assert eight.status_code == 200

    nine = _tx(http, [conditional] + [_post_entry(_provenance(ref)) for _ in range(8)])
    assert nine.status_code == 400
    assert "too many entries" in nine.text

    plain = _tx(http, [_post_entry(_provenance(ref)) for _ in range(20)])
    assert plain.status_code == 200


def test_batch_is_not_atomic(http: httpx.Client) -> None:
    response = http.post(
        "",
        json={
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [_post_entry(_patient()), _post_entry(_patient(birth_date="yesterday"))],
        },
    )
    assert response.status_code == 200
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201", "400"]
    assert _count(http, "Patient") == 1


def test_conditional_create_with_several_matches_is_412(http: httpx.Client) -> None:
    duplicate = _patient(identifier=[{"system": "urn:test:mrn", "value": "DUP"}])
    http.post("Patient", json=duplicate).raise_for_status()
    http.post("Patient", json=duplicate).raise_for_status()
    plain = http.post("Patient", json=duplicate, headers={"If-None-Exist": "identifier=urn:test:mrn|DUP"})
    assert plain.status_code == 412
    in_transaction = _tx(http, [_post_entry(duplicate, if_none_exist="identifier=urn:test:mrn|DUP")])
    assert in_transaction.status_code == 412
    assert in_transaction.json()["issue"][0]["code"] == "multiple-matches"
    assert _count(http, "Patient") == 2


def test_put_with_a_new_id_creates_it(http: httpx.Client) -> None:
    response = http.put("Patient/chosen-id", json={**_patient(), "id": "chosen-id"})
    assert response.status_code == 200  # update-as-create: 200, not 201
    assert http.get("Patient/chosen-id").json()["birthDate"] == "1980-02-03"
    assert http.delete("Patient/chosen-id").status_code == 200
    assert http.get("Patient/chosen-id").status_code == 404


def test_search_has_no_paging_links_and_unknown_parameters_match_nothing(http: httpx.Client) -> None:
    for given in ("A", "B", "C"):
        http.post("Patient", json=_patient(given=given)).raise_for_status()
    page = http.get("Patient", params={"_count": "2"}).json()
    assert page["total"] == 3 and len(page["entry"]) == 2
    assert not any(link.get("relation") == "next" for link in page.get("link", []))
    typo = http.get("Patient", params={"familly": "Rivera"})
    assert typo.status_code == 200 and typo.json()["total"] == 0  # a typo looks like "nobody found"
    assert http.get("NoSuchType").json()["total"] == 0


def test_serve_in_the_foreground_seeds_and_stops_on_sigterm(fhir_sandbox: Sandbox) -> None:
    """``kiosk sandbox`` → run_forever: prints the base URL and the demo patients, SIGTERM ends it cleanly."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal_client.sandbox", "serve", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60.0, proc.kill)  # a generous deadline, never a sleep
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # the process prints these lines once ready and seeded
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                break
        assert lines and lines[-1].startswith("Ctrl-C"), lines
        base_url = next(line.split(": ", 1)[1] for line in lines if line.startswith("FHIR sandbox: "))
        assert any("Eleanor Whitfield" in line for line in lines)
        patient = httpx.get(f"{base_url}/Patient/pat-whitfield", timeout=5.0)
        assert patient.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    with pytest.raises(httpx.TransportError):  # the Node server went with it
        httpx.get(base_url.rsplit("/fhir/", 1)[0] + "/healthz", timeout=2.0)


def test_missing_node_modules_names_the_setup_command(tmp_path: Path) -> None:
    (tmp_path / "server.mjs").write_text("// not used\n")
    with pytest.raises(NodeModulesMissing, match="scripts/setup"):
        Sandbox(sandbox_dir=tmp_path).start()
