"""The kiosk's Kivy app: the UI's composition root (DESIGN §2). It takes a ready :class:`Runtime`.

- One :class:`~kivy.uix.screenmanager.Screen` per flow step (``kiosk/ui/screens/<step>.py`` + ``.kv``).
- Intents go to the flow through :class:`~kiosk.ui.controller.Controller` (off the UI thread); results come
  back on Kivy's main thread and pick the screen.
- Device events (barcode scans) are marshalled onto the main thread before anything touches a widget.
  A keyboard-wedge scanner's keys go through :class:`~kiosk.ui.scanning.WedgeKeyGate` (never into a field);
  the identify screen runs the camera (``Devices.scan_camera``) while it shows the preview.
- Inactivity: :class:`kiosk.flow.idle.IdleTimer`, fed by every touch/key and ticked each second; a warning
  with "I need more time", then the session is wiped (flow reset + every screen cleared) → welcome.
- After Done/ToDesk the done/desk screen stays ``settings.ui.done_screen_s`` seconds, then the same wipe.

Screens are built the first time they are shown (:meth:`KioskApp.screen_for`), welcome at start: a kiosk
waiting for its first patient holds only what it shows (bench/startup.py idle RSS 260 → 226 MB). A built
screen is kept for the next patients and emptied by ``clear()`` at every wipe (the idle-wipe e2e test searches
every live widget for the patient's text). Discarding them at the wipe was measured and rejected: a rebuild
costs 8–56 ms of CPU per screen (identify 56, demographics 40, insurance 36, forms 29, others ≤ 21), but the
garbage it leaves caused ~3 full garbage collections per session (150–500 ms pauses during taps; ~0.4 when
kept), and the freed memory stayed in the process (RSS after the wipe = the peak).

Headless use (tests, ``kiosk demo --headless``)::

    app = KioskApp(runtime)
    ui.mount(app.build())        # kiosk.ui.testing harness
    app.start_session()          # devices on, idle clock on, flow.start()
    ...
    app.shutdown()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.flow.idle import ACTIVE, EXPIRED, WARNING, IdleTimer
from kiosk.flow.results import Done, Result, Show, ToDesk
from kiosk.ui.controller import Controller
from kiosk.ui.i18n_kv import reset_language, set_language, tr
from kiosk.ui.scanning import WedgeKeyGate, scan_setup
from kiosk.ui.screens import SCREEN_CLASSES, load_all_kv
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import load_kv, theme
from kiosk.ui.widgets.text_field import key_router

log = logging.getLogger(__name__)

#: The numbered steps the progress bar counts (identify_dob shares identify's place).
PROGRESS_STEPS = (
    "identify",
    "confirm_appointment",
    "demographics",
    "insurance",
    "forms",
    "consents",
    "payment",
    "ticket",
)
#: Screens on which nobody's session is open: the idle timer does not run there.
NO_SESSION_SCREENS = ("welcome", "done", "desk")
#: Screens on which a scanned barcode starts/identifies the check-in.
SCAN_SCREENS = ("welcome", "identify")
#: Screens built at start (the others are built the first time they are shown).
START_SCREENS = ("welcome",)


class KioskRoot(FloatLayout):
    """The window's content: the screens, with the busy overlay and idle warning above them."""

    manager = ObjectProperty(None)


