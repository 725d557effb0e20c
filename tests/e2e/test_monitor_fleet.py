"""Three kiosk processes (simulated devices, real runtime, real heartbeat) report to the FHIR sandbox; one is
killed, one runs out of paper. The monitor's model shows one offline and one alert at its next refresh.
Deterministic: each kiosk's heartbeat is triggered explicitly at a time the test chooses, the monitor's clock
is the test's, and "the refresh interval passed" is ``refresh_now()``; nothing waits on wall time."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal_client.client import FhirClient
from portal_client.monitor import FleetMonitor, MonitorSnapshot

pytestmark = pytest.mark.sandbox
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


class Kiosk:
    def __init__(self, kiosk_id: str, base_url: str, tmp_path: Path) -> None:
        overrides = {
            "kiosk": {"id": kiosk_id, "data_dir": str(tmp_path / kiosk_id / "data")},
            "outbox": {"key_file": str(tmp_path / kiosk_id / "keys" / "outbox.key")},
            "backend": {"base_url": base_url, "timeout_s": 10},
            "sync": {"enabled": False},
        }
        self.proc = subprocess.Popen([sys.executable, str(HERE / "kiosk_process.py"), json.dumps(overrides)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)  # fmt: skip
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()  # a dead process gives "": the assertions say so

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read()

    def beat(self, at: datetime) -> None:
        assert self.ask(f"beat {at.isoformat()}") == "beat ok"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


@pytest.fixture
def fleet(empty_sandbox_url: str, tmp_path: Path) -> Iterator[list[Kiosk]]:
    kiosks = [Kiosk(f"lobby-{n}", empty_sandbox_url, tmp_path) for n in (1, 2, 3)]
    yield kiosks
    for k in kiosks:
        if k.proc.poll() is None:
            k.kill()


def test_one_offline_and_one_out_of_paper_at_the_next_refresh(fleet: list[Kiosk], empty_sandbox_url: str) -> None:
    a, b, c = fleet
    t0 = datetime.now(UTC).replace(microsecond=0)
    assert a.ask("use") == "in use"  # a patient at lobby-1's screen
    for k in fleet:
        k.beat(t0)

    clock = Clock(t0 + timedelta(seconds=10))
    client = FhirClient(empty_sandbox_url)
    # Heartbeats below are stamped up to 3 minutes ahead of the server's clock: allow that skew here (the skew
    # alert has its own unit test).
    monitor = FleetMonitor(client, clock=clock, offline_after_s=120, clock_skew_s=3600, refresh_s=3600)
    seen: queue.Queue[MonitorSnapshot] = queue.Queue()
    monitor.subscribe(seen.put)
    monitor.start()
    try:
        first = seen.get(timeout=60)
        assert [k.kiosk_id for k in first.kiosks] == ["lobby-1", "lobby-2", "lobby-3"]
        assert first.online == 3 and first.alerts == 0
        assert [k.in_use for k in first.kiosks] == [True, False, False]

        c.kill()  # the power cord: no goodbye, the Device still says "active"
        assert b.ask("paper out") == "paper out"
        later = t0 + timedelta(minutes=3)
        a.beat(later)
        b.beat(later)
        clock.t = later + timedelta(seconds=5)
        monitor.refresh_now()  # the refresh interval passed
        snap = seen.get(timeout=60)
    finally:
        monitor.stop()
        client.close()
    views = {k.kiosk_id: k for k in snap.kiosks}
    assert [k.kiosk_id for k in snap.kiosks if not k.online] == ["lobby-3"]
    assert [a.code for a in views["lobby-3"].alerts] == ["offline"]
    assert views["lobby-3"].alerts[0].detail == "185s"
    assert [a.code for a in views["lobby-2"].alerts] == ["printer_out_of_paper"]
    assert views["lobby-2"].devices["printer"] == ("fault", "out_of_paper") and views["lobby-2"].overall == "fault"
    assert views["lobby-1"].alerts == () and views["lobby-1"].online and views["lobby-1"].in_use
    assert snap.online == 2 and snap.alerts == 2

    assert a.ask("quit") == "bye"  # a clean stop says so
    stopped = FleetMonitor(FhirClient(empty_sandbox_url), clock=clock, clock_skew_s=3600).refresh()
    assert {k.kiosk_id: [x.code for x in k.alerts] for k in stopped.kiosks}["lobby-1"] == ["stopped"]


def test_the_monitor_is_built_from_the_configuration(fleet: list[Kiosk], empty_sandbox_url: str) -> None:
    from kiosk.runtime.fleet import build_fleet_monitor
    from kiosk.settings import DEFAULT_CONFIG, load_settings

    settings = load_settings(DEFAULT_CONFIG).with_overrides(backend={"base_url": empty_sandbox_url},
                                                            monitor={"offline_after_s": 30})  # fmt: skip
    now = datetime.now(UTC)
    for k in fleet:
        k.beat(now)
    handle = build_fleet_monitor(settings, clock=Clock(now + timedelta(seconds=31)))
    try:
        assert handle.monitor.limits.offline_after_s == 30
        snap = handle.monitor.refresh()
        assert len(snap.kiosks) == 3 and snap.online == 0 and not snap.error  # 31 s > the configured 30 s
    finally:
        handle.close()
