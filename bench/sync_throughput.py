"""Check-ins per second drained by the sync worker vs raw httpx posting the same kind of pre-built Bundles to
the same FHIR sandbox in the same run (goal ≥ 0.8×), and HTTP requests per check-in (goal: exactly 1 on the
normal path).

    .venv/bin/python bench/sync_throughput.py [--count 80] [--rounds 2]

Per round: the sandbox is emptied and seeded again (its in-memory engine scans linearly: a store that grows
round after round would measure the engine), then two crowds of ``count`` invented patients (returning /
forms / sick, see portal_client/sandbox/crowd.py) are checked in through the real flow with the sync worker
off, so every
check-in Bundle is built, validated and sealed into the encrypted outbox by the kiosk itself. Crowd B's rows
are then taken out of the outbox (decrypted once, beforehand) and posted by a bare ``httpx.Client`` — one
POST per Bundle, no outbox, no encryption, no SQLite — while crowd A's rows are drained by
``SyncWorker.drain_once`` (decrypt, claim, deliver, acknowledge with fsync'd commits). Each Bundle can land
only once, so the two sides get different (same-shaped) Bundles; the rounds alternate which side goes first
and the throughputs are totals over all rounds (check-ins ÷ seconds).
The outbox lives on this machine's disk (synchronous = FULL). A last pass drains Bundles with a new insurance
card typed in (9 entries: two transactions on Medplum, which caps conditional transactions at 8).
Prints a Markdown table and writes bench/results/sync_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from checkin_driver import FixedClock, check_in  # noqa: E402

from kiosk.flow.results import Done  # noqa: E402
from kiosk.runtime.build import Runtime, build_runtime  # noqa: E402
from kiosk.settings import DEFAULT_CONFIG, load_settings  # noqa: E402
from portal_client.outbox import RowState  # noqa: E402
from portal_client.sandbox import Sandbox  # noqa: E402
from portal_client.sandbox.crowd import crowd, seed_crowd  # noqa: E402
from portal_client.sandbox.seed import TEST_NOW, seed  # noqa: E402


def runtime_for(base_url: str, folder: Path) -> Runtime:
    settings = load_settings(DEFAULT_CONFIG).with_overrides(
        backend={"base_url": base_url},
        kiosk={"data_dir": str(folder / "data")},
        outbox={"key_file": str(folder / "keys" / "outbox.key")},
        sync={"enabled": False},
        heartbeat={"enabled": False},
        devices={"printer": {"enabled": False}},
    )
    return build_runtime(settings, clock=FixedClock(TEST_NOW))


class RequestCounter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, request: httpx.Request) -> None:
        self.n += 1


def check_in_all(runtime: Runtime, patients: list[Any], *, new_card: bool = False) -> None:
    for p in patients:
        result = check_in(runtime.flow, p, new_card=new_card)
        if not isinstance(result, Done):
            raise RuntimeError(f"crowd patient {p.index} did not check in: {result}")


def take_rows(runtime: Runtime) -> list[dict[str, Any]]:
    """Every pending row's Bundle (decrypted now), and the rows gone from the outbox."""
    outbox = runtime.outbox
    bundles = []
    for row in list(outbox.rows(RowState.PENDING)):
        bundles.append(row.payload["bundle"])
        outbox.ack(row.id)
    return bundles


def drain(runtime: Runtime) -> tuple[float, int, int]:
    """(seconds, check-ins delivered, HTTP requests) for one sync-worker pass over the outbox."""
    counter = RequestCounter()
    runtime.backend.client._http.event_hooks["request"] = [counter]
    started = time.perf_counter()
    report = runtime.sync.drain_once()
    elapsed = time.perf_counter() - started
    runtime.backend.client._http.event_hooks["request"] = []
    if report.dead or report.retried or report.depth:
        raise RuntimeError(f"the sync worker did not deliver everything: {report}")
    return elapsed, report.sent, counter.n


