"""Identify: "Scan your ID" (or "Scan your reminder") first; or "Type my name instead" → name → date of birth.

The three stages ("scan", "name", "dob") are this screen's own presentation state; only the final
``name_dob`` intent (or a scan, handled by the app) reaches the flow. Nothing about any patient is shown
here, ever: no lists, no suggestions.

The scan stage shows what the kiosk scans with (the app's :class:`~kiosk.ui.scanning.ScanSetup`): the live
camera picture with a guide frame when a barcode source decodes the kiosk's camera (the camera runs only while
this stage is on screen), else a picture of where to hold the card (a dedicated scanner). ``scan_target``
("id" / "reminder") only changes the words and the picture: any code is accepted either way, the flow decides.
A kiosk with nothing to scan with starts at the name stage.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from kivy.graphics import Color, Rectangle
from kivy.properties import BooleanProperty, OptionProperty
from kivy.uix.widget import Widget

from kiosk.ui.scanning import ScanSetup
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import theme

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
    scan_target = OptionProperty("id", options=("id", "reminder"))
    qr_enabled = BooleanProperty(False)
    has_camera = BooleanProperty(False)
    """The scan stage shows the camera's picture (a barcode source decodes it)."""
    has_scanner = BooleanProperty(True)
    """A dedicated scanner is connected (the words say "under the scanner")."""

    def on_kv_post(self, _base_widget: Any) -> None:
        from kiosk.ui.widgets.keyboard import OnScreenKeyboard

        self.keyboard = OnScreenKeyboard()
        self.scan_setup: ScanSetup = getattr(self.kiosk, "scan_setup", None) or ScanSetup()
        self.has_camera = self.scan_setup.camera is not None
        self.has_scanner = self.scan_setup.scanner
        self.ids.preview.roi = list(self.scan_setup.roi)
        self._active = False  # this screen is the current one (the camera may run)
        # Only the current stage is in the widget tree (hidden stages would take space and touches).
        # ids hold weak proxies: keep the widgets themselves (identity checks, and they live off-tree).
        self._stages = {n: _strong(self.ids[f"{n}_stage"]) for n in ("scan", "name", "dob")}
        self._visuals = {n: _strong(self.ids[n]) for n in ("preview", "id_picture", "reminder_picture")}
        self._banner = _strong(self.ids.banner)
        self._target_button = _strong(self.ids.target)  # "Scan your reminder": only when reminders are on
        self.fbind("qr_enabled", self._show_target_button)
        self._show_target_button()
        for widget in [self._banner, *self._stages.values(), *self._visuals.values()]:
            if widget.parent is not None:
                widget.parent.remove_widget(widget)
        if not self.scan_setup.any:
            self.stage = "name"
        self.fbind("stage", self._stage_changed)
        self.fbind("scan_target", self._stage_changed)
        self.ids.given.fbind("focus", self._update_dock)
        self.ids.family.fbind("focus", self._update_dock)
        self._stage_changed()

    def on_base_error(self, *_args: Any) -> None:
        if hasattr(self, "_stages"):
            self._stage_changed()

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        self.qr_enabled = bool(data.get("qr_enabled"))
        if not self.qr_enabled:
            self.scan_target = "id"
        self.ids.given.error = self.error_text("given")
        self.ids.family.error = self.error_text("family")
        self.ids.dob.error = self.error_text("birth_date")
        if not errors:
            return
        stage = STAGE_FOR_BASE.get(errors.get("base", ""), "")
        if stage == "scan" and not self.scan_setup.any:
            stage = "name"
        for field in ("given", "family", "birth_date"):
            if field in errors:
                stage = STAGE_FOR_FIELD[field]
                break
        if stage:
            self.stage = stage
        self._stage_changed()

    def on_enter_step(self) -> None:
        self._active = True
        self._stage_changed()

    def on_leave_step(self) -> None:
        self._active = False
        self._update_camera()

    # -- stages --------------------------------------------------------------------------------------
    def _stage_changed(self, *_args: Any) -> None:
        holder = self.ids.stages
        wanted = self._stages[self.stage]
        banner = self._banner
        children = [banner, wanted] if banner.text else [wanted]
        if [_strong(c) for c in reversed(holder.children)] != children:
            holder.clear_widgets()
            for child in children:
                holder.add_widget(child)
        self._show_visual()
        if self.stage == "name":
            if not self.errors:
                # Straight to typing; after an error the message stays readable until a field is tapped.
                field = self.ids.family if self.ids.given.text and not self.ids.family.text else self.ids.given
                field.focus = True
        else:
            self.ids.given.focus = False
            self.ids.family.focus = False
        self._update_dock()
        self._update_camera()

    def _show_target_button(self, *_args: Any) -> None:
        button, column = self._target_button, self.ids.scan_text
        if self.qr_enabled and button.parent is None:
            column.add_widget(button, index=1)  # above "No ID with you? ..."
        elif not self.qr_enabled and button.parent is not None:
            column.remove_widget(button)

    def _show_visual(self) -> None:
        """The camera's picture, or where to hold the ID / the reminder."""
        if self.has_camera:
            wanted = self._visuals["preview"]
        else:
            wanted = self._visuals["reminder_picture" if self.scan_target == "reminder" else "id_picture"]
        holder = self.ids.visual
        if [_strong(c) for c in holder.children] != [wanted]:
            holder.clear_widgets()
            holder.add_widget(wanted)

    def _update_camera(self) -> None:
        preview = self._visuals["preview"]
        if self._active and self.has_camera and self.stage == "scan":
            preview.start(self.scan_setup.camera)
        else:
            preview.stop()

    def _update_dock(self, *_args: Any) -> None:
        """The keyboard shows while a name field is being typed into."""
        typing = self.stage == "name" and (self.ids.given.focus or self.ids.family.focus)
        self.ids.layout.dock(self.keyboard if typing else None)

    def type_name(self) -> None:
        """ "Type my name instead"."""
        self.stage = "name"

    def toggle_target(self) -> None:
        """ "Scan your reminder" / "Scan your ID": the words and the picture change."""
        self.scan_target = "reminder" if self.scan_target == "id" else "id"
        if self.errors.get("base") in STAGE_FOR_BASE:  # the last scan's message belongs to the last attempt
            self.errors = {k: v for k, v in self.errors.items() if k != "base"}
            self.base_error = ""

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
        elif self.stage == "name" and self.scan_setup.any:
            self.stage = "scan"
        elif self.stage == "scan" and self.scan_target == "reminder":
            self.scan_target = "id"
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
        self._active = False
        self.scan_target = "id"
        self.stage = "scan" if self.scan_setup.any else "name"
        self._stage_changed()
        super().clear()


