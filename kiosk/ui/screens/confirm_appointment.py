"""Confirm appointment: "Hello, Maria" + today's appointment(s); one tap confirms, "This is not me" wipes."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.utils import escape_markup

from kiosk.ui import messages
from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen, format_clock
from kiosk.ui.theme import theme


def appointment_lines(appt: dict[str, Any]) -> tuple[str, str]:
    """(big line, detail line) for one appointment: "9:30 AM", "Dr. Lee · Main office · Follow-up"."""
    when = format_clock(str(appt.get("start", ""))) or str(appt.get("time_text", ""))
    parts = [str(appt.get(k) or "") for k in ("provider", "location", "visit_type")]
    return when, " · ".join(p for p in parts if p)


class ConfirmAppointmentScreen(KioskScreen):
    step = "confirm_appointment"
    progress_step = "confirm_appointment"
    greeting = StringProperty("")
    single = BooleanProperty(False)
    selected_id = StringProperty("")

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        from kiosk.ui.widgets.basic import BodyLabel, Card, HintLabel, SecondaryButton, SubtitleLabel

        name = str(data.get("first_name") or "")
        self.greeting = _("Hello, {name}").format(name=name) if name else _("Hello")
        appointments = [dict(a) for a in data.get("appointments") or []]
        selectable = [a for a in appointments if a.get("selectable")]
        self.single = len(selectable) == 1
        self.selected_id = str(selectable[0]["id"]) if self.single else ""
        box = self.ids.appointments
        box.clear_widgets()
        for appt in appointments:
            when, detail = appointment_lines(appt)
            if self.single or not appt.get("selectable"):
                card = Card(size_hint_y=None)
                card.bind(minimum_height=card.setter("height"))
                card.add_widget(SubtitleLabel(text=when))
                if detail:
                    card.add_widget(BodyLabel(text=detail))
                reason = messages.appointment_reason_text(str(appt.get("reason") or ""))
                if reason:
                    card.add_widget(HintLabel(text=reason))
                card.disabled = not appt.get("selectable")
                box.add_widget(card)
            else:
                big = int(theme.font_title)
                label = f"[size={big}]{escape_markup(when)}[/size]"
                if detail:
                    label += "\n" + escape_markup(detail)
                button = SecondaryButton(text=label, markup=True, halign="left")
                button.appointment_id = str(appt.get("id"))
                button.bind(on_release=lambda b: self.confirm(b.appointment_id))
                box.add_widget(button)

    def confirm(self, appointment_id: str | None = None) -> None:
        self.emit({"action": "confirm", "appointment_id": appointment_id or self.selected_id})

    def not_me(self) -> None:
        self.emit({"action": "not_me"})

    def clear(self) -> None:
        self.ids.appointments.clear_widgets()
        self.greeting = ""
        self.single = False
        self.selected_id = ""
        super().clear()