def post_raw(base_url: str, bundles: list[dict[str, Any]]) -> tuple[float, int]:
    """(seconds, check-ins) posting each pre-built Bundle with a bare httpx.Client (created beforehand)."""
    payloads = [json.dumps(b, separators=(",", ":")).encode() for b in bundles]
    with httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=30.0,
                      headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}) as http:
        http.get("metadata")  # the connection is open before the clock starts, as the worker's is
        started = time.perf_counter()
        for body in payloads:
            response = http.post("", content=body)
            if response.status_code != 200:
                raise RuntimeError(f"raw post failed: HTTP {response.status_code}")
        return time.perf_counter() - started, len(payloads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40, help="check-ins per side per round")
    parser.add_argument("--rounds", type=int, default=4, help="an even number: each side goes first as often")
    args = parser.parse_args()

    results: dict[str, Any] = {"count": args.count, "rounds": []}
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        runtime = runtime_for(sandbox.base_url, Path(tmp))
        try:
            first = 0
            for r in range(args.rounds):
                sandbox.reset()
                seed(sandbox.base_url, now=TEST_NOW)
                runtime.backend.client.search("Patient", {"_count": "1"})  # warm connection
                a = crowd(args.count, TEST_NOW, first=first)
                b = crowd(args.count, TEST_NOW, first=first + args.count)
                first += 2 * args.count
                seed_crowd(sandbox.base_url, a + b)
                check_in_all(runtime, b)
                raw_bundles = take_rows(runtime)
                check_in_all(runtime, a)
                sizes = Counter(len(row.payload["bundle"]["entry"]) for row in runtime.outbox.rows())
                if r % 2 == 0:
                    worker_s, sent, requests = drain(runtime)
                    raw_s, raw_n = post_raw(sandbox.base_url, raw_bundles)
                else:
                    raw_s, raw_n = post_raw(sandbox.base_url, raw_bundles)
                    worker_s, sent, requests = drain(runtime)
                results["rounds"].append({
                    "worker_s": worker_s, "raw_s": raw_s, "requests": requests, "checkins": sent, "raw_checkins": raw_n,
                    "worker_first": r % 2 == 0, "bundle_entries": dict(sorted(sizes.items())),
                })  # fmt: skip
            # Bundles over the 8-entry cap: a new insurance card typed in by "forms" patients.
            sandbox.reset()
            seed(sandbox.base_url, now=TEST_NOW)
            split = [p for p in crowd(3 * 10, TEST_NOW, first=first) if p.shape == "forms"]
            seed_crowd(sandbox.base_url, split)
            check_in_all(runtime, split, new_card=True)
            entries = Counter(len(row.payload["bundle"]["entry"]) for row in runtime.outbox.rows())
            _s, split_sent, split_requests = drain(runtime)
            results["split"] = {"checkins": split_sent, "requests": split_requests, "bundle_entries": dict(entries)}
        finally:
            runtime.stop()

    rounds = results["rounds"]
    worker = sum(x["checkins"] for x in rounds) / sum(x["worker_s"] for x in rounds)
    raw = sum(x["raw_checkins"] for x in rounds) / sum(x["raw_s"] for x in rounds)
    overhead_ms = 1000 * (1 / worker - 1 / raw)
    per_checkin = sum(x["requests"] for x in rounds) / sum(x["checkins"] for x in rounds)
    split = results["split"]
    results.update(worker_per_s=worker, raw_per_s=raw, ratio=worker / raw, requests_per_checkin=per_checkin,
                   overhead_ms_per_checkin=overhead_ms)  # fmt: skip
    out = REPO / "bench" / "results" / "sync_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    command = "`.venv/bin/python bench/sync_throughput.py`"
    print("| metric | value | goal | command |")
    print("|---|---|---|---|")
    print(f"| check-ins/s drained by the sync worker (outbox → sandbox; {len(rounds)} rounds of "
          f"{args.count}) | {worker:.0f}/s | | {command} |")  # fmt: skip
    print(f"| check-ins/s, raw `httpx` posting the same kind of pre-built Bundles | {raw:.0f}/s | | same |")
    print(f"| sync worker ÷ raw | {worker / raw:.2f}× | ≥ 0.8× | same |")
    print(f"| what the outbox adds per check-in (decrypt, claim, acknowledge: fsync'd SQLite commits) | "
          f"{overhead_ms:.1f} ms | | same |")  # fmt: skip
    print(f"| HTTP requests per check-in, normal path (Bundles of "
          f"{min(min(x['bundle_entries']) for x in rounds)}–{max(max(x['bundle_entries']) for x in rounds)} "
          f"entries) | {per_checkin:.2f} | exactly 1 | same |")  # fmt: skip
    print(f"| HTTP requests per check-in, new insurance card + two forms ({max(split['bundle_entries'])} entries;"
          f" Medplum caps conditional transactions at 8) | {split['requests'] / split['checkins']:.2f} | | same |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
