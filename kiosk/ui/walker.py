"""Drive the real kiosk app with simulated touches, as a patient would: :class:`Walker` (taps, typing,
waits for the flow, screenshots, the common paths through the check-in) and :func:`mount_app` (a KioskApp in
the off-screen harness window). The headless demo (kiosk.ui.demo_script) and the UI tests share them.

Nothing personal is logged or raised: screen names, step names, counts and durations only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: How long a flow call may take before the walk gives up (the sandbox answers in milliseconds).
CALL_TIMEOUT_S = 60.0


class WalkError(Exception):
    """The app did not do what the walk expected (message: step names only, never personal data)."""


@dataclass
class Shot:
    name: str
    file: str
    step: str


@dataclass
class WalkLog:
    name: str
    started: float = field(default_factory=time.monotonic)
    taps: int = 0
    steps: list[str] = field(default_factory=list)
    result: str = ""
    seconds: float = 0.0
    error: str = ""


class Walker:
    """Taps, types and waits on a mounted :class:`~kiosk.ui.app.KioskApp` (kiosk.ui.testing harness)."""

    def __init__(self, app: Any, ui: Any, out_dir: Path | None = None) -> None:
        self.app = app
        self.ui = ui
        self.out_dir = out_dir
        self.taps = 0
        self.shots: list[Shot] = []
        self.walks: list[WalkLog] = []
        self.errors: list[str] = []

    # -- where are we --------------------------------------------------------------------------------
    @property
    def step(self) -> str:
        return str(self.app.manager.current)

    @property
    def screen(self) -> Any:
        return self.app.screens[self.step]

    def expect(self, *steps: str) -> Any:
        if self.step not in steps:
            raise WalkError(f"expected screen {'/'.join(steps)}, the kiosk shows {self.step}")
        return self.screen

    # -- acting --------------------------------------------------------------------------------------
    def tap(self, widget: Any) -> None:
        """One patient tap (counted)."""
        if getattr(widget, "disabled", False):
            raise WalkError(f"tapped a disabled control on {self.step}")
        self.taps += 1
        if self.walks:
            self.walks[-1].taps += 1
        self.scroll_into_view(widget)
        self.ui.tap(widget)

    def scroll_into_view(self, widget: Any) -> None:
        """A patient scrolls to what they tap; a tap at the centre of a hidden widget would hit another."""
        from kivy.uix.scrollview import ScrollView

        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                _x0, y0 = parent.to_window(parent.x, parent.y)
                _wx, wy = widget.to_window(widget.x, widget.y)
                if wy < y0 or wy + widget.height > y0 + parent.height:
                    parent.scroll_to(widget, padding=24, animate=False)
                    self.ui.frames(2)
                return
            parent = parent.parent

    def settle(self, timeout: float = CALL_TIMEOUT_S) -> None:
        """Run frames until no flow call is running (the worker thread and the sandbox are real)."""
        deadline = time.monotonic() + timeout
        self.ui.frames(1)
        while self.app.controller.busy:
            if time.monotonic() > deadline:
                raise WalkError(f"a flow call on {self.step} did not finish in {timeout:.0f} s")
            self.ui.frames(1)
        self.ui.frames(2)
        if self.walks and (not self.walks[-1].steps or self.walks[-1].steps[-1] != self.step):
            self.walks[-1].steps.append(self.step)

    def tap_and_settle(self, widget: Any) -> None:
        self.tap(widget)
        self.settle()

    def layout(self) -> Any:
        return self.screen.ids.layout

    def primary(self) -> Any:
        return self.layout().ids.primary

    def back_button(self) -> Any:
        return self.layout().ids.back

    def help_button(self) -> Any:
        return self.layout().ids.help

    def find_button(self, text: str, root: Any = None) -> Any:
        """The enabled button under ``root`` (default: the current screen) whose text is ``text``."""
        from kivy.uix.behaviors import ButtonBehavior

        for widget in (root or self.screen).walk(restrict=True):
            if isinstance(widget, ButtonBehavior) and getattr(widget, "text", None) == text and not widget.disabled:
                return widget
        raise WalkError(f"no button {text!r} on {self.step}")

    def type_keys(self, keyboard: Any, text: str) -> None:
        """Type ``text`` on the on-screen keyboard, one tap per key (Shift only where the keyboard would not
        capitalize by itself; a lower-case word start in a name field comes out capitalized, which the flow's
        matching ignores anyway)."""
        for ch in text:
            if ch == " ":
                self.tap(keyboard.key_button("space"))
                continue
            key = ch.lower()
            if ch.isalpha() and ch.isupper() and not keyboard._capital():
                self.tap(keyboard.key_button("shift"))  # name fields capitalize word starts by themselves
            self.tap(keyboard.key_button(key))

    def type_digits(self, keypad: Any, digits: str) -> None:
        for d in digits:
            self.tap(keypad.key_button(d))

    def enter_date(self, field: Any, day: date) -> None:
        """A DateOfBirthField filled on its own keypad, in the field's order."""
        parts = {"M": f"{day.month:02d}", "D": f"{day.day:02d}", "Y": f"{day.year:04d}"}
        if field.month or field.day or field.year:
            self.tap(field.ids.pad.key_button("clear"))
        self.type_digits(field.ids.pad, "".join(parts[p] for p in field.order))

    def sign(self, pad: Any) -> None:
        """A signature-like stroke across the pad (two strokes: one tap... one drag each)."""
        w, h = pad.width, pad.height
        base = h * 0.3
        first = [(w * 0.12 + i * w * 0.012, base + h * 0.22 * ((i % 8) - 4) / 4.0) for i in range(40)]
        second = [(w * 0.65 + i * w * 0.01, base + h * 0.15 * ((i % 5) - 2) / 2.0) for i in range(20)]
        for stroke in (first, second):
            self.taps += 1
            if self.walks:
                self.walks[-1].taps += 1
            self.ui.drag(pad, stroke)

    # -- screenshots ---------------------------------------------------------------------------------
    def shot(self, name: str) -> Path | None:
        if self.out_dir is None:
            return None
        self.ui.frames(2)
        path = self.out_dir / f"{len(self.shots) + 1:02d}-{name}.png"
        self.ui.screenshot(path)
        self.shots.append(Shot(name=name, file=path.name, step=self.step))
        return path

    # -- walks ---------------------------------------------------------------------------------------
    def begin(self, name: str) -> WalkLog:
        walk = WalkLog(name=name)
        self.walks.append(walk)
        return walk

    def end(self, walk: WalkLog, result: str) -> None:
        walk.result = result
        walk.seconds = round(time.monotonic() - walk.started, 3)

    # -- common paths --------------------------------------------------------------------------------
    def start(self) -> None:
        """Welcome → identify."""
        screen = self.expect("welcome")
        self.tap_and_settle(screen.ids.start)
        self.expect("identify")

    def identify_by_name(self, given: str, family: str, birth_date: date, *, shots: bool = False) -> None:
        """On identify: "Type my name instead", the name on the keyboard, the date of birth on the keypad."""
        screen = self.expect("identify")
        if shots:
            self.shot("identify")
        if screen.stage == "scan":
            self.tap(self.primary())
        self.ui.frames(2)
        if screen.ids.given.text != given:
            if not screen.ids.given.focus:
                self.tap(screen.ids.given.input)
            self._retype(screen.ids.given, screen.keyboard, given)
        if screen.ids.family.text != family:
            self.tap(screen.ids.family.input)
            self._retype(screen.ids.family, screen.keyboard, family)
        if shots:
            self.shot("identify-name")
        self.tap(self.primary())  # Next → date of birth
        self.enter_date(screen.ids.dob, birth_date)
        if shots:
            self.shot("identify-keypad")
        self.tap_and_settle(self.primary())  # Find my appointment

    def _retype(self, field: Any, keyboard: Any, text: str) -> None:
        while field.text:
            self.tap(keyboard.key_button("backspace"))
        self.type_keys(keyboard, text)

    def scan(self, text: str) -> None:
        """A barcode from the (simulated) scanner: no tap; delivered on the scanner's thread."""
        barcode = self.app.runtime.devices.barcode
        if barcode is None:
            raise WalkError("no barcode scanner configured")
        barcode.inject(text)
        if not barcode.wait_idle(10.0):
            raise WalkError("the scanner did not deliver the barcode")
        self.ui.frames(2)
        self.settle()

    def answer_page(self, answers: dict[str, Any] | None = None) -> list[str]:
        """Answer the current forms page. ``answers`` maps link_id → value (a choice/boolean value, digits
        for numbers, text, or a date); other questions get a harmless answer when required or a choice
        (demo). Questions switched on by an answer are answered too. Returns the link_ids answered."""
        answers = dict(answers or {})
        done: list[str] = []
        for _ in range(200):
            screen = self.expect("forms")
            target = self._next_question(list(screen.widgets), answers, set(done))
            if target is None:
                return done
            self._answer(target, answers)
            done.append(target.link_id)
            self.settle()  # a changed choice may ask the flow for newly enabled questions
        raise WalkError("a forms page kept asking")

    def _next_question(self, widgets: list[Any], answers: dict[str, Any], done: set[str]) -> Any:
        from kiosk.ui.widgets.questions import ChoiceQuestion, DisplayQuestion, GroupQuestion

        for widget in widgets:
            if isinstance(widget, GroupQuestion):
                found = self._next_question(widget.children_widgets, answers, done)
                if found is not None:
                    return found
                continue
            if isinstance(widget, DisplayQuestion) or widget.read_only or widget.link_id in done:
                continue
            if widget.link_id in answers:
                return widget
            if not widget.answers() and (widget.required or isinstance(widget, ChoiceQuestion)):
                return widget
        return None

    def _answer(self, widget: Any, answers: dict[str, Any]) -> None:
        from kiosk.ui.widgets.questions import ChoiceQuestion, DateQuestion, NumberQuestion, TextQuestion

        wanted = answers.get(widget.link_id)
        if isinstance(widget, ChoiceQuestion):
            buttons = widget.buttons
            if wanted is not None:
                choice = next((b for b in buttons if b.value == wanted), None)
                if choice is None:
                    raise WalkError(f"question {widget.link_id} has no option {wanted!r}")
            else:
                choice = next((b for b in buttons if b.value is False), None)  # "No" for yes/no
                choice = choice or next((b for b in buttons if str(b.value) in ("none", "nka")), None)
                choice = choice or buttons[0]
            self.tap(choice)
        elif isinstance(widget, NumberQuestion):
            self.type_digits(widget.pad, str(wanted if wanted is not None else "1"))
        elif isinstance(widget, DateQuestion):
            if isinstance(wanted, date):
                self.enter_date(widget.date, wanted)
        elif isinstance(widget, TextQuestion):
            self.tap(widget.field.input)
            self.type_keys(self.screen.keyboard, str(wanted if wanted is not None else "no"))

    def through_to_ticket(
        self, *, shots: bool = False, max_screens: int = 60, answers: dict[str, Any] | None = None
    ) -> None:
        """From confirm_appointment on, take the simplest answer on every screen up to the ticket
        (``answers``: forms answers by link_id, see :meth:`answer_page`)."""
        pages = 0
        for _ in range(max_screens):
            step = self.step
            screen = self.screen
            if step in ("ticket", "done", "desk", "welcome"):
                return
            if step == "confirm_appointment":
                if shots:
                    self.shot("confirm_appointment")
                if screen.single:
                    self.tap_and_settle(self.primary())
                else:
                    box = screen.ids.appointments
                    buttons = [b for b in box.children[::-1] if hasattr(b, "appointment_id")]
                    self.tap_and_settle(buttons[0])
            elif step == "demographics":
                if shots:
                    self.shot("demographics")
                self.tap_and_settle(self.primary())
            elif step == "insurance":
                if shots:
                    self.shot("insurance")
                if screen.has_card:
                    self.tap_and_settle(self.primary())
                else:
                    self.tap_and_settle(self.find_button(_t("I will pay for this visit myself")))
            elif step == "forms":
                pages += 1
                before = (screen.data.get("questionnaire_index"), screen.data.get("page_index"))
                self.answer_page(answers)
                if shots:
                    screen.ids.layout.scroller.scroll_y = 1  # the picture shows the page from its top
                    self.shot(f"forms-{pages}")
                self.tap_and_settle(self.primary())
                after = (self.screen.data.get("questionnaire_index"), self.screen.data.get("page_index"))
                if self.step == "forms" and after == before:
                    # new questions appeared or an answer was refused: answer again once
                    self.answer_page(answers)
                    self.tap_and_settle(self.primary())
                    if self.step == "forms" and self.screen.errors:
                        raise WalkError(f"forms page refused: {sorted(self.screen.errors.values())}")
            elif step == "consents":
                self.sign(screen.ids.pad)
                if shots:
                    self.shot("consents")
                self.tap_and_settle(self.primary())
            elif step == "payment":
                if shots:
                    self.shot("payment")
                self.tap(self.primary())
                self.ui.frames(2)
                if shots and self.app.controller.busy:
                    self.shot("payment-reader")
                self.settle()
                if self.step == "payment" and self.screen.errors:
                    self.tap_and_settle(self.back_button())  # pay at the desk
            elif step in ("identify", "identify_dob"):
                raise WalkError(f"still on {step}: {sorted(screen.errors.values())}")
            else:
                raise WalkError(f"no route through {step}")
        raise WalkError("too many screens")

    def finish(self, *, shots: bool = False) -> str:
        """Ticket → Finish → done/desk → Finish → welcome. Returns "done" or "desk"."""
        if self.step == "ticket":
            if shots:
                self.shot("ticket")
            self.tap_and_settle(self.primary())
        final = self.expect("done", "desk").step
        if shots:
            self.shot(final)
        self.tap(self.primary())
        self.settle()
        self.expect("welcome")
        return final


def _t(msgid: str) -> str:
    from kiosk.ui.i18n_kv import _

    return _(msgid)


def mount_app(runtime: Any) -> tuple[Any, Any]:
    """A KioskApp in the (offscreen) harness window, its session started. Returns (app, ui)."""
    from kiosk.ui.testing import harness

    ui = harness()
    from kiosk.ui.app import KioskApp

    app = KioskApp(runtime)
    ui.mount(app.build())
    app.start_session()
    deadline = time.monotonic() + CALL_TIMEOUT_S
    while app.controller.busy or app.manager.current != "welcome":
        if time.monotonic() > deadline:
            raise WalkError("the kiosk did not show the welcome screen")
        ui.frames(1)
    return app, ui
