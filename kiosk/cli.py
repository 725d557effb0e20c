"""`kiosk run | demo | sandbox | config check | sync | jwks | doctor` (DESIGN §2).

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
    from kiosk.runtime.staff_setup import check_staff

    problems = check_devices(settings) + check_backend(settings) + check_staff(settings)
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


SYNC_OK, SYNC_DEAD, SYNC_WAITING = 0, 1, 3
_SYNC_ERRORS = {
    "backend_unavailable": "the back-end cannot be reached (network, DNS, or it answered 5xx/429)",
    "backend_timeout": "the back-end did not answer in time",
    "backend_auth": "the back-end refused the kiosk's credentials (token, key or certificate)",
    "backend_conflict": "a record kept changing on the back-end while the kiosk updated it",
    "storage_error": "the outbox database could not be read or written",
    "sync_error": "an unexpected error (see the log)",
}


def _outcome_summary(outcome: Any) -> str:
    """Issue codes and locations of an OperationOutcome: never its diagnostics (they may echo values)."""
    issues = (outcome or {}).get("issue") or []
    parts = []
    for issue in issues[:3]:
        where = ",".join(issue.get("expression") or issue.get("location") or [])
        parts.append(f"{issue.get('severity', '?')} {issue.get('code', '?')}" + (f" at {where}" if where else ""))
    return "; ".join(parts) or "no details"


def cmd_sync(args: argparse.Namespace) -> int:
    """Deliver what waits in the outbox once, and say what happened (exit 0 / 1 dead rows / 3 rows waiting)."""
    import time
    from datetime import timedelta

    from kiosk.runtime.backend import build_backend
    from portal_client.outbox import RowState

    settings = _load(args.config)
    # The kiosk may be running: a row its sync worker is sending right now is not taken from it.
    backend = build_backend(settings, recover_after=timedelta(minutes=15))
    try:
        outbox = backend.outbox
        before = outbox.counts()
        retried_dead = 0
        if args.retry_dead:
            retried_dead = sum(outbox.retry_dead(row_id) for row_id in outbox.row_ids(RowState.DEAD))
        started = time.monotonic()
        report = backend.sync.drain_once()
        elapsed = time.monotonic() - started
        state = backend.sync.state
        after = outbox.counts()
        dead_rows = list(outbox.rows(RowState.DEAD))
    finally:
        backend.close()
    code = SYNC_DEAD if after.dead else SYNC_WAITING if after.depth else SYNC_OK
    if args.json:
        print(json.dumps({"before": _jsonable(before), "report": _jsonable(report), "state": _jsonable(state),
                          "after": _jsonable(after), "retried_dead": retried_dead, "exit_code": code,
                          "dead_rows": [{"id": r.id, "kind": r.kind, "checkin_id": r.checkin_id,
                                         "created_at": r.created_at, "attempts": r.attempts,
                                         "outcome": _outcome_summary(r.outcome)} for r in dead_rows]},
                         indent=2, default=str))  # fmt: skip
        return code
    print(f"Outbox {settings.data_dir}: {before.depth} waiting, {before.dead} dead before this pass"
          + (f" ({retried_dead} dead row(s) put back to send again)" if retried_dead else "") + ".")  # fmt: skip
    print(f"Back-end {settings.backend.base_url}: {report.sent} delivered, {report.dead} refused, "
          f"{report.retried} put back for later, in {elapsed:.1f} s.")  # fmt: skip
    if report.retried and state.last_error:
        print(f"Stopped because {_SYNC_ERRORS.get(state.last_error, state.last_error)} [{state.last_error}].")
    print(f"Outbox now: {after.depth} waiting, {after.dead} dead."
          + (f" Last delivery: {state.last_success:%Y-%m-%d %H:%M:%S %Z}." if state.last_success else ""))  # fmt: skip
    if dead_rows:
        print(f"Dead rows (refused by the back-end, kept {settings.outbox.dead_retention_days} days; "
              "fix the cause, then run `kiosk sync --retry-dead`):")  # fmt: skip
        for r in dead_rows:
            print(f"  row {r.id}  {r.kind}  check-in {r.checkin_id}  stored {r.created_at:%Y-%m-%d %H:%M}  "
                  f"attempts {r.attempts}  {_outcome_summary(r.outcome)}")  # fmt: skip
    return code


def cmd_jwks(args: argparse.Namespace) -> int:
    """The public key set to register at the practice's authorization server ([backend.smart])."""
    from portal_client.auth import jwks, load_private_key
    from portal_client.errors import AuthError

    settings = _load(args.config)
    smart = settings.backend.smart
    if smart.private_key_file is None:
        print(f"{settings.source}: [backend.smart] private_key_file is not set", file=sys.stderr)
        return 2
    try:
        key = load_private_key(settings.resolve(smart.private_key_file), smart.algorithm)
    except AuthError as exc:
        print(f"{settings.source}: [backend.smart] {exc}", file=sys.stderr)
        return 2
    print(json.dumps(jwks(key, smart.algorithm, smart.key_id or None), indent=2))
    return 0


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

    p = sub.add_parser(
        "sync",
        help="send what waits in the outbox once and report",
        description="Deliver what waits in the outbox once and report. Exit status: 0 nothing left, "
        "1 dead rows (refused by the back-end: staff must look), 3 rows still waiting (back-end unreachable "
        "or refusing the kiosk's credentials). Safe while the kiosk runs: a row its own worker is sending is "
        "left to it (rows in flight for over 15 minutes are taken over).",
    )
    p.add_argument("--config")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--retry-dead", action="store_true", help="put dead rows back to send again first")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("jwks", help="print the public key set to register for SMART backend auth")
    p.add_argument("--config")
    p.set_defaults(func=cmd_jwks)

    p = sub.add_parser("doctor", help="check every configured device and the back-end")
    p.add_argument("--config")
    p.set_defaults(func=cmd_doctor)

    from kiosk.commands import scan, staff  # kiosk decode, kiosk parse-id; kiosk staff hash-pin

    scan.register(sub)
    staff.register(sub)
    from kiosk.commands import insurance  # kiosk read-card

    insurance.register(sub)
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
