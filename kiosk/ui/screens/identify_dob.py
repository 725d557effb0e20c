"""identify_dob (after a reminder QR code): the date of birth on a keypad, as the second identifier."""

from __future__ import annotations

from typing import Any

from kiosk.ui.screens.base import KioskScreen


class IdentifyDobScreen(KioskScreen):
    step = "identify_dob"
    progress_step = "identify"

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.ids.dob.error = self.error_text("birth_date")

    def submit(self) -> None:
        dob = self.ids.dob
        # raw_iso: what was typed, even if not a real date: the flow answers "invalid_date" kindly.
        self.emit({"action": "dob", "birth_date": dob.iso_date or dob.raw_iso})

    def clear(self) -> None:
        self.ids.dob.clear()
        self.ids.dob.error = ""
        super().clear()
