"""The headless demo (``kiosk demo --headless``): a scripted walk through the real kiosk app.

``run_walkthrough(runtime, out_dir, patient, aamva_text)`` walks a full check-in (typed name + date of birth),
a second walk that ends at the front desk, and an idle timeout with its warning; it writes one PNG per screen
(``NN-<screen>.png``) and ``summary.json`` (screens, taps, durations, results, errors). The driver is
:class:`kiosk.ui.walker.Walker`, which the UI tests use too.
``run_app(runtime)`` is the windowed kiosk (kiosk.ui.app.run_app).

Nothing personal is logged or written to summary.json: screen names, step names, counts and durations only.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.ui.walker import Walker, WalkError, WalkLog, mount_app

log = logging.getLogger(__name__)


def run_walkthrough(
    runtime: Any,
    out_dir: Path,
    patient: tuple[str, str, date],
    aamva_text: str | None = None,
    *,
    forms_patient: tuple[str, str, date] | None | str = "auto",
) -> dict[str, Any]:
    """The scripted demo. ``forms_patient="auto"`` adds a walk for the sandbox's demo patient who has forms
    and a consent due (when the sandbox seed module is importable), so every screen gets its picture."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    app, ui = mount_app(runtime)
    walker = Walker(app, ui, out_dir)
    given, family, dob = patient
    if forms_patient == "auto":
        forms_patient = _seeded_forms_patient(patient)
    try:
        # 1. A full check-in, identified by typing name and date of birth.
        walk = walker.begin("checkin_typed")
        _guard(walker, walk, lambda: _typed_checkin(walker, given, family, dob))
        # 2. Forms and a consent (another demo patient), if the first walk had none.
        if isinstance(forms_patient, tuple) and not any(s.step == "forms" for s in walker.shots):
            walk = walker.begin("checkin_forms")
            g2, f2, d2 = forms_patient
            _guard(walker, walk, lambda: _typed_checkin(walker, g2, f2, d2, identify_shots=False))
        # 3. Ends at the desk: the same patient again (already checked in), by ID scan or "I need help".
        walk = walker.begin("desk")
        _guard(walker, walk, lambda: _desk_walk(walker, aamva_text))
        # 4. Idle: the warning, "I need more time", then the session is wiped.
        walk = walker.begin("idle")
        _guard(walker, walk, lambda: _idle_walk(walker))
    finally:
        app.shutdown()
    summary = {
        "ok": not walker.errors,
        "screens": [s.__dict__ for s in walker.shots],
        "taps": walker.taps,
        "walks": [
            {
                "name": w.name,
                "taps": w.taps,
                "steps": w.steps,
                "result": w.result,
                "seconds": w.seconds,
                "error": w.error,
            }
            for w in walker.walks
        ],
        "flow_calls": app.controller.calls,
        "slowest_flow_call_s": round(max((d for _l, d in app.controller.durations), default=0.0), 3),
        "seconds": round(time.monotonic() - started, 3),
        "errors": walker.errors,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    log.info("walkthrough: %d screenshots, %d taps, %d errors", len(walker.shots), walker.taps, len(walker.errors))
    return summary


def _guard(walker: Walker, walk: WalkLog, body: Any) -> None:
    try:
        result = body()
        walker.end(walk, str(result or ""))
    except Exception as exc:
        message = str(exc) if isinstance(exc, WalkError) else type(exc).__name__
        log.error("walk %s failed: %s", walk.name, message)
        walk.error = message
        walker.errors.append(f"{walk.name}: {message}")
        walker.end(walk, "error")
        walker.app.end_session("demo_recover")
        walker.settle()


def _typed_checkin(w: Walker, given: str, family: str, dob: date, *, identify_shots: bool = True) -> str:
    if identify_shots:
        w.shot("welcome")
    w.start()
    w.identify_by_name(given, family, dob, shots=identify_shots)
    w.through_to_ticket(shots=True)
    return w.finish(shots=True)


def _desk_walk(w: Walker, aamva_text: str | None) -> str:
    w.expect("welcome")
    if aamva_text and w.app.runtime.devices.barcode is not None:
        w.scan(aamva_text)  # the ID card, scanned on the welcome screen
    else:
        w.start()
    if w.step != "desk":
        w.tap_and_settle(w.help_button())  # "I need help"

    w.expect("desk")
    w.shot("desk")
    w.tap(w.primary())
    w.settle()
    w.expect("welcome")
    return "desk"


def _idle_walk(w: Walker) -> str:
    app = w.app
    ui_settings = app.settings.ui
    w.start()
    w.tap(w.primary())  # "Type my name instead": the patient is in the middle of something
    ui = w.ui
    ui.advance_clock(ui_settings.idle_timeout_s - ui_settings.idle_warning_s + 1.5)
    ui.advance_clock(1.1)
    if not app.idle_warning.showing:
        raise WalkError("no idle warning after the warning time")
    w.shot("idle-warning")
    w.tap(app.idle_warning.ids.more)
    if app.idle_warning.showing:
        raise WalkError("the idle warning stayed after 'I need more time'")
    ui.advance_clock(app.idle.allowance_s + 2.0)
    ui.advance_clock(1.1)
    w.settle()
    w.expect("welcome")
    return "wiped"


def _seeded_forms_patient(patient: tuple[str, str, date]) -> tuple[str, str, date] | None:
    try:
        from portal_client.sandbox.seed import DEMO_NEW_FORMS
    except ImportError:
        return None
    candidate = (DEMO_NEW_FORMS.given, DEMO_NEW_FORMS.family, DEMO_NEW_FORMS.birth_date)
    return None if candidate == tuple(patient) else candidate


def run_app(runtime: Any) -> None:
    """The windowed kiosk (same as ``kiosk.ui.app.run_app``)."""
    from kiosk.ui.app import run_app as _run

    _run(runtime)
