"""Desk: "Please see the front desk — we have your details", why (kindly), and the ticket number if any."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.ui import messages
from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen


class DeskScreen(KioskScreen):
    step = "desk"
    reason_text = StringProperty("")
    queue_number = StringProperty("")
    ticket_hint = StringProperty("")

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.reason_text = messages.desk_text(str(data.get("reason") or ""))
        self.queue_number = str(data.get("queue_number") or "")
        printed = bool(data.get("printed")) and bool(self.queue_number)
        self.ticket_hint = _("Please take your ticket from the printer.") if printed else ""

    def finish(self) -> None:
        if self.kiosk is not None:
            self.kiosk.end_session("finished")

    def clear(self) -> None:
        self.reason_text = ""
        self.queue_number = ""
        self.ticket_hint = ""
        super().clear()
