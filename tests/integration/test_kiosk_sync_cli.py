"""`kiosk sync --config F` (a separate process, as staff run it) against the real sandbox, and `kiosk jwks`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from test_sync_sandbox import SYSTEM, make_record

from portal_client.client import FhirClient
from portal_client.directory import FhirDirectory
from portal_client.outbox import open_outbox
from portal_client.sandbox import seed as demo
from portal_client.sandbox.seed import SeedInfo
from portal_client.sink import OutboxSink

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)  # fmt: skip


def config(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "data"\n[outbox]\nkey_file = "keys/outbox.key"\n'
                    f'[backend]\nbase_url = "{base_url}"\ntimeout_s = 5\n{extra}')  # fmt: skip
    return path


def bad_row() -> dict[str, Any]:
    encounter = {"resourceType": "Encounter", "status": "arrived", "period": {"start": "2025-13-40"},
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}  # fmt: skip
    entry = {"resource": encounter, "request": {"method": "POST", "url": "Encounter"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    return {"format": 1, "patient_changes": {}, "resolved": {}, "bundle": bundle}


def test_kiosk_sync_delivers_reports_dead_rows_and_exit_codes(
    sandbox_url: str, sandbox_seed: SeedInfo, tmp_path: Path
) -> None:
    outbox = open_outbox(tmp_path / "data", tmp_path / "keys" / "outbox.key")
    with FhirClient(sandbox_url) as reader:
        directory = FhirDirectory(reader, tz=demo.DEFAULT_TZ, clock=lambda: sandbox_seed.now)
        OutboxSink(outbox).submit(make_record(directory, sandbox_seed))
    outbox.put("checkin", "bad-row", bad_row())
    outbox.close()

    done = kiosk("sync", "--config", str(config(tmp_path, sandbox_url)))
    assert done.returncode == 1, done.stderr  # a dead row: staff must look
    out = done.stdout
    assert "2 waiting, 0 dead before this pass" in out
    assert "1 delivered, 1 refused, 0 put back for later" in out
    assert "Outbox now: 0 waiting, 1 dead." in out
    assert "check-in bad-row" in out and "error structure at Encounter.period.start" in out
    assert "2025-13-40" not in out  # what the server echoed stays out
    with FhirClient(sandbox_url) as reader:
        assert len(list(reader.search_all("Encounter", {"identifier": f"{SYSTEM}|"}))) == 1

    again = kiosk("sync", "--config", str(config(tmp_path, sandbox_url)), "--retry-dead", "--json")
    report = json.loads(again.stdout)
    assert again.returncode == 1 and report["retried_dead"] == 1 and report["report"]["dead"] == 1
    assert report["dead_rows"][0]["checkin_id"] == "bad-row"


def test_kiosk_sync_with_the_back_end_down_keeps_the_rows(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "data", tmp_path / "keys" / "outbox.key")
    outbox.put("checkin", "waiting", bad_row())
    outbox.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = kiosk("sync", "--config", str(config(tmp_path, f"http://127.0.0.1:{port}/fhir/R4")))
    assert down.returncode == 3, down.stdout + down.stderr
    assert "cannot be reached" in down.stdout and "[backend_unavailable]" in down.stdout
    assert "Outbox now: 1 waiting, 0 dead." in down.stdout


def test_kiosk_jwks_prints_the_public_key_only(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    pem = tmp_path / "smart.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))  # fmt: skip
    pem.chmod(0o600)
    extra = ('auth = "smart"\n[backend.smart]\nclient_id = "lobby-1"\nprivate_key_file = "smart.pem"\n'
             'algorithm = "ES384"\nkey_id = "lobby-1-2025"\n')  # fmt: skip
    done = kiosk("jwks", "--config", str(config(tmp_path, "https://ehr.example.org/fhir/R4", extra)))
    assert done.returncode == 0, done.stderr
    (jwk,) = json.loads(done.stdout)["keys"]
    assert jwk["kid"] == "lobby-1-2025" and jwk["alg"] == "ES384" and jwk["crv"] == "P-384" and "d" not in jwk