class KioskApp(App):
    """``KioskApp(runtime).run()`` for a real window; see the module docstring for headless use."""

    busy = BooleanProperty(False)
    current_step = StringProperty("welcome")

    def __init__(self, runtime: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self.settings = runtime.settings
        self.title = self.settings.practice.name
        self.controller = Controller(
            runtime.flow,
            runtime.worker,
            on_result=self.show_result,
            on_busy=self._on_busy,
            on_failure=self._on_failure,
        )
        ui = self.settings.ui
        self.idle = IdleTimer(ui.idle_timeout_s, ui.idle_warning_s, now=self.now())
        self.root_widget: KioskRoot | None = None
        self.manager: ScreenManager | None = None
        self.screens: dict[str, KioskScreen] = {}  # built so far (see screen_for)
        self.build_durations: list[tuple[str, float]] = []  # (step, seconds) of every screen built
        self._progress: list[str] = []
        self.busy_overlay: Any = None
        self.idle_warning: Any = None
        self._idle_event: ClockEvent | None = None
        self._end_event: ClockEvent | None = None
        self._busy_event: ClockEvent | None = None
        self._scanning = False
        self.scan_setup = scan_setup(runtime.devices)  # camera preview, dedicated scanner, keyboard wedge
        self.wedge_gate: WedgeKeyGate | None = None
        self.sessions_ended = 0
        self.last_result: Result | None = None
        self.history: list[str] = []  # steps shown, in order (demo summary, tests)

    # -- building ------------------------------------------------------------------------------------
    @staticmethod
    def now() -> float:
        """Kivy's clock time (tests advance it; RECIPES §2)."""
        return float(Clock.time())

    def build(self) -> KioskRoot:
        if self.root_widget is not None:
            return self.root_widget
        load_kv()
        load_all_kv()
        from kiosk.ui.widgets.overlays import BusyOverlay, IdleWarning

        root = KioskRoot()
        manager = ScreenManager(transition=NoTransition())
        self._progress = self._progress_steps()
        root.add_widget(manager)
        root.manager = manager
        self.manager = manager
        for step in START_SCREENS:
            self.screen_for(step)
        self.busy_overlay = BusyOverlay(help_enabled=True)  # the header's "I need help" is covered meanwhile
        self.busy_overlay.bind(on_help=lambda *_a: self.ask_help())
        self.idle_warning = IdleWarning()
        self.idle_warning.bind(on_more_time=lambda *_a: self.more_time())
        self.idle_warning.bind(on_timeout=lambda *_a: self._idle_tick())
        self.root_widget = root
        from kivy.core.window import Window

        key_router.attach(Window)  # first: activity (bound after it) is seen before a field takes a key
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        return root

    def screen_for(self, step: str) -> KioskScreen | None:
        """The screen of ``step``, built (and added to the manager) the first time it is asked for."""
        screen = self.screens.get(step)
        if screen is not None or self.manager is None:
            return screen
        cls = SCREEN_CLASSES.get(step)
        if cls is None:
            return None
        started = time.perf_counter()
        screen = cls(kiosk=self, clinic_name=self.settings.practice.name)
        if cls.progress_step in self._progress:
            screen.progress_count = len(self._progress)
            screen.progress_index = self._progress.index(cls.progress_step)
        screen.busy = self.busy
        self.manager.add_widget(screen)
        self.screens[step] = screen
        seconds = time.perf_counter() - started
        self.build_durations.append((step, seconds))
        log.debug("screen %s built in %.0f ms", step, seconds * 1000)
        return screen

    def _progress_steps(self) -> list[str]:
        steps = self.settings.steps
        tablet = self.settings.kiosk.mode == "tablet"
        enabled = {
            "demographics": steps.demographics,
            "insurance": steps.insurance,
            "forms": steps.forms,
            "consents": steps.consents,
            "payment": steps.payment and not tablet,
            "ticket": steps.ticket and not tablet,
        }
        return [s for s in PROGRESS_STEPS if enabled.get(s, True)]

    # -- lifecycle -----------------------------------------------------------------------------------
    def on_start(self) -> None:
        self.start_session()

    def on_stop(self) -> None:
        self.shutdown()

    def start_session(self) -> None:
        """Devices on, idle ticking, the flow's welcome (call once the root is in the window)."""
        self.runtime.start()
        barcode = self.runtime.devices.barcode
        if barcode is not None and not self._scanning:
            barcode.start(self._on_barcode_thread)
            self._scanning = True
            if self.scan_setup.wedge is not None and self.wedge_gate is None:
                self.wedge_gate = WedgeKeyGate(self.scan_setup.wedge)
                self.wedge_gate.install()  # a scanner's keys never reach a field from now on
        if self._idle_event is None:
            self._idle_event = Clock.schedule_interval(self._idle_tick, 1.0)
        self.idle.reset(self.now())
        self.controller.start()

    def shutdown(self) -> None:
        """Stop ticking and listening; nothing of the last patient stays in the widgets."""
        self._hide_idle_warning()
        self._hide_overlay()
        for screen in self.screens.values():
            screen.clear()
        for event in (self._idle_event, self._end_event, self._busy_event):
            if event is not None:
                event.cancel()
        self._idle_event = self._end_event = self._busy_event = None
        from kivy.core.window import Window

        Window.unbind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        if self.wedge_gate is not None:
            self.wedge_gate.uninstall()
            self.wedge_gate = None
        barcode = self.runtime.devices.barcode
        if barcode is not None and self._scanning:
            try:
                barcode.stop()
            except Exception as exc:
                log.warning("barcode stop failed: %s", type(exc).__name__)
            self._scanning = False

    # -- results -------------------------------------------------------------------------------------
    def show_result(self, result: Result) -> None:
        """Render a flow result (main thread)."""
        self.last_result = result
        if isinstance(result, Show):
            step = str(result.step)
            if step == "welcome":
                lang = result.data.get("language")
                if lang and lang != tr.lang:
                    set_language(str(lang))
            self._switch(step, result.data, result.errors)
        elif isinstance(result, Done):
            self._switch("done", result.summary, {})
            self._schedule_end()
        elif isinstance(result, ToDesk):
            data = dict(result.summary)
            data["reason"] = result.reason
            self._switch("desk", data, {})
            self._schedule_end()
        else:  # pragma: no cover - the flow returns nothing else
            log.error("unknown result type %s", type(result).__name__)

    def _switch(self, step: str, data: Mapping[str, Any], errors: Mapping[str, str]) -> None:
        screen = self.screen_for(step)
        if screen is None or self.manager is None:
            log.error("no screen for step %s", step)
            return
        screen.render(data, errors)
        if self.manager.current != step:
            previous = self.screens.get(self.manager.current)
            if previous is not None:
                previous.on_leave_step()
            self.manager.current = step
            self.history.append(step)
            screen.on_enter_step()
        self.current_step = step
        log.info("screen %s%s", step, f" errors={sorted(errors.values())}" if errors else "")
        if step in NO_SESSION_SCREENS:
            self._hide_idle_warning()

    def _on_failure(self, kind: str) -> None:
        screen = self.current_screen
        if screen is not None:
            screen.errors = {**screen.errors, "base": "port_error"}
            screen.base_error = screen.error_text("base")

    @property
    def current_screen(self) -> KioskScreen | None:
        if self.manager is None:
            return None
        return self.screens.get(self.manager.current)

    # -- busy ----------------------------------------------------------------------------------------
    def _on_busy(self, busy: bool, overlay: bool) -> None:
        self.busy = busy
        for screen in self.screens.values():
            screen.busy = busy
        if self._busy_event is not None:
            self._busy_event.cancel()
            self._busy_event = None
        if busy and overlay:
            # Shown after a short moment: a fast answer should not flash a grey veil over the screen.
            self._busy_event = Clock.schedule_once(lambda _dt: self._show_overlay(), 0.3)
        elif not busy:
            self._hide_overlay()

    def _show_overlay(self) -> None:
        self._busy_event = None
        if self.busy and self.busy_overlay is not None:
            self.busy_overlay.show()

    def _hide_overlay(self) -> None:
        if self.busy_overlay is not None:
            self.busy_overlay.hide()

    # -- help, language ------------------------------------------------------------------------------
    def ask_help(self) -> None:
        """The "I need help" button: the flow hands over to the desk (keeps what was entered).

        While the card terminal waits for a card, the charge is cancelled first: the flow runs one call at a
        time, so the hand-over would otherwise wait for the terminal's own timeout."""
        self.idle.activity(self.now())
        screen = self.current_screen
        if screen is not None and getattr(screen, "waiting", False):
            screen.cancel_payment()
        self.controller.to_desk("patient_request")

    def choose_language(self, lang: str) -> None:
        """The welcome screen's language button: the UI switches at once, the flow records it."""
        set_language(lang)
        self.controller.submit({"action": "language", "language": lang})

    # -- barcode -------------------------------------------------------------------------------------
    def _on_barcode_thread(self, barcode: Any) -> None:
        """Scanner thread: never touch widgets here; never log the text (personal data)."""
        text = str(getattr(barcode, "text", ""))
        fmt = str(getattr(barcode, "format", ""))
        Clock.schedule_once(lambda _dt: self.on_barcode(text, fmt), 0)

    def on_barcode(self, text: str, fmt: str = "") -> None:
        self.idle.activity(self.now())
        step = self.manager.current if self.manager is not None else ""
        if step not in SCAN_SCREENS:
            log.info("barcode (%s) ignored on step %s", fmt or "?", step)
            return
        if self.controller.busy:
            log.info("barcode (%s) ignored: busy", fmt or "?")
            return
        log.info("barcode (%s) scanned on %s", fmt or "?", step)
        self.controller.submit({"action": "barcode", "text": text})

    # -- idle ----------------------------------------------------------------------------------------
    def _on_activity(self, *_args: Any) -> None:
        self.idle.activity(self.now())

    def _idle_tick(self, _dt: float = 0.0) -> None:
        now = self.now()
        step = self.manager.current if self.manager is not None else "welcome"
        if step in NO_SESSION_SCREENS or self.controller.busy:
            # Nobody's session to protect (or the flow/terminal is working): the clock starts afresh.
            self.idle.activity(now)
            self._hide_idle_warning()
            return
        state = self.idle.state(now)
        if state == ACTIVE:
            self._hide_idle_warning()
        elif state == WARNING:
            self._show_idle_warning(self.idle.remaining(now))
        elif state == EXPIRED:
            log.info("session expired after inactivity on %s", step)
            self.end_session("idle")

    def _show_idle_warning(self, remaining: float) -> None:
        warning = self.idle_warning
        seconds = max(1, round(remaining))  # 0 is the app's to decide (EXPIRED), not the widget's
        if warning.showing:
            warning.remaining = seconds
        else:
            warning.show(seconds)

    def _hide_idle_warning(self) -> None:
        if self.idle_warning is not None:
            self.idle_warning.hide()

    def more_time(self) -> None:
        """ "I need more time" on the idle warning."""
        allowance = self.idle.more_time(self.now())
        log.info("more time asked: allowance %.0f s", allowance)
        self._hide_idle_warning()

    # -- ending a session ----------------------------------------------------------------------------
    def _schedule_end(self) -> None:
        if self._end_event is not None:
            self._end_event.cancel()
        self._end_event = Clock.schedule_once(
            lambda _dt: self.end_session("done_timeout"), self.settings.ui.done_screen_s
        )

    def end_session(self, why: str = "finished") -> None:
        """Wipe everything of this patient: every screen, the look, the language, the flow session."""
        if self._end_event is not None:
            self._end_event.cancel()
            self._end_event = None
        self._hide_idle_warning()
        self._hide_overlay()
        from kiosk.ui.widgets.text_field import focus_tracker

        focus_tracker.clear()
        if self.wedge_gate is not None:
            self.wedge_gate.reset()  # nothing held back from this patient reaches the next one
        for screen in self.screens.values():
            screen.clear()
        theme.reset()
        reset_language()
        self.idle.reset(self.now())
        self.sessions_ended += 1
        log.info("session ended (%s)", why)
        if self.manager is not None:
            self.manager.current = "welcome"
            self.current_step = "welcome"
        self.controller.reset()


def run_app(runtime: Any) -> None:
    """The windowed kiosk (``kiosk run`` / ``kiosk demo``): window size/fullscreen from settings."""
    from kivy.config import Config

    ui = runtime.settings.ui
    Config.set("graphics", "width", str(ui.window_width))
    Config.set("graphics", "height", str(ui.window_height))
    Config.set("graphics", "fullscreen", "auto" if ui.fullscreen else "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    KioskApp(runtime).run()
