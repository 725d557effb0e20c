"""Crash test: a separate kiosk process checks in N patients through the real flow, outbox and sync worker
while this test SIGKILLs it at random points (at least 20 times) and starts it again. At the end the FHIR
sandbox holds exactly N Encounters, N arrived Appointments, and nothing the kiosk made twice.

The kill points come from a seeded RNG: "after the k-th line the process printed, plus a few milliseconds",
so kills land in start-up, in flow reads, in the SQLite commit of a check-in, in the middle of a transaction
on the wire, between the parts of a split Bundle and between delivery and acknowledgement. Where exactly
each one lands depends on timing; the outcome must not, and nothing here asserts on time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from portal_client.outbox import open_outbox
from portal_client.sandbox import Sandbox
from portal_client.sandbox.crowd import crowd, seed_crowd
from portal_client.sandbox.seed import SeedInfo

pytestmark = pytest.mark.sandbox

N = 30
KILLS = 22
RNG_SEED = int(os.environ.get("KIOSK_CRASH_SEED", "20250312"))  # fixed; override to explore
DRIVER = Path(__file__).with_name("checkin_driver.py")
CHECKIN_SYSTEM = "urn:open-checkin-kiosk:checkin"


def write_config(tmp_path: Path, base_url: str) -> Path:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f"""
[kiosk]
id = "crash-kiosk"
data_dir = "{tmp_path / 'data'}"
[backend]
base_url = "{base_url}"
timeout_s = 10
[outbox]
key_file = "{tmp_path / 'keys' / 'outbox.key'}"
[sync]
idle_poll_s = 1.0
max_backoff_s = 2.0
[heartbeat]
interval_s = 60
[devices.printer]
enabled = false                 # saves a second per restart (python-escpos); tickets are not the point here
[payment]
default_self_pay = 120.00
default_copay = 25.00
"""
    )
    return config


def _lines(stream: IO[str]) -> Any:
    while line := stream.readline():
        yield line.strip()


def everything_made_by_kiosks(base_url: str) -> list[dict[str, Any]]:
    """Every resource carrying a kiosk-made identifier (or tag), of every type the check-in writes."""
    out = []
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        for rtype in ("Encounter", "Coverage", "DocumentReference", "QuestionnaireResponse", "Consent",
                      "PaymentReconciliation", "Task"):  # fmt: skip
            bundle = http.get(f"/{rtype}", params={"identifier": f"{CHECKIN_SYSTEM}|", "_count": "1000"}).json()
            out += [e["resource"] for e in bundle.get("entry", [])]
        bundle = http.get("/Provenance", params={"_count": "1000"}).json()
        out += [e["resource"] for e in bundle.get("entry", [])]
    return out


def _identifiers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = resource.get("identifier", [])
    return found if isinstance(found, list) else [found]  # QuestionnaireResponse has a single one


def test_sigkill_at_random_points_loses_nothing_and_doubles_nothing(
    fhir_sandbox: Sandbox, sandbox_seed: SeedInfo, tmp_path: Path
) -> None:
    patients = crowd(N, sandbox_seed.now)
    seed_crowd(sandbox_seed.base_url, patients)
    config = write_config(tmp_path, sandbox_seed.base_url)
    command = [sys.executable, str(DRIVER), "--config", str(config), "--now", sandbox_seed.now.isoformat(),
               "--count", str(N), "--new-cards"]  # fmt: skip
    rng = random.Random(RNG_SEED)
    kills, lives, landed = 0, 0, Counter[str]()
    started = time.monotonic()
    while True:
        lives += 1
        assert lives <= KILLS + 5, "the kiosk process never finished"
        stderr = open(tmp_path / f"life-{lives}.err", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=DRIVER.parents[2])
        assert proc.stdout is not None
        try:
            if kills < KILLS:
                # Kill after the k-th line of any kind, or just after a check-in was stored (its delivery is
                # then on the wire or between parts), or just after a delivery was acknowledged.
                kind = rng.choice(("line", "line", "stored", "sync"))
                target = rng.randint(1, 25) if kind == "line" else rng.randint(1, 2)
                pause = rng.uniform(0.0, 0.04 if kind == "stored" else 0.01)
                last, seen = "", 0
                for line in _lines(proc.stdout):
                    last = line
                    seen += kind == "line" or line.startswith(kind)
                    if seen >= target:
                        break
                if proc.poll() is None:
                    time.sleep(pause)  # not a wait for anything: moves the kill point off the line boundary
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(30)
                    if proc.returncode == -signal.SIGKILL:
                        kills += 1
                        landed[f"{kind}:{last.split(' ')[0]}"] += 1
                        continue
                # it finished on its own before the kill
            for _line in _lines(proc.stdout):
                pass
            assert proc.wait(120) == 0, (tmp_path / f"life-{lives}.err").read_text()[-3000:]
            break
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
            proc.stdout.close()
            stderr.close()
    elapsed = time.monotonic() - started
    logs = "".join(f.read_text() for f in tmp_path.glob("life-*.err"))
    print(f"\ncrash test: N={N} patients, {kills} SIGKILLs, {lives} process lives, {elapsed:.1f} s; "
          f"kills after: {dict(landed)}; restarts that found a delivery in flight: "
          f"{logs.count('back to pending after restart')}; replays answered by a version conflict: "
          f"{logs.count('version conflict')}")  # fmt: skip
    assert kills >= 20

    base = sandbox_seed.base_url
    with httpx.Client(base_url=base, timeout=30.0) as http:
        appointments = [http.get(f"/Appointment/{p.appointment_id}").json() for p in patients]
    assert [a["status"] for a in appointments] == ["arrived"] * N

    made = everything_made_by_kiosks(base)
    encounters = [r for r in made if r["resourceType"] == "Encounter"]
    assert len(encounters) == N
    assert sorted(e["subject"]["reference"] for e in encounters) == sorted(
        f"Patient/{p.patient_id}" for p in patients
    )
    assert sorted(e["appointment"][0]["reference"] for e in encounters) == sorted(
        f"Appointment/{p.appointment_id}" for p in patients
    )
    # No duplicates of anything: every kiosk-made identifier value (and Provenance tag) exists once.
    values = Counter(
        (r["resourceType"], i["value"]) for r in made for i in _identifiers(r) if i.get("system") == CHECKIN_SYSTEM
    )
    values.update(("Provenance", t["code"]) for r in made if r["resourceType"] == "Provenance"
                  for t in r["meta"].get("tag", []) if t.get("system") == CHECKIN_SYSTEM)  # fmt: skip
    assert [v for v, n in values.items() if n > 1] == []
    kinds = Counter(r["resourceType"] for r in made)
    shapes = Counter(p.shape for p in patients)
    assert kinds["Provenance"] == N and kinds["PaymentReconciliation"] == N
    assert kinds["QuestionnaireResponse"] == 2 * shapes["forms"]  # health history + PHQ-9
    assert kinds["Consent"] == shapes["forms"] + shapes["sick"]
    # self-pay for "sick"; a new card typed in for "forms" (their Bundles have 9 entries: two transactions)
    assert kinds["Coverage"] == shapes["sick"] + shapes["forms"]
    assert kinds["Task"] == 0  # nobody was sent to the desk
    # Patient changes (a new phone for the "forms" shape) applied once, on top of the seeded record.
    with httpx.Client(base_url=base, timeout=30.0) as http:
        for p in patients:
            patient = http.get(f"/Patient/{p.patient_id}").json()
            phones = [t["value"] for t in patient["telecom"] if t["system"] == "phone"]
            assert len(phones) == 1
    # The kiosk's outbox is empty: nothing pending, nothing dead.
    outbox = open_outbox(tmp_path / "data", tmp_path / "keys" / "outbox.key")
    counts = outbox.counts()
    outbox.close()
    assert (counts.depth, counts.dead) == (0, 0)
    assert os.stat(tmp_path / "keys" / "outbox.key").st_mode & 0o077 == 0