def _strong(widget: Any) -> Any:
    """The widget behind a kv id's weak proxy."""
    return getattr(widget, "__self__", None) or widget


#: A made-up QR-like pattern for the reminder picture (21 × 21 modules, three finder squares).
_QR_SIZE = 21


def _qr_modules() -> list[tuple[int, int]]:
    rng = random.Random(21)
    cells = []
    finders = [(0, 0), (_QR_SIZE - 7, 0), (0, _QR_SIZE - 7)]
    for row in range(_QR_SIZE):
        for col in range(_QR_SIZE):
            finder = next(((fx, fy) for fx, fy in finders if fx <= col < fx + 7 and fy <= row < fy + 7), None)
            if finder is not None:
                x, y = col - finder[0], row - finder[1]
                if x in (0, 6) or y in (0, 6) or (2 <= x <= 4 and 2 <= y <= 4):
                    cells.append((col, row))
            elif rng.random() < 0.5 and not any(
                fx - 1 <= col <= fx + 7 and fy - 1 <= row <= fy + 7 for fx, fy in finders
            ):
                cells.append((col, row))
    return cells


class QrPattern(Widget):
    """The QR-like pattern drawn in ReminderPicture (identify.kv)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cells = _qr_modules()
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)

    def _draw(self, *_args: Any) -> None:
        self.canvas.clear()
        module = min(self.width, self.height) / _QR_SIZE
        with self.canvas:
            Color(*theme.text)
            for col, row in self._cells:
                Rectangle(pos=(self.x + col * module, self.top - (row + 1) * module), size=(module, module))
