"""Demographics: "Are these details still correct?" — phone, email, address, each with "Change".

"Change" edits that group one field at a time (:mod:`kiosk.ui.screens.editing`). "Yes, this is correct"
sends ``confirm`` when nothing was touched, else ``save`` with every value; the flow validates and sends
back errors per key, shown on the rows.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui import messages
from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.editing import ADDRESS, EMAIL, PHONE, FieldSpec
from kiosk.ui.screens.staging import StagedScreenMixin

KEYS = ("phone", "email", "line1", "line2", "city", "state", "postal_code")
GROUPS: dict[str, list[FieldSpec]] = {"phone": [PHONE], "email": [EMAIL], "address": ADDRESS}
GROUP_OF = {spec.key: group for group, specs in GROUPS.items() for spec in specs}


def format_phone(value: str) -> str:
    """Display only: "5551234567" → "(555) 123-4567"; anything else as typed."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return value


def format_address(values: dict[str, str]) -> str:
    line1 = ", ".join(v for v in (values.get("line1", ""), values.get("line2", "")) if v)
    city_line = " ".join(
        v
        for v in (
            values.get("city", "") + ("," if values.get("city") else ""),
            values.get("state", ""),
            values.get("postal_code", ""),
        )
        if v
    )
    return "\n".join(v for v in (line1, city_line) if v)


class DetailRow(BoxLayout):
    """One reviewed detail with a "Change" button (``on_change``)."""

    caption = StringProperty("")
    value = StringProperty("")
    error = StringProperty("")

    __events__ = ("on_change",)

    def on_change(self) -> None:
        pass


class DemographicsScreen(StagedScreenMixin, KioskScreen):
    step = "demographics"
    progress_step = "demographics"
    stage = OptionProperty("review", options=("review", "edit"))
    heading = StringProperty("")
    edited = BooleanProperty(False)
    phone_text = StringProperty("")
    email_text = StringProperty("")
    address_text = StringProperty("")
    phone_error = StringProperty("")
    email_error = StringProperty("")
    address_error = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self.values: dict[str, str] = {}
        self.original: dict[str, str] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget: Any) -> None:
        self.setup_stages({"review": self.ids.review_stage, "edit": self.ids.wizard})

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        name = str(data.get("first_name") or "")
        self.heading = (
            _("{name}, are these details still correct?").format(name=name)
            if name
            else _("Are these details still correct?")
        )
        fresh = {k: str((data.get("values") or {}).get(k) or "") for k in KEYS}
        if not errors or not self.edited:
            # A new visit to this step: start from what the flow has (after errors keep the patient's typing).
            self.original = dict(fresh)
            self.values = dict(fresh)
            self.edited = False
        self._show_rows()
        self.stage = "review"

    def _show_rows(self) -> None:
        v = self.values
        self.phone_text = format_phone(v.get("phone", "")) or _("(none)")
        self.email_text = v.get("email", "") or _("(none)")
        self.address_text = format_address(v) or _("(none)")
        self.phone_error = self.error_text("phone")
        self.email_error = self.error_text("email")
        self.address_error = "\n".join(t for t in (self.error_text(s.key) for s in ADDRESS) if t)

    def change(self, group: str) -> None:
        """ "Change" on a row: edit that group, starting at its first field with an error."""
        specs = GROUPS[group]
        start = next((i for i, s in enumerate(specs) if s.key in self.errors), 0)
        wizard = self.ids.wizard
        wizard.keyboard = self.keyboard
        wizard.on_finish = self._finish_edit
        wizard.on_leave = self._finish_edit
        self.stage = "edit"
        wizard.begin(specs, self.values, self.errors, start)

    def _finish_edit(self) -> None:
        self.edited = self.values != self.original
        self.stage = "review"
        self._show_rows()

    # -- footer --------------------------------------------------------------------------------------
    def primary(self) -> None:
        if self.stage == "edit":
            self.ids.wizard.next()
            return
        if self.edited:
            self.emit({"action": "save", "values": {k: self.values.get(k, "") for k in KEYS}})
        else:
            self.emit({"action": "confirm"})

    def back(self) -> None:
        if self.stage == "edit":
            self.ids.wizard.back()
        else:
            self.go_back()

    def clear(self) -> None:
        self.ids.wizard.clear()
        self.values = {}
        self.original = {}
        self.edited = False
        for name in (
            "heading",
            "phone_text",
            "email_text",
            "address_text",
            "phone_error",
            "email_error",
            "address_error",
        ):
            setattr(self, name, "")
        self.stage = "review"
        super().clear()

    def refresh(self) -> None:
        super().refresh()
        self.ids.wizard.refresh()


__all__ = ["DemographicsScreen", "format_address", "format_phone", "messages"]
