"""How the whole app behaves around the flow: language, double taps, scans in the wrong place, the card
reader prompt with Cancel, the done screen clearing itself. Real window, real runtime, real sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from kiosk_env import find_text, runtime_for, walker_for

from devices.barcode.samples import aamva_payload
from kiosk.ui.i18n_kv import tr
from kiosk.ui.walker import Walker
from portal_client.sandbox.seed import DEMO_RETURNING

pytestmark = [pytest.mark.ui, pytest.mark.sandbox]


@pytest.fixture
def kiosk_runtime(sandbox_seed: Any, tmp_path: Any) -> Iterator[Any]:
    # The simulated card terminal waits up to 60 s for the "patient" (Cancel interrupts it).
    yield from runtime_for(sandbox_seed, tmp_path, devices={"payment": {"backend": "simulated", "delay": 60}})


@pytest.fixture
def kiosk(kiosk_runtime: Any, ui: Any) -> Iterator[Walker]:
    yield from walker_for(kiosk_runtime, ui)


def scan_returning(w: Walker) -> None:
    p = DEMO_RETURNING
    w.scan(aamva_payload(given=p.given, family=p.family, dob=p.birth_date))
    w.expect("confirm_appointment")


def test_language_button_switches_every_screen_and_the_flow(kiosk: Walker) -> None:
    w = kiosk
    welcome = w.expect("welcome")
    w.tap_and_settle(w.find_button("Español"))
    assert tr.lang == "es" and w.app.runtime.flow.language == "es"
    assert welcome.ids.start.text == "Comenzar el registro"
    assert w.find_button("English")  # the way back, in its own language
    w.tap_and_settle(welcome.ids.start)
    identify = w.expect("identify")
    assert identify.ids.layout.title == "Escanee su identificación"
    assert w.help_button().text == "Necesito ayuda"
    w.tap_and_settle(w.help_button())
    desk = w.expect("desk")
    assert desk.ids.layout.title == "Por favor, pase a la recepción"
    w.tap(w.primary())
    w.settle()
    w.expect("welcome")
    assert tr.lang == "en" and w.app.runtime.flow.language == "en"  # the next patient starts in English
    assert welcome.ids.start.text == "Start check-in"


def test_a_double_tap_sends_one_intent(kiosk: Walker) -> None:
    w = kiosk
    calls = w.app.controller.calls
    start = w.expect("welcome").ids.start
    gate = threading.Event()
    w.app.runtime.worker.call(lambda: gate.wait(10), lambda _r: None)  # the worker is busy for a moment
    try:
        w.ui.tap(start)
        w.ui.tap(start)  # the second tap of a double tap: the first is still being answered
    finally:
        gate.set()
    w.settle()
    w.expect("identify")
    assert w.app.controller.calls == calls + 1


def test_a_scan_off_the_scan_screens_is_ignored(kiosk: Walker) -> None:
    w = kiosk
    scan_returning(w)
    calls = w.app.controller.calls
    p = DEMO_RETURNING
    w.scan(aamva_payload(given=p.given, family=p.family, dob=p.birth_date))  # again, on confirm_appointment
    w.expect("confirm_appointment")
    assert w.app.controller.calls == calls


def test_card_reader_prompt_and_cancel(kiosk: Walker) -> None:
    w = kiosk
    terminal = w.app.runtime.devices.payment
    scan_returning(w)
    for _ in range(3):
        w.tap_and_settle(w.primary())  # appointment, details, insurance
    payment = w.expect("payment")
    w.tap(w.primary())  # Pay now with a card: the flow now waits for the terminal
    deadline = time.monotonic() + 30
    while not terminal.waiting.is_set():
        assert time.monotonic() < deadline, "the terminal was never asked"
        w.ui.frames(1)
    w.ui.frames(3)
    assert payment.waiting and w.app.controller.busy
    assert not w.app.busy_overlay.showing  # the card prompt, not a grey "one moment" veil
    assert payment.ids.layout.title == "Please pay on the card reader"
    assert not payment.ids.layout.show_footer  # nothing else to tap but Cancel (and "I need help")
    w.tap(payment.ids.cancel)  # the kiosk's own Cancel: calls terminal.cancel() directly
    w.settle()
    w.expect("payment")
    assert not payment.waiting
    assert payment.errors == {"base": "payment_cancelled"}
    assert payment.ids.layout.show_footer  # try again or pay at the desk


def test_done_screen_clears_itself(kiosk: Walker) -> None:
    w = kiosk
    scan_returning(w)
    for _ in range(3):
        w.tap_and_settle(w.primary())
    w.expect("payment")
    w.tap_and_settle(w.back_button())  # Pay at the front desk
    w.expect("ticket")
    w.tap_and_settle(w.primary())
    w.expect("done")
    assert find_text(w.app, ["Eleanor"])
    w.ui.advance_clock(w.app.settings.ui.done_screen_s + 1)
    w.ui.advance_clock(0.5)
    w.settle()
    w.expect("welcome")
    assert find_text(w.app, ["Eleanor", "Whitfield"]) == []


def test_reminder_qr_then_date_of_birth(kiosk: Walker, sandbox_seed: Any) -> None:
    """A reminder QR code names the appointment; the date of birth on the keypad is the second identifier."""
    from datetime import timedelta

    from kiosk.flow.reminder import make_token

    w, p = kiosk, DEMO_RETURNING
    secret = w.app.settings.reminder_secret()
    assert secret, "config/default.toml names a demo reminder secret"
    token = make_token(
        secret, sandbox_seed.appointment_ids["returning"], p.patient_id, sandbox_seed.now + timedelta(days=1)
    )
    w.scan(token)
    dob = w.expect("identify_dob")
    w.enter_date(dob.ids.dob, date(1949, 1, 1))  # a wrong date first
    w.tap_and_settle(w.primary())
    w.expect("identify_dob")
    assert dob.ids.dob.error  # "does not match our records", shown under the boxes
    w.enter_date(dob.ids.dob, p.birth_date)
    w.tap_and_settle(w.primary())
    confirm = w.expect("confirm_appointment")
    assert confirm.greeting == f"Hello, {p.given}"


def test_help_while_the_card_reader_waits_cancels_the_charge_and_goes_to_the_desk(kiosk: Walker) -> None:
    w = kiosk
    terminal = w.app.runtime.devices.payment
    scan_returning(w)
    for _ in range(3):
        w.tap_and_settle(w.primary())
    w.expect("payment")
    w.tap(w.primary())
    deadline = time.monotonic() + 30
    while not terminal.waiting.is_set():
        assert time.monotonic() < deadline
        w.ui.frames(1)
    started = time.monotonic()
    w.tap(w.help_button())
    w.settle(timeout=30)
    w.expect("desk")
    assert time.monotonic() - started < 20  # not the terminal's 60 s timeout
    assert [c.status.value for c in terminal.charges] == ["cancelled"]  # nothing was charged


def test_screens_are_built_when_first_shown_and_kept_for_the_next_patient(kiosk: Walker) -> None:
    w, app = kiosk, kiosk.app
    assert list(app.screens) == ["welcome"]  # an idle kiosk holds only what it shows
    assert app.manager.screen_names == ["welcome"]
    scan_returning(w)  # the ID scan skips identify: it is never built
    assert "identify" not in app.screens and "confirm_appointment" in app.screens
    w.tap_and_settle(w.primary())
    demographics = w.expect("demographics")
    assert demographics.data  # the patient's details are on it
    w.tap_and_settle(w.help_button())
    w.expect("desk")
    w.tap(w.primary())
    w.settle()
    w.expect("welcome")
    built = [step for step, _seconds in app.build_durations]
    assert built == ["welcome", "confirm_appointment", "demographics", "desk"]
    assert demographics.data == {} and demographics.errors == {}  # kept, but wiped
    scan_returning(w)
    w.tap_and_settle(w.primary())
    assert w.expect("demographics") is demographics  # the next patient reuses it: built once
    assert [step for step, _seconds in app.build_durations] == built
