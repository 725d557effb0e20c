"""Question widgets: each STEPS.md item type, driven by taps/typing in a real window, gives answers() in the
STEPS.md input shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.ui.testing import UIHarness
from kiosk.ui.widgets.basic import ChoiceButton, KioskScreenLayout
from kiosk.ui.widgets.keyboard import OnScreenKeyboard
from kiosk.ui.widgets.questions import (
    ChoiceQuestion,
    DateQuestion,
    DisplayQuestion,
    GroupQuestion,
    NumberQuestion,
    QuestionWidget,
    TextQuestion,
    build_item_widget,
)


def item(link_id: str, type_: str, text: str = "", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "link_id": link_id,
        "text": text or f"Question {link_id}",
        "type": type_,
        "required": False,
        "repeats": False,
        "read_only": False,
        "max_length": None,
        "options": [],
        "answers": [],
        "items": [],
    }
    base.update(extra)
    return base


OPTIONS = [
    {"key": "http://loinc.org|LA6576-8", "display": "Excellent"},
    {"key": "http://loinc.org|LA6577-6", "display": "Good"},
    {"key": "http://loinc.org|LA6578-4", "display": "Fair"},
]


def mount(ui: UIHarness, widget: QuestionWidget, keyboard: bool = False) -> QuestionWidget:
    layout = KioskScreenLayout(title="Health questions")
    layout.add_widget(widget)
    if keyboard:
        layout.dock(OnScreenKeyboard())
    ui.mount(layout)
    return widget


def changes(widget: QuestionWidget) -> list[int]:
    seen: list[int] = []
    widget.bind(on_answers_changed=lambda *_: seen.append(1))
    return seen


def test_builder_picks_a_widget_per_type() -> None:
    expected = {
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
        "attachment": DisplayQuestion,  # unknown: shown as text, never answered
    }
    for type_, cls in expected.items():
        assert type(build_item_widget(item("x", type_))) is cls


def test_string_typed_with_physical_keyboard(ui: UIHarness, shots: Path) -> None:
    w = mount(ui, build_item_widget(item("name", "string", "Preferred name", required=True)), keyboard=True)
    seen = changes(w)
    assert w.answers() == []
    assert w.required_label == "(required)" and "(required)" in w.ids.title.text
    ui.tap(w.field.input)
    ui.type_text("  Peña ")
    assert w.answers() == ["Peña"] and seen
    assert w.collect() == {"name": ["Peña"]}
    ui.screenshot(shots / "question_string.png")


def test_text_is_multiline_and_respects_max_length(ui: UIHarness) -> None:
    w = mount(ui, build_item_widget(item("notes", "text", max_length=10)), keyboard=True)
    assert w.field.multiline
    ui.tap(w.field.input)
    ui.type_text("Knee pain since May")
    assert w.answers() == ["Knee pain "[:10].strip()]


def test_integer_from_keypad(ui: UIHarness) -> None:
    w = mount(ui, build_item_widget(item("age", "integer")))
    for k in ["7", "2", "9", "backspace"]:
        ui.tap(w.pad.key_button(k))
    assert w.answers() == [72] and isinstance(w.answers()[0], int)


def test_decimal_from_keypad(ui: UIHarness, shots: Path) -> None:
    w = mount(ui, build_item_widget(item("temp", "decimal", "Temperature (°F)")))
    for k in ["9", "8", ".", "6", "."]:
        ui.tap(w.pad.key_button(k))
    assert w.answers() == ["98.6"]
    ui.screenshot(shots / "question_decimal.png")


def test_date_from_keypad_and_invalid_passthrough(ui: UIHarness) -> None:
    w = mount(ui, build_item_widget(item("onset", "date")))
    for k in "02301990":
        ui.tap(w.date.ids.pad.key_button(k))
    assert w.answers() == ["1990-02-30"]  # not a date: the flow reports invalid_date
    ui.tap(w.date.ids.pad.key_button("backspace"))
    ui.tap(w.date.ids.pad.key_button("1"))
    w.date.activate("D")
    for k in ["backspace", "backspace", "2", "8"]:
        ui.tap(w.date.ids.pad.key_button(k))
    assert w.answers() == ["1991-02-28"]


def test_date_order_reaches_the_field() -> None:
    w = build_item_widget(item("onset", "date"), date_order="DMY")
    assert w.date.order == "DMY"
    g = build_item_widget(item("g", "group", items=[item("d", "date")]), date_order="DMY")
    assert g.children_widgets[0].date.order == "DMY"


def test_boolean_yes_no(ui: UIHarness, shots: Path) -> None:
    w = mount(ui, build_item_widget(item("smoker", "boolean", "Do you smoke?", required=True)))
    yes, no = w.buttons
    assert (yes.text, no.text) == ("Yes", "No")
    ui.tap(yes)
    assert w.answers() == [True]
    ui.tap(no)
    assert w.answers() == [False]  # one answer only
    ui.screenshot(shots / "question_boolean.png")


def test_single_choice(ui: UIHarness, shots: Path) -> None:
    w = mount(ui, build_item_widget(item("health", "choice", "How is your health?", options=OPTIONS)))
    seen = changes(w)
    ui.tap(w.buttons[0])
    ui.tap(w.buttons[2])
    assert w.answers() == ["http://loinc.org|LA6578-4"]
    assert seen
    ui.tap(w.buttons[2])  # tap again: unselect
    assert w.answers() == []
    ui.tap(w.buttons[1])
    ui.screenshot(shots / "question_choice.png")


def test_repeating_choice_is_multi_select(ui: UIHarness) -> None:
    w = mount(ui, build_item_widget(item("cond", "choice", options=OPTIONS, repeats=True)))
    assert all(b.multi for b in w.buttons)
    ui.tap(w.buttons[0])
    ui.tap(w.buttons[2])
    assert w.answers() == ["http://loinc.org|LA6576-8", "http://loinc.org|LA6578-4"]


def test_open_choice_other_with_text(ui: UIHarness, shots: Path) -> None:
    w = mount(ui, build_item_widget(item("pharm", "open-choice", "Your pharmacy", options=OPTIONS[:2])), True)
    assert w.other_field.opacity == 0
    ui.tap(w.buttons[0])
    ui.tap(w.other_button)
    assert w.buttons[0].state == "normal"  # single answer: Other replaces the choice
    assert w.other_field.opacity == 1 and w.other_field.focus
    ui.type_text("Corner Drug")
    assert w.answers() == [{"other": "Corner Drug"}]
    ui.screenshot(shots / "question_open_choice.png")


def test_prefill_from_item_answers() -> None:
    assert build_item_widget(item("s", "string", answers=["Ana"])).answers() == ["Ana"]
    assert build_item_widget(item("i", "integer", answers=[3])).answers() == [3]
    assert build_item_widget(item("d", "date", answers=["1950-03-04"])).answers() == ["1950-03-04"]
    assert build_item_widget(item("b", "boolean", answers=[False])).answers() == [False]
    assert build_item_widget(item("c", "choice", options=OPTIONS, answers=[OPTIONS[1]["key"]])).answers() == [
        OPTIONS[1]["key"]
    ]
    oc = build_item_widget(item("o", "open-choice", options=OPTIONS, answers=[{"other": "X"}]))
    assert oc.answers() == [{"other": "X"}]


def test_display_answers_nothing() -> None:
    w = build_item_widget(item("intro", "display", "Please answer a few questions."))
    assert w.answers() == [] and w.collect() == {}


def test_group_collects_children_and_routes_errors(ui: UIHarness, shots: Path) -> None:
    g = build_item_widget(
        item(
            "about",
            "group",
            "About you",
            items=[
                item("intro", "display", "These help your doctor."),
                item("smoker", "boolean", "Do you smoke?", required=True),
                item("health", "choice", "How is your health?", options=OPTIONS),
            ],
        )
    )
    assert isinstance(g, GroupQuestion)
    mount(ui, g)
    seen = changes(g)
    smoker = g.children_widgets[1]
    ui.tap(smoker.buttons[1])
    assert seen
    assert g.collect() == {"smoker": [False], "health": []}
    g.set_errors({"health": "Please choose one answer."})
    ui.frames()
    assert g.children_widgets[2].error == "Please choose one answer." and smoker.error == ""
    ui.screenshot(shots / "question_group.png")
    ui.tap(g.children_widgets[2].buttons[0])
    assert g.children_widgets[2].error == ""  # answering clears the message


@pytest.mark.parametrize("type_", ["string", "integer", "boolean", "choice", "date"])
def test_read_only_items_cannot_change(ui: UIHarness, type_: str) -> None:
    w = mount(ui, build_item_widget(item("r", type_, options=OPTIONS, read_only=True)))
    buttons = [b for b in w.walk(restrict=True) if isinstance(b, ChoiceButton)]
    for b in buttons:
        ui.tap(b)
    if type_ == "integer":
        ui.tap(w.pad.key_button("5"))
    assert w.answers() == []
