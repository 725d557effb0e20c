"""Ticket: the queue number, very large; if the printer failed, even more so, with a kind explanation."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen


class TicketScreen(KioskScreen):
    step = "ticket"
    progress_step = "ticket"
    queue_number = StringProperty("")
    printed = BooleanProperty(True)
    heading = StringProperty("")
    where = StringProperty("")
    ticket_hint = StringProperty("")

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.queue_number = str(data.get("queue_number") or "")
        self.printed = bool(data.get("printed")) and "printer_failed" not in errors.values()
        name = str(data.get("display_name") or "")
        if self.printed:
            self.heading = _("You are checked in, {name}").format(name=name) if name else _("You are checked in")
            self.ticket_hint = _("Please take your ticket from the printer.")
        else:
            self.heading = _("Please remember your number")
            self.ticket_hint = ""
        area = str(data.get("wait_area") or "")
        self.where = (
            _("Please have a seat in {area}. We will call your number.").format(area=area)
            if area
            else _("Please have a seat. We will call your number.")
        )

    def finish(self) -> None:
        self.emit({"action": "done"})

    def clear(self) -> None:
        self.queue_number = ""
        self.printed = True
        self.heading = ""
        self.where = ""
        self.ticket_hint = ""
        super().clear()
