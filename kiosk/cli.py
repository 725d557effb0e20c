"""`kiosk run | demo | sandbox | config check | sync | doctor` (DESIGN §2).

Heavy imports (Kivy, OpenCV, the FHIR engine) happen inside the command that needs them, so
`kiosk config check` answers at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.settings import DEFAULT_CONFIG, ConfigError, Settings, load_settings

log = logging.getLogger("kiosk")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def prepare_kivy_env(*, headless: bool, home: Path | None = None) -> None:
    """Environment Kivy reads at import time (RECIPES §2). Must run before the first `import kivy`."""
    if "kivy" in sys.modules:
        return
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_WINDOW", "sdl2")  # never fall back to x11 (it exits the process)
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    # Mesa's software renderer (llvmpipe: kiosks without a GPU driver, CI) rasterizes on worker threads that
    # each keep ~40 MB of scene buffers. A kiosk redraws rarely: rasterizing on the main thread costs no
    # visible time and keeps ~80 MB. GPU drivers ignore this variable.
    os.environ.setdefault("LP_NUM_THREADS", "0")
    if home is not None:
        os.environ.setdefault("KIVY_HOME", str(home))
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("KIVY_METRICS_DENSITY", "1")


def _load(path: str | None) -> Settings:
    return load_settings(Path(path) if path else DEFAULT_CONFIG)


# -- commands ------------------------------------------------------------------------------------------
def cmd_config_check(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(Path(args.file))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    from kiosk.runtime.backend import check_backend
    from kiosk.runtime.build import check_devices

    problems = check_devices(settings) + check_backend(settings)
    for problem in problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if problems:
        return 2
    k = settings.kiosk
    print(f"{args.file}: OK (kiosk {k.id}, mode {k.mode}, back-end {settings.backend.base_url})")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from portal_client.sandbox.launcher import run_forever

    return run_forever(host=args.host, port=args.port, seed=not args.no_seed)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    prepare_kivy_env(headless=False)
    from kiosk.runtime.build import build_runtime
    from kiosk.ui.app import run_app

    runtime = build_runtime(settings)
    try:
        run_app(runtime)
    finally:
        runtime.stop()
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    from kiosk.runtime.backend import build_backend

    backend = build_backend(settings)
    try:
        report = backend.sync.drain_once()
        state = backend.sync.state
    finally:
        backend.close()
    print(json.dumps({"report": _jsonable(report), "state": _jsonable(state)}, indent=2, default=str))
    return 0 if getattr(state, "dead", 0) == 0 and getattr(state, "depth", 0) == 0 else 1


def _jsonable(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    return obj


def cmd_demo(args: argparse.Namespace) -> int:
    headless = args.headless or not has_display()
    out_dir = Path(args.out).resolve() if args.out else Path("out/demo").resolve()
    settings = _load(args.config)
    from portal_client.sandbox.launcher import Sandbox
    from portal_client.sandbox.seed import DEMO_RETURNING, seed

    work = Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    prepare_kivy_env(headless=headless, home=work / "kivy")
    with Sandbox() as sandbox:
        info = seed(sandbox.base_url)
        log.info("FHIR sandbox ready at %s (%d patients seeded)", sandbox.base_url, len(getattr(info, "patients", [])))
        settings = settings.with_overrides(
            backend={"base_url": sandbox.base_url},
            kiosk={"data_dir": str(work / "data")},
            outbox={"key_file": str(work / "keys" / "outbox.key")},
            devices={
                "printer": {"out_dir": str(out_dir / "tickets")},
                "payment": {"delay": 0.0 if headless else 1.5},
            },
        )
        from kiosk.runtime.build import build_runtime

        runtime = build_runtime(settings)
        try:
            if headless:
                from devices.barcode.samples import aamva_payload
                from kiosk.ui.demo_script import run_walkthrough

                patient = DEMO_RETURNING
                summary = run_walkthrough(
                    runtime,
                    out_dir,
                    patient=(patient.given, patient.family, patient.birth_date),
                    aamva_text=aamva_payload(given=patient.given, family=patient.family, dob=patient.birth_date),
                )
                print(json.dumps({"out": str(out_dir), "screens": len(summary.get("screens", []))}))
                return 0 if summary.get("ok", True) else 1
            from kiosk.ui.app import run_app

            print(f"Demo kiosk on {sandbox.base_url}. Try: {DEMO_RETURNING.given} {DEMO_RETURNING.family}, "
                  f"born {DEMO_RETURNING.birth_date:%m/%d/%Y} (demo data).")
            run_app(runtime)
            return 0
        finally:
            runtime.stop()


def cmd_doctor(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    from kiosk.runtime.build import doctor_report

    rows = doctor_report(settings)
    header = ("CHECK", "STATUS", "DETAIL")
    width = max(len(r[0]) for r in [header, *rows])
    print(f"{header[0].ljust(width)}  {header[1]:8}  {header[2]}")
    bad = 0
    for name, status, detail in rows:
        print(f"{name.ljust(width)}  {status:8}  {detail}")
        bad += status not in ("ok", "disabled")  # a fault, or degraded (paper low): someone should look
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Patient check-in kiosk")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (never personal data)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the kiosk with a configuration file")
    p.add_argument("--config", help=f"TOML file (default {DEFAULT_CONFIG})")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="FHIR sandbox + kiosk with simulated devices")
    p.add_argument("--config", help="TOML file (default config/default.toml)")
    p.add_argument("--headless", action="store_true", help="scripted walk-through off-screen, writes PNGs")
    p.add_argument("--out", help="folder for screenshots and summary.json (default out/demo)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sandbox", help="run the local FHIR R4 sandbox with demo practice data")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8103)
    p.add_argument("--no-seed", action="store_true")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", required=True)
    c = csub.add_parser("check", help="validate a configuration file")
    c.add_argument("file")
    c.set_defaults(func=cmd_config_check)

    p = sub.add_parser("sync", help="send what waits in the outbox once and report")
    p.add_argument("--config")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("doctor", help="check every configured device and the back-end")
    p.add_argument("--config")
    p.set_defaults(func=cmd_doctor)

    from kiosk.commands import scan  # kiosk decode, kiosk parse-id

    scan.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
