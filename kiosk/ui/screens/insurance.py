"""Insurance: "Is your insurance the same as last time?" first; else take a picture of the card, type it,
pay yourself, or "I don't have my card with me" — never a dead end (DESIGN §3).

Stages (this screen's own presentation state; only intents reach the flow):

- ``choose``: the card on file (if any) and the ways forward. With a camera and a card reader
  (``runtime.devices.camera`` / ``.insurance``), "Take a picture of my card" is the primary action when
  nothing is on file, and "Take a picture of my new card" an option when something is.
- ``capture`` (:mod:`kiosk.ui.screens.insurance_capture`): the live picture, guidance, auto-capture of the
  front and then the back; "Take picture" is the primary button.
- ``confirm`` (:mod:`kiosk.ui.screens.insurance_confirm`): the fields read, each correctable; sends
  ``camera`` with the card's pictures. Refused fields come back here, on their rows.
- ``manual``: one field at a time on the keyboard (:mod:`kiosk.ui.screens.editing`): the whole card
  (sends ``manual``), or one field of the read card (``correcting``: back to ``confirm``).

"I will pay for this visit myself" and "I do not have my card with me" are on every stage but ``manual``.
The camera runs only while ``capture`` is on screen (stopped on leaving the step and on the session wipe).
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, OptionProperty, StringProperty

from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen, load_screen_kv
from kiosk.ui.screens.editing import INSURANCE
from kiosk.ui.screens.insurance_capture import CaptureStage
from kiosk.ui.screens.insurance_confirm import SPECS, CardDraft, ConfirmStage
from kiosk.ui.screens.staging import StagedScreenMixin
from kiosk.ui.theme import theme
from kiosk.ui.widgets import option_row  # noqa: F401  (registers OptionRow, OptionButton)

log = logging.getLogger(__name__)

MANUAL_KEYS = tuple(spec.key for spec in INSURANCE)
OPTION_IDS = ("take_new", "changed", "type_in", "self_pay", "no_card")

__all__ = ["CaptureStage", "ConfirmStage", "InsuranceScreen"]


class InsuranceScreen(StagedScreenMixin, KioskScreen):
    step = "insurance"
    progress_step = "insurance"
    stage = OptionProperty("choose", options=("choose", "manual", "capture", "confirm"))
    has_card = BooleanProperty(False)
    has_camera = BooleanProperty(False)
    """A camera and a card reader are configured: the card can be photographed."""
    correcting = BooleanProperty(False)
    payer_name = StringProperty("")
    member_id_masked = StringProperty("")
    group_number = StringProperty("")
    card_details = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self.values: dict[str, str] = {}
        self.draft: CardDraft | None = None
        self._sent = ""  # the last action sent: where the flow's errors belong
        self._refreshing = False
        for name in ("insurance_capture", "insurance_confirm"):
            load_screen_kv(name)  # the stages' rules, before this screen's kv builds them
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget: Any) -> None:
        ids = self.ids
        self.setup_stages(
            {"choose": ids.choose_stage, "manual": ids.wizard, "capture": ids.capture, "confirm": ids.confirm}
        )
        wizard = ids.wizard
        wizard.keyboard = self.keyboard
        wizard.on_finish = self._wizard_finished
        wizard.on_leave = self._wizard_left
        # ids hold weak proxies: keep the buttons themselves (off the tree while not shown).
        self._options = {n: getattr(ids[n], "__self__", ids[n]) for n in OPTION_IDS}
        self.fbind("stage", self._stage_left)
        self.fbind("stage", self._fit_body)
        self.fbind("base_error", self._show_base_error)
        self._arrange_options()

    # -- rendering -----------------------------------------------------------------------------------
    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        devices = getattr(getattr(self.kiosk, "runtime", None), "devices", None)
        self.has_camera = bool(
            devices is not None and getattr(devices, "camera", None) is not None
            and getattr(devices, "insurance", None) is not None
        )
        card = data.get("on_file")
        self.has_card = bool(card)
        self._arrange_options()
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
        if self._refreshing:
            return  # a language switch: same stage, texts again
        if errors and self._sent == "camera" and self.draft is not None:
            self._show_confirm()  # a refused field goes back to its row
            return
        manual_errors = [k for k in MANUAL_KEYS if k in errors]
        if manual_errors:
            self.type_card(start_key=manual_errors[0])
            return
        self.stage = "choose"
        if not errors:  # the step shown afresh: nothing of an earlier attempt
            self.values = {}
            self.draft = None
            self._sent = ""

    def _arrange_options(self) -> None:
        if self.has_card:
            names = ["take_new"] if self.has_camera else []
            names += ["changed", "self_pay", "no_card"]
        else:
            names = (["type_in"] if self.has_camera else []) + ["self_pay", "no_card"]
        self.ids.alternatives.show([self._options[n] for n in names])

    def _show_base_error(self, *_args: Any) -> None:
        self.ids.confirm.message = self.base_error

    # -- choices -------------------------------------------------------------------------------------
    def same(self) -> None:
        self._send({"action": "same"})

    def self_pay(self) -> None:
        self._send({"action": "self_pay"})

    def no_card(self) -> None:
        self._send({"action": "no_card"})

    def _send(self, intent: dict[str, Any]) -> None:
        if self.emit(intent):
            self._sent = str(intent["action"])

    def type_card(self, start_key: str = "") -> None:
        """The whole card on the keyboard (sends ``manual``)."""
        start = MANUAL_KEYS.index(start_key) if start_key in MANUAL_KEYS else 0
        self.correcting = False
        self.stage = "manual"
        self.ids.wizard.begin(INSURANCE, self.values, dict(self.errors), start)

    # -- camera --------------------------------------------------------------------------------------
    def start_capture(self) -> None:
        """ "Take a picture of my card": the camera and the capture of the front."""
        devices = self.kiosk.runtime.devices if self.kiosk is not None else None
        camera = getattr(devices, "camera", None)
        reader = getattr(devices, "insurance", None)
        if camera is None or reader is None:
            self.type_card()
            return
        self.draft = None
        self.stage = "capture"
        self.ids.capture.begin(camera, reader, clock=self.kiosk.now)

    def card_read(self, sides: list[Any]) -> None:
        """Both sides taken (or the front, and "nothing on the back"): stop the camera, check the fields."""
        self.ids.capture.end()
        self.draft = CardDraft.from_sides(sides)
        self.errors = {}
        self.base_error = ""
        self._show_confirm()

    def _show_confirm(self) -> None:
        if self.draft is None:
            return
        self.correcting = False
        self.stage = "confirm"
        self.ids.confirm.show(self.draft, self.errors)

    def correct(self, name: str) -> None:
        """ "Change" on a row of the confirm stage: that field on the keyboard."""
        if self.draft is None or name not in SPECS:
            return
        self.correcting = True
        self.stage = "manual"
        self.ids.wizard.begin([SPECS[name]], self.draft.values, dict(self.errors))

    def confirm_card(self) -> None:
        if self.draft is not None:
            self._send(self.draft.intent())

    def _wizard_finished(self) -> None:
        if self.correcting:
            self._corrected()
        else:
            self._send({"action": "manual", **{k: self.values.get(k, "") for k in MANUAL_KEYS}})

    def _wizard_left(self) -> None:
        if self.correcting:
            self._corrected()
        else:
            self.stage = "choose"

    def _corrected(self) -> None:
        wizard, draft = self.ids.wizard, self.draft
        spec = wizard.spec
        if draft is not None and spec is not None:
            draft.changed(spec.key)
            self.errors = {k: v for k, v in self.errors.items() if k != spec.key}
        self._show_confirm()

    def _fit_body(self, *_args: Any) -> None:
        """The camera's picture and the read card fill the screen: less padding (after the mixin's), from the
        top."""
        layout = self.ids.layout
        if self.stage in ("capture", "confirm"):
            layout.ids.body.padding = [theme.padding * 2, theme.spacing / 2.0]
        layout.scroller.scroll_y = 1

    def _stage_left(self, *_args: Any) -> None:
        if self.stage != "capture":
            self.ids.capture.end()

    # -- footer --------------------------------------------------------------------------------------
    def primary(self) -> None:
        if self.stage == "manual":
            self.ids.wizard.next()
        elif self.stage == "capture":
            self.ids.capture.take_picture()
        elif self.stage == "confirm":
            self.confirm_card()
        elif self.has_card:
            self.same()
        elif self.has_camera:
            self.start_capture()
        else:
            self.type_card()

    def back(self) -> None:
        if self.stage == "manual":
            self.ids.wizard.back()
        elif self.stage == "capture":
            capture = self.ids.capture
            if capture.side == "back" and capture.running:
                self.start_capture()  # the front again
            else:
                self.stage = "choose"
        elif self.stage == "confirm":
            self.start_capture()  # "Take new pictures"
        else:
            self.go_back()

    # -- lifecycle -----------------------------------------------------------------------------------
    def on_leave_step(self) -> None:
        self.ids.capture.end()

    def clear(self) -> None:
        self.ids.capture.end()
        self.ids.confirm.clear()
        self.ids.wizard.clear()
        self.values = {}
        self.draft = None
        self._sent = ""
        self.correcting = False
        self.has_card = False
        self.payer_name = self.member_id_masked = self.group_number = self.card_details = ""
        self.stage = "choose"
        self._arrange_options()
        super().clear()

    def refresh(self) -> None:
        self._refreshing = True
        try:
            super().refresh()
        finally:
            self._refreshing = False
        self.ids.wizard.refresh()
        self.ids.capture.refresh()
        self.ids.confirm.refresh()
