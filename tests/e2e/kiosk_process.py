"""One kiosk as a separate process for the fleet test: the real runtime (simulated devices, real heartbeat)
driven line by line on standard input, answering each command on standard output:

    python tests/e2e/kiosk_process.py '<settings overrides as JSON>'
    beat <ISO time>   -> "beat ok" | "beat failed"   (the kiosk's clock is set to that time, then one heartbeat)
    paper out         -> "paper out"                 (the simulated printer runs out of paper)
    use               -> "in use"                    (a patient taps "start": the session is in use)
    quit              -> "bye"                       (a clean stop: the Device says inactive)
"""

from __future__ import annotations

import json
import sys
from datetime import datetime


class DrivenClock:
    def __init__(self) -> None:
        self.t = datetime.now().astimezone()

    def now(self) -> datetime:
        return self.t


def main() -> int:
    from kiosk.runtime.build import build_runtime
    from kiosk.settings import DEFAULT_CONFIG, load_settings

    overrides = json.loads(sys.argv[1])
    clock = DrivenClock()
    runtime = build_runtime(load_settings(DEFAULT_CONFIG).with_overrides(**overrides), clock=clock)
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command.startswith("beat "):
                clock.t = datetime.fromisoformat(command.removeprefix("beat "))
                print("beat ok" if runtime.heartbeat.beat() else "beat failed", flush=True)
            elif command == "paper out":
                runtime.devices.printer.set_paper(out=True)
                print("paper out", flush=True)
            elif command == "use":
                runtime.flow.submit({"action": "start"})
                print("in use", flush=True)
            elif command == "quit":
                runtime.heartbeat.stop(farewell=True)
                print("bye", flush=True)
                return 0
        return 0
    finally:
        runtime.stop()


if __name__ == "__main__":
    sys.exit(main())
