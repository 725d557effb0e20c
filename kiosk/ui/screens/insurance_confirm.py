"""The insurance step's confirm stage: what the camera read from the card, one row per field, each with
"Change" (the screen edits it on the keyboard, one field at a time); the member ID masked ("•••• 1234")
until the patient taps it. "Yes, this is correct" (the screen's primary button) sends the flow's ``camera``
action with the card's pictures; "I will pay for this visit myself" and "I do not have my card with me" stay
here too.

What a reading becomes (:class:`CardDraft`): a field read with less than ``MIN_CONFIDENCE`` is left empty
(a wrong guess is harder to spot than an empty row); below ``CHECK_BELOW`` the row asks "Please check
this". A field the patient changed counts as sure. Plan and Rx fields are sent as read, and shown only when
the flow refuses one of them (then the patient can correct it). Values never reach a log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from devices.insurance.base import CardSide, merge_sides
from kiosk.flow.intake import mask_member_id
from kiosk.flow.types import CardImage
from kiosk.i18n import N_
from kiosk.ui import messages
from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.editing import FieldSpec

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.4
CHECK_BELOW = 0.8

#: Rows always shown, in order; then rows shown only when the flow refuses their value.
SHOWN = ("payer_name", "member_id", "group_number", "subscriber_name")
EXTRA = ("plan_name", "rx_bin", "rx_pcn", "rx_group")
FIELDS = SHOWN + EXTRA

#: How each field is corrected (one field at a time on the keyboard; labels are msgids).
SPECS: dict[str, FieldSpec] = {
    "payer_name": FieldSpec("payer_name", N_("Name of your insurance company"), autocapitalize="words",
                            max_length=100, hint=N_("It is printed on the front of your card.")),
    "member_id": FieldSpec("member_id", N_("Member ID"), digits=True, max_length=40,
                           hint=N_("It is printed on the front of your card.")),
    "group_number": FieldSpec("group_number", N_("Group number"), digits=True, max_length=40,
                              hint=N_("If your card has one. You can leave this empty."), optional=True),
    "subscriber_name": FieldSpec("subscriber_name", N_("Name on the card"), autocapitalize="words",
                                 max_length=100, hint=N_("You can leave this empty."), optional=True),
    "plan_name": FieldSpec("plan_name", N_("Plan name"), autocapitalize="words", max_length=100,
                           hint=N_("You can leave this empty."), optional=True),
    "rx_bin": FieldSpec("rx_bin", N_("RxBIN (6 digits)"), layout="number", max_length=6,
                        hint=N_("You can leave this empty."), optional=True),
    "rx_pcn": FieldSpec("rx_pcn", N_("RxPCN"), digits=True, max_length=40,
                        hint=N_("You can leave this empty."), optional=True),
    "rx_group": FieldSpec("rx_group", N_("RxGroup"), digits=True, max_length=40,
                          hint=N_("You can leave this empty."), optional=True),
}
CAPTIONS: dict[str, str] = {
    "payer_name": N_("Insurance company"),
    "member_id": N_("Member ID"),
    "group_number": N_("Group number"),
    "subscriber_name": N_("Name on the card"),
    "plan_name": N_("Plan name"),
    "rx_bin": N_("RxBIN"),
    "rx_pcn": N_("RxPCN"),
    "rx_group": N_("RxGroup"),
}
NOT_READ = N_("(not read)")
CHECK = N_("Please check this.")
TYPE_IT = N_("Please tap “Change” to type it.")
SHOW_ALL = N_("Tap to show the whole number.")
HIDE = N_("Tap to hide it.")


@dataclass
class CardDraft:
    """The card as read, then as corrected by the patient (personal data: not in ``repr``)."""

    values: dict[str, str] = field(default_factory=dict, repr=False)
    confidence: dict[str, float] = field(default_factory=dict, repr=False)
    images: tuple[CardImage, ...] = field(default=(), repr=False)

    @classmethod
    def from_sides(cls, sides: Sequence[CardSide]) -> CardDraft:
        reading = merge_sides(sides)
        values: dict[str, str] = {}
        confidence: dict[str, float] = {}
        for name in FIELDS:
            item = reading.fields.get(name)
            if item is not None and item.value.strip() and item.confidence >= MIN_CONFIDENCE:
                values[name] = item.value.strip()
                confidence[name] = float(item.confidence)
            else:
                values[name] = ""
        return cls(values=values, confidence=confidence, images=tuple(reading.images))

    def changed(self, name: str) -> None:
        """The patient typed this one: it is theirs now (no "Please check")."""
        self.confidence[name] = 1.0

    def needs_check(self, name: str) -> bool:
        return bool(self.values.get(name)) and self.confidence.get(name, 1.0) < CHECK_BELOW

    def intent(self) -> dict[str, Any]:
        """The flow's ``camera`` input (kiosk/flow/STEPS.md, insurance)."""
        return {
            "action": "camera",
            **{name: self.values.get(name, "") for name in FIELDS},
            "images": [{"side": i.side, "content_type": i.content_type, "data": i.data} for i in self.images],
        }


