"""What every check-in screen shares: render a ``Show``, emit intents, clear itself, ask for help.

A screen never decides anything: it shows ``data``/``errors`` from the flow (kiosk/flow/STEPS.md) and
turns taps into intent dicts, which the app's :class:`~kiosk.ui.controller.Controller` sends to the flow.
Formatting (money, times, dates) happens here, in the patient's language; rules and validation never do.

Each screen's kv file sits next to its module and is loaded by :func:`load_screen_kv`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui import messages
from kiosk.ui.i18n_kv import tr

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

log = logging.getLogger(__name__)

SCREENS_DIR = Path(__file__).parent

#: Babel locales for formatting in each UI language (a US clinic).
LOCALES = {"en": "en_US", "es": "es_US"}


@lru_cache(maxsize=32)
def _known_locale(name: str) -> str:
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        log.warning("no locale data for %r: formatting as en_US", name)
        return "en_US"
    return name


def locale_for(lang: str | None = None) -> str:
    """The Babel locale for formatting in ``lang`` (default: the UI language); en_US if Babel has none."""
    lang = lang or tr.lang
    return _known_locale(LOCALES.get(lang, lang))


def format_money(cents: int, currency: str = "USD", lang: str | None = None) -> str:
    """``2500`` → ``$25.00`` (exact: minor units through Decimal, never a float)."""
    return format_currency(Decimal(int(cents)).scaleb(-2), currency, locale=locale_for(lang))


def format_clock(iso: str, lang: str | None = None) -> str:
    """An ISO 8601 time with offset → "9:30 AM" / "9:30 a.m." in the appointment's own time zone."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    return format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale_for(lang))


def format_day(iso: str, lang: str | None = None) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    return format_date(moment.date(), "long", locale=locale_for(lang))


def load_screen_kv(name: str) -> None:
    path = str(SCREENS_DIR / f"{name}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


class KioskScreen(Screen):
    """Base of the twelve step screens. Subclasses set ``step`` and override :meth:`on_render`/:meth:`clear`."""

    step = ""
    #: where this screen sits in the numbered progress (None: not numbered, e.g. welcome/done)
    progress_step: str | None = None

    kiosk = ObjectProperty(None, allownone=True)
    """The :class:`~kiosk.ui.app.KioskApp` (set by the app; None in isolated tests)."""
    data = DictProperty({})
    errors = DictProperty({})
    clinic_name = StringProperty("")
    progress_count = NumericProperty(0)
    progress_index = NumericProperty(0)
    busy = BooleanProperty(False)
    base_error = StringProperty("")
    """The translated ``errors["base"]`` (shown in the screen's ErrorBanner)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", self.step)
        super().__init__(**kwargs)
        tr.bind(lang=self._on_language)  # weak: an old screen must not be kept alive by the translator

    # -- rendering -----------------------------------------------------------------------------------
    def render(self, data: Mapping[str, Any], errors: Mapping[str, str]) -> None:
        """Show the flow's ``data``/``errors`` (called on the main thread by the app)."""
        self.data = dict(data)
        self.errors = dict(errors)
        self.base_error = self.error_text("base")
        self.on_render(self.data, self.errors)

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        """Fill the widgets from ``data``; show ``errors``. Subclasses override."""

    def refresh(self) -> None:
        """Re-render with the same data (after a language switch: Python-set texts are re-translated)."""
        self.base_error = self.error_text("base")
        self.on_render(dict(self.data), dict(self.errors))

    def _on_language(self, *_args: Any) -> None:
        if self.manager is not None and self.manager.current == self.name and self.data:
            try:
                self.refresh()
            except Exception as exc:
                log.error("re-rendering %s after a language switch failed: %s", self.step, type(exc).__name__)

    def error_text(self, field: str) -> str:
        key = self.errors.get(field)
        return messages.error_text(key, field) if key else ""

    def clear(self) -> None:
        """Forget everything shown or typed (session reset). Subclasses empty their inputs, then call this."""
        self.data = {}
        self.errors = {}
        self.base_error = ""
        self.busy = False

    def on_enter_step(self) -> None:
        """Called after the screen became the current one (focus a field, reset sub-stages, ...)."""

    def on_leave_step(self) -> None:
        """Called before another screen becomes the current one (stop a camera, ...)."""

    # -- intents -------------------------------------------------------------------------------------
    def emit(self, intent: Mapping[str, Any], *, overlay: bool = True) -> bool:
        """Send an intent for this step. False when ignored (another call is still running)."""
        app = self.kiosk
        if app is None:
            log.warning("intent on %s without an app", self.step)
            return False
        return bool(app.controller.submit(intent, overlay=overlay))

    def ask_help(self) -> None:
        """ "I need help" (every screen's header)."""
        if self.kiosk is not None:
            self.kiosk.ask_help()

    def go_back(self) -> None:
        if self.kiosk is not None:
            self.kiosk.controller.back()

    @property
    def app_settings(self) -> Any:
        return self.kiosk.runtime.settings if self.kiosk is not None else None


def set_kiosk(screen: KioskScreen, app: KioskApp) -> None:
    screen.kiosk = app
