"""Identify: "Scan your ID" first; or "Type my name instead" → name (on-screen keyboard) → date of birth.

The three stages ("scan", "name", "dob") are this screen's own presentation state; only the final
``name_dob`` intent (or a scan, handled by the app) reaches the flow. Nothing about any patient is shown
here, ever: no lists, no suggestions.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, OptionProperty

from kiosk.ui.screens.base import KioskScreen

log = logging.getLogger(__name__)

#: Which stage shows a flow error for each field ("base" errors are placed by key below).
STAGE_FOR_FIELD = {"given": "name", "family": "name", "birth_date": "dob"}
STAGE_FOR_BASE = {
    "not_found": "name",  # the spelling is the usual culprit; the DOB stays filled in
    "barcode_not_recognized": "scan",
    "id_unreadable": "scan",
    "token_invalid": "scan",
    "token_expired": "scan",
}


class IdentifyScreen(KioskScreen):
    step = "identify"
    progress_step = "identify"
    stage = OptionProperty("scan", options=("scan", "name", "dob"))
    qr_enabled = BooleanProperty(False)

    def on_kv_post(self, _base_widget: Any) -> None:
        from kiosk.ui.widgets.keyboard import OnScreenKeyboard

        self.keyboard = OnScreenKeyboard()
        # Only the current stage is in the widget tree (hidden stages would take space and touches).
        # ids hold weak proxies: keep the widgets themselves (identity checks, and they live off-tree).
        self._stages = {
            n: getattr(self.ids[f"{n}_stage"], "__self__", None) or self.ids[f"{n}_stage"]
            for n in ("scan", "name", "dob")
        }
        self._banner = getattr(self.ids.banner, "__self__", self.ids.banner)
        for widget in [self._banner, *self._stages.values()]:
            if widget.parent is not None:
                widget.parent.remove_widget(widget)
        self.fbind("stage", self._stage_changed)
        self.ids.given.fbind("focus", self._update_dock)
        self.ids.family.fbind("focus", self._update_dock)
        self._stage_changed()

    def on_base_error(self, *_args: Any) -> None:
        if hasattr(self, "_stages"):
            self._stage_changed()

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.qr_enabled = bool(data.get("qr_enabled"))
        self.ids.given.error = self.error_text("given")
        self.ids.family.error = self.error_text("family")
        self.ids.dob.error = self.error_text("birth_date")
        if not errors:
            return
        stage = STAGE_FOR_BASE.get(errors.get("base", ""), "")
        for field in ("given", "family", "birth_date"):
            if field in errors:
                stage = STAGE_FOR_FIELD[field]
                break
        if stage:
            self.stage = stage
        self._stage_changed()

    def on_enter_step(self) -> None:
        self._stage_changed()

    # -- stages --------------------------------------------------------------------------------------
    def _stage_changed(self, *_args: Any) -> None:
        holder = self.ids.stages
        wanted = self._stages[self.stage]
        banner = self._banner
        children = [banner, wanted] if banner.text else [wanted]
        if [getattr(c, "__self__", c) for c in reversed(holder.children)] != children:
            holder.clear_widgets()
            for child in children:
                holder.add_widget(child)
        if self.stage == "name":
            if not self.errors:
                # Straight to typing; after an error the message stays readable until a field is tapped.
                field = self.ids.family if self.ids.given.text and not self.ids.family.text else self.ids.given
                field.focus = True
        else:
            self.ids.given.focus = False
            self.ids.family.focus = False
        self._update_dock()

    def _update_dock(self, *_args: Any) -> None:
        """The keyboard shows while a name field is being typed into."""
        typing = self.stage == "name" and (self.ids.given.focus or self.ids.family.focus)
        self.ids.layout.dock(self.keyboard if typing else None)

    def type_name(self) -> None:
        """ "Type my name instead"."""
        self.stage = "name"

    def primary(self) -> None:
        if self.stage == "scan":
            self.stage = "name"
        elif self.stage == "name":
            self.stage = "dob"
        else:
            self.submit()

    def back(self) -> None:
        if self.stage == "dob":
            self.stage = "name"
        elif self.stage == "name":
            self.stage = "scan"
        else:
            self.go_back()

    def submit(self) -> None:
        dob = self.ids.dob
        self.emit(
            {
                "action": "name_dob",
                "given": self.ids.given.text,
                "family": self.ids.family.text,
                "birth_date": dob.iso_date or dob.raw_iso,
            }
        )

    def clear(self) -> None:
        self.ids.given.text = ""
        self.ids.family.text = ""
        self.ids.given.error = ""
        self.ids.family.error = ""
        self.ids.dob.clear()
        self.ids.dob.error = ""
        self.stage = "scan"
        self._stage_changed()
        super().clear()
