"""Insurance: "Is your insurance the same as last time?" first; else type the card, pay yourself, or
"I don't have my card with me" — never a dead end (DESIGN §3).

Typing the card goes one field at a time (:mod:`kiosk.ui.screens.editing`) and sends ``manual``.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, OptionProperty, StringProperty

from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.editing import INSURANCE
from kiosk.ui.screens.staging import StagedScreenMixin

MANUAL_KEYS = tuple(spec.key for spec in INSURANCE)


class InsuranceScreen(StagedScreenMixin, KioskScreen):
    step = "insurance"
    progress_step = "insurance"
    stage = OptionProperty("choose", options=("choose", "manual"))
    has_card = BooleanProperty(False)
    payer_name = StringProperty("")
    member_id_masked = StringProperty("")
    group_number = StringProperty("")
    card_details = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self.values: dict[str, str] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget: Any) -> None:
        self.setup_stages({"choose": self.ids.choose_stage, "manual": self.ids.wizard})
        wizard = self.ids.wizard
        wizard.keyboard = self.keyboard
        wizard.on_finish = self._submit_manual
        wizard.on_leave = lambda: setattr(self, "stage", "choose")
        row = self.ids.alternatives
        self._changed_button = getattr(self.ids.changed, "__self__", self.ids.changed)
        for button in row.children:
            button.bind(texture_size=self._row_height, height=self._row_height)

    def _row_height(self, *_args: Any) -> None:
        """The alternatives side by side, all as tall as the one with the most lines of text."""
        row = self.ids.alternatives
        tallest = max(child.texture_size[1] for child in row.children)
        for child in row.children:
            if child.min_height != tallest:
                child.min_height = tallest
        row.height = max(child.height for child in row.children)

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        card = data.get("on_file")
        self.has_card = bool(card)
        row, changed = self.ids.alternatives, self._changed_button
        if self.has_card and changed.parent is None:
            row.add_widget(changed, index=len(row.children))  # first from the left
        elif not self.has_card and changed.parent is not None:
            row.remove_widget(changed)
        self._row_height()
        card = dict(card or {})
        self.payer_name = str(card.get("payer_name") or "")
        self.member_id_masked = str(card.get("member_id_masked") or "")
        self.group_number = str(card.get("group_number") or "")
        details = []
        if self.member_id_masked:
            details.append(_("Member ID {value}").format(value=self.member_id_masked))
        if self.group_number:
            details.append(_("Group {value}").format(value=self.group_number))
        self.card_details = "   ·   ".join(details)
        manual_errors = [k for k in MANUAL_KEYS if k in errors]
        if manual_errors:
            self.type_card(start_key=manual_errors[0])
        else:
            self.stage = "choose"
            if not errors:
                self.values = {}

    # -- choices -------------------------------------------------------------------------------------
    def same(self) -> None:
        self.emit({"action": "same"})

    def self_pay(self) -> None:
        self.emit({"action": "self_pay"})

    def no_card(self) -> None:
        self.emit({"action": "no_card"})

    def type_card(self, start_key: str = "") -> None:
        start = MANUAL_KEYS.index(start_key) if start_key in MANUAL_KEYS else 0
        self.stage = "manual"
        self.ids.wizard.begin(INSURANCE, self.values, dict(self.errors), start)

    def _submit_manual(self) -> None:
        self.emit({"action": "manual", **{k: self.values.get(k, "") for k in MANUAL_KEYS}})

    # -- footer --------------------------------------------------------------------------------------
    def primary(self) -> None:
        if self.stage == "manual":
            self.ids.wizard.next()
        elif self.has_card:
            self.same()
        else:
            self.type_card()

    def back(self) -> None:
        if self.stage == "manual":
            self.ids.wizard.back()
        else:
            self.go_back()

    def clear(self) -> None:
        self.ids.wizard.clear()
        if self._changed_button.parent is not None:
            self._changed_button.parent.remove_widget(self._changed_button)
        self.values = {}
        self.has_card = False
        self.payer_name = self.member_id_masked = self.group_number = self.card_details = ""
        self.stage = "choose"
        super().clear()

    def refresh(self) -> None:
        super().refresh()
        self.ids.wizard.refresh()
