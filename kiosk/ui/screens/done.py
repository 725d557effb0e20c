"""Done: "You're all set" with the queue number; clears itself after ``settings.ui.done_screen_s``."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen


class DoneScreen(KioskScreen):
    step = "done"
    queue_number = StringProperty("")
    heading = StringProperty("")
    where = StringProperty("")

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.queue_number = str(data.get("queue_number") or "")
        name = str(data.get("display_name") or "")
        # The name ends the sentence: "Ana G." carries its own full stop.
        self.heading = _("You are all set, {name}").format(name=name) if name else _("You are all set")
        area = str(data.get("wait_area") or "")
        self.where = (
            _("Please have a seat in {area}. We will call your number.").format(area=area)
            if area
            else _("Please have a seat. We will call your number.")
        )

    def finish(self) -> None:
        if self.kiosk is not None:
            self.kiosk.end_session("finished")

    def clear(self) -> None:
        self.queue_number = ""
        self.heading = ""
        self.where = ""
        super().clear()
