"""Child process of bench/startup.py: start the real kiosk app and report when the welcome screen is drawn.

Prints one JSON line {"welcome_drawn_at": <epoch seconds>} after the first frame that shows the welcome
screen, then idles until it is killed. Arguments: BASE_URL DATA_DIR.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from kiosk.cli import prepare_kivy_env


def main() -> None:
    base_url, data_dir = sys.argv[1], Path(sys.argv[2])
    prepare_kivy_env(headless=True, home=data_dir / "kivy")
    from kivy.clock import Clock

    from kiosk.runtime.build import build_runtime
    from kiosk.settings import load_settings
    from kiosk.ui.app import run_app

    settings = load_settings().with_overrides(
        backend={"base_url": base_url},
        kiosk={"data_dir": str(data_dir / "data")},
        outbox={"key_file": str(data_dir / "keys" / "outbox.key")},
    )
    runtime = build_runtime(settings)

    def check(_dt: float) -> bool:
        from kivy.app import App

        app = App.get_running_app()
        if app is None or getattr(app, "current_step", "") != "welcome":
            return True
        # This callback runs before the next frame is drawn: report after that frame.
        Clock.schedule_once(lambda _dt: print(json.dumps({"welcome_drawn_at": time.time()}), flush=True), 0)
        return False

    Clock.schedule_interval(check, 0)
    run_app(runtime)


if __name__ == "__main__":
    main()
