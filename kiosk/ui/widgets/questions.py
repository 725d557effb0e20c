"""Question widgets for the generic Questionnaire renderer (kiosk/flow/STEPS.md, "forms" Item dicts).

``build_item_widget(item)`` returns a :class:`QuestionWidget` for one Item (recursively for groups):

- ``answers() -> list``: this item's values in the STEPS.md input shapes (string/text → str; integer → int;
  decimal → str; date → "YYYY-MM-DD"; boolean → bool; choice → option key; open-choice → option key or
  ``{"other": str}``). Empty list = not answered. Typed-but-invalid dates/numbers are passed through so the
  flow can answer "invalid_date" instead of the value silently disappearing.
- ``collect() -> {link_id: [values]}`` for the item and every item inside it (what ``{"action": "next",
  "answers": ...}`` takes); display items contribute nothing, groups contribute their children.
- ``set_error(text)`` shows a message on this item; ``set_errors({link_id: text})`` routes them inside.
- ``on_answers_changed`` fires on every change (groups re-fire their children's): the screen may then ask the
  flow which items are enabled (enableWhen is the flow's business, not the widget's).

Text and "Other" fields are KioskTextFields: the screen docks one OnScreenKeyboard for them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.i18n import N_
from kiosk.ui.i18n_kv import tr
from kiosk.ui.widgets.basic import BodyLabel, Card, ChoiceButton
from kiosk.ui.widgets.date_field import DateOfBirthField
from kiosk.ui.widgets.keypad import NumericKeypad
from kiosk.ui.widgets.text_field import KioskTextField

log = logging.getLogger(__name__)

MAX_NUMBER_LENGTH = 12
YES, NO, OTHER = N_("Yes"), N_("No"), N_("Other")


class QuestionWidget(BoxLayout):
    """Base: the question's text, "(required)", an error banner, then the answer area (``ids.area``)."""

    item = DictProperty({})
    link_id = StringProperty("")
    text = StringProperty("")
    required = BooleanProperty(False)
    read_only = BooleanProperty(False)
    error = StringProperty("")
    show_title = BooleanProperty(True)

    __events__ = ("on_answers_changed",)

    @property
    def required_label(self) -> str:
        return tr._("(required)") if self.required else ""

    def __init__(self, item: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        item = dict(item or {})
        kwargs.setdefault("link_id", str(item.get("link_id", "")))
        kwargs.setdefault("text", str(item.get("text", "")))
        kwargs.setdefault("required", bool(item.get("required", False)))
        kwargs.setdefault("read_only", bool(item.get("read_only", False)))
        super().__init__(item=item, **kwargs)
        self.build_area(self.ids.area)
        self.prefill(list(item.get("answers") or []))

    # -- for subclasses ------------------------------------------------------------------------------
    def build_area(self, area: BoxLayout) -> None:
        pass

    def prefill(self, values: list[Any]) -> None:
        pass

    def answers(self) -> list[Any]:
        return []

    # -- common --------------------------------------------------------------------------------------
    def collect(self) -> dict[str, list[Any]]:
        return {self.link_id: self.answers()} if self.link_id else {}

    def set_error(self, text: str) -> None:
        self.error = text or ""

    def set_errors(self, errors: Mapping[str, str]) -> None:
        self.set_error(errors.get(self.link_id, ""))

    def changed(self, *_args: Any) -> None:
        if self.error:
            self.error = ""  # the patient is fixing it: the message has done its job
        self.dispatch("on_answers_changed")

    def on_answers_changed(self) -> None:
        pass


class DisplayQuestion(QuestionWidget):
    """Text only (instructions between questions)."""

    def build_area(self, area: BoxLayout) -> None:
        self.show_title = False
        area.add_widget(BodyLabel(text=self.text))

    def collect(self) -> dict[str, list[Any]]:
        return {}


class TextQuestion(QuestionWidget):
    """string (one line) and text (several lines)."""

    def build_area(self, area: BoxLayout) -> None:
        self.field = KioskTextField(
            multiline=self.item.get("type") == "text",
            max_length=int(self.item.get("max_length") or 0),
            read_only=self.read_only,
        )
        self.field.bind(text=self.changed)
        area.add_widget(self.field)

    def prefill(self, values: list[Any]) -> None:
        if values:
            self.field.text = str(values[0])

    def answers(self) -> list[Any]:
        text = self.field.text.strip()
        return [text] if text else []


class NumberQuestion(QuestionWidget):
    """integer and decimal: a big entry box filled from a keypad ("." key for decimals)."""

    value = StringProperty("")
    kind = OptionProperty("integer", options=("integer", "decimal"))

    def build_area(self, area: BoxLayout) -> None:
        self.kind = "decimal" if self.item.get("type") == "decimal" else "integer"
        row = BoxLayout(spacing=40, size_hint_y=None)
        self.display = NumberDisplay()
        self.bind(value=self.display.setter("text"))
        self.pad = NumericKeypad(extra_key="." if self.kind == "decimal" else "", disabled=self.read_only)
        self.pad.bind(on_key=lambda _pad, key: self.press(key))
        row.add_widget(self.display)
        row.add_widget(self.pad)
        row.height = self.pad.height
        self.pad.bind(height=row.setter("height"))
        area.add_widget(row)

    def press(self, key: str) -> None:
        value = self.value
        if key == "backspace":
            value = value[:-1]
        elif key == "clear":
            value = ""
        elif key == "." and ("." in value or self.kind != "decimal"):
            return
        elif key == "." or key.isdigit():
            if len(value) >= MAX_NUMBER_LENGTH:
                return
            value = ("0" if key == "." and not value else "") + value + key
        self.value = value
        self.changed()

    def prefill(self, values: list[Any]) -> None:
        if values and values[0] is not None:
            self.value = str(values[0])

    def answers(self) -> list[Any]:
        if not self.value:
            return []
        if self.kind == "integer" and self.value.isdigit():
            return [int(self.value)]
        return [self.value]


class NumberDisplay(BodyLabel):
    pass


class DateQuestion(QuestionWidget):
    date_order = OptionProperty("MDY", options=("MDY", "DMY", "YMD"))

    def build_area(self, area: BoxLayout) -> None:
        self.date = DateOfBirthField(order=self.date_order, show_keypad=not self.read_only)
        self.date.bind(on_date_changed=self.changed)
        area.add_widget(self.date)

    def prefill(self, values: list[Any]) -> None:
        if values:
            self.date.set_iso(str(values[0]))

    def answers(self) -> list[Any]:
        if self.date.iso_date:
            return [self.date.iso_date]
        return [self.date.raw_iso] if self.date.raw_iso else []


class ChoiceQuestion(QuestionWidget):
    """choice, open-choice and boolean: big toggle buttons (square boxes when several may be chosen)."""

    options = ListProperty([])
    multi = BooleanProperty(False)
    open_choice = BooleanProperty(False)

    def build_area(self, area: BoxLayout) -> None:
        kind = self.item.get("type")
        self.multi = bool(self.item.get("repeats")) and kind != "boolean"
        self.open_choice = kind == "open-choice"
        if kind == "boolean":
            self.options = [{"value": True, "display": None}, {"value": False, "display": None}]
        else:
            self.options = [
                {"value": o.get("key"), "display": o.get("display", "")} for o in self.item.get("options", [])
            ]
        count = len(self.options) + (1 if self.open_choice else 0)
        cols = 2 if kind == "boolean" or count > 5 else 1
        grid = GridLayout(cols=cols, spacing=16, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        group = None if self.multi else f"q-{self.uid}"
        self.buttons: list[ChoiceButton] = []
        for option in self.options:
            button = ChoiceButton(multi=self.multi, group=group, value=option["value"], disabled=self.read_only)
            if option["display"] is None:
                button.msgid = YES if option["value"] else NO
            else:
                button.text = option["display"]
            button.bind(state=self._toggled)
            self.buttons.append(button)
            grid.add_widget(button)
        self.other_button: ChoiceButton | None = None
        area.add_widget(grid)
        if self.open_choice:
            self.other_button = ChoiceButton(multi=self.multi, group=group, disabled=self.read_only, msgid=OTHER)
            self.other_button.bind(state=self._toggled)
            grid.add_widget(self.other_button)
            self.other_field = KioskTextField(read_only=self.read_only, opacity=0, disabled=True)
            self.other_field.bind(text=self.changed)
            area.add_widget(self.other_field)

    def _toggled(self, button: ChoiceButton, state: str) -> None:
        if self.open_choice and button is self.other_button:
            on = state == "down"
            self.other_field.opacity = 1 if on else 0
            self.other_field.disabled = not on
            if on:
                self.other_field.focus = True
        self.changed()

    def prefill(self, values: list[Any]) -> None:
        for value in values:
            if isinstance(value, Mapping) and "other" in value and self.other_button is not None:
                self.other_button.state = "down"
                self.other_field.text = str(value["other"])
                continue
            for button in self.buttons:
                if button.value == value:
                    button.state = "down"

    def answers(self) -> list[Any]:
        values: list[Any] = [b.value for b in self.buttons if b.state == "down"]
        if self.other_button is not None and self.other_button.state == "down":
            other = self.other_field.text.strip()
            if other:
                values.append({"other": other})
        return values

    def choose(self, value: Any) -> None:
        """Select the option whose value is ``value`` (as a tap would); tests and demos."""
        for button in self.buttons:
            if button.value == value:
                button.state = "down"


class GroupQuestion(QuestionWidget):
    """A titled framed box with the group's items inside."""

    date_order = OptionProperty("MDY", options=("MDY", "DMY", "YMD"))

    def build_area(self, area: BoxLayout) -> None:
        self.card = Card(size_hint_y=None)
        self.card.bind(minimum_height=self.card.setter("height"))
        self.children_widgets: list[QuestionWidget] = []
        for child in self.item.get("items", []):
            widget = build_item_widget(child, date_order=self.date_order)
            widget.bind(on_answers_changed=lambda *_: self.dispatch("on_answers_changed"))
            self.children_widgets.append(widget)
            self.card.add_widget(widget)
        area.add_widget(self.card)

    def collect(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for widget in self.children_widgets:
            out.update(widget.collect())
        return out

    def set_errors(self, errors: Mapping[str, str]) -> None:
        self.set_error(errors.get(self.link_id, ""))
        for widget in self.children_widgets:
            widget.set_errors(errors)


WIDGETS: dict[str, type[QuestionWidget]] = {
    "string": TextQuestion,
    "text": TextQuestion,
    "integer": NumberQuestion,
    "decimal": NumberQuestion,
    "date": DateQuestion,
    "boolean": ChoiceQuestion,
    "choice": ChoiceQuestion,
    "open-choice": ChoiceQuestion,
    "display": DisplayQuestion,
    "group": GroupQuestion,
}


def build_item_widget(item: Mapping[str, Any], date_order: str = "MDY") -> QuestionWidget:
    """The widget for one STEPS.md "forms" Item (groups recursively). ``date_order``: "MDY" | "DMY"."""
    cls = WIDGETS.get(str(item.get("type")))
    if cls is None:
        log.warning("no widget for item type %s (link_id %s): shown as text", item.get("type"), item.get("link_id"))
        cls = DisplayQuestion
    kwargs: dict[str, Any] = {}
    if cls in (DateQuestion, GroupQuestion):
        kwargs["date_order"] = date_order
    return cls(item, **kwargs)
