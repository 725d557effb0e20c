"""Welcome: "Start check-in", the language choice, and "scan your ID or reminder to start"."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from kiosk.ui.i18n_kv import language_endonym
from kiosk.ui.screens.base import KioskScreen


class WelcomeScreen(KioskScreen):
    step = "welcome"
    languages = ListProperty(["en", "es"])
    language = StringProperty("en")
    has_scanner = BooleanProperty(True)
    """A dedicated scanner listens here (the camera only runs on the identify screen: no "scan to start")."""

    def on_kv_post(self, _base_widget: Any) -> None:
        setup = getattr(self.kiosk, "scan_setup", None)
        if setup is not None:
            self.has_scanner = bool(setup.scanner)

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.languages = list(data.get("languages") or self.languages)
        self.language = str(data.get("language") or self.language)
        self._build_language_buttons()

    def _build_language_buttons(self) -> None:
        from kiosk.ui.widgets.basic import SecondaryButton

        box = self.ids.languages
        box.clear_widgets()
        for code in self.languages:
            if code == self.language:
                continue
            button = SecondaryButton(text=language_endonym(code), size_hint_x=None, width=360)
            button.lang_code = code
            button.bind(on_release=lambda b: self.choose_language(b.lang_code))
            box.add_widget(button)

    def start(self) -> None:
        self.emit({"action": "start"})

    def choose_language(self, code: str) -> None:
        if self.kiosk is not None:
            self.kiosk.choose_language(code)

    def clear(self) -> None:
        super().clear()