class CardFieldRow(BoxLayout):
    """One field read from the card: caption, value (masked until tapped, for the member ID), a note,
    an error, and "Change" (``on_change``); ``on_reveal`` when the value is tapped."""

    caption = StringProperty("")
    value = StringProperty("")
    note = StringProperty("")
    error = StringProperty("")
    check = BooleanProperty(False)
    empty = BooleanProperty(False)
    revealable = BooleanProperty(False)

    __events__ = ("on_change", "on_reveal")

    def on_change(self) -> None:
        pass

    def on_reveal(self) -> None:
        pass


class ConfirmStage(BoxLayout):
    """Shows a :class:`CardDraft`; ``on_change(name)`` asks the screen to edit one field."""

    message = StringProperty("")
    """The screen's translated base error (a refused or failed submission)."""

    __events__ = ("on_change", "on_self_pay", "on_no_card")

    def __init__(self, **kwargs: Any) -> None:
        self.draft: CardDraft | None = None
        self.errors: dict[str, str] = {}
        self.revealed = False
        self._rows: dict[str, CardFieldRow] = {}
        super().__init__(**kwargs)

    def show(self, draft: CardDraft, errors: Mapping[str, str] | None = None) -> None:
        self.draft = draft
        self.errors = {k: v for k, v in (errors or {}).items() if k in FIELDS}
        self.refresh()

    def _row(self, name: str) -> CardFieldRow:
        row = self._rows.get(name)
        if row is None:
            row = CardFieldRow()
            row.bind(on_change=lambda _row, n=name: self.dispatch("on_change", n))
            if name == "member_id":
                row.revealable = True
                row.bind(on_reveal=lambda _row: self.toggle_reveal())
            self._rows[name] = row
        return row

    def toggle_reveal(self) -> None:
        self.revealed = not self.revealed
        self.refresh()

    def refresh(self) -> None:
        """Fill the rows (also re-translates after a language switch)."""
        box = self.ids.rows
        draft = self.draft
        if draft is None:
            box.clear_widgets()
            return
        wanted = [n for n in FIELDS if n in SHOWN or n in self.errors]
        rows = [self._row(n) for n in wanted]
        if list(reversed(box.children)) != rows:
            box.clear_widgets()
            for row in rows:
                box.add_widget(row)
        for name, row in zip(wanted, rows, strict=True):
            value = draft.values.get(name, "")
            row.caption = _(CAPTIONS[name])
            row.empty = not value
            row.check = draft.needs_check(name)
            if not value:
                row.value = _(NOT_READ)
                row.note = _(TYPE_IT) if name in ("member_id", "payer_name") else ""
            elif name == "member_id":
                row.value = value if self.revealed else mask_member_id(value)
                row.note = _(CHECK) if row.check else _(HIDE if self.revealed else SHOW_ALL)
            else:
                row.value = value
                row.note = _(CHECK) if row.check else ""
            key = self.errors.get(name, "")
            row.error = messages.error_text(key, name) if key else ""

    def on_change(self, name: str) -> None:
        pass

    def on_self_pay(self) -> None:
        pass

    def on_no_card(self) -> None:
        pass

    def clear(self) -> None:
        self.draft = None
        self.errors = {}
        self.revealed = False
        for row in self._rows.values():
            row.value = row.note = row.error = ""
        self.refresh()
