"""Each check-in screen on its own, in a real window: renders the flow's data in English and Spanish, in
normal and large text, with nothing cut off; one primary action; "I need help" and "A A" on every screen.

Screenshots land in /tmp/ui-screens for a human to look at (1280×800, as the lobby kiosk).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.ui.i18n_kv import set_language
from kiosk.ui.screens import SCREEN_CLASSES, load_all_kv
from kiosk.ui.testing import UIHarness
from kiosk.ui.theme import theme
from kiosk.ui.widgets.basic import KioskButton, PrimaryButton

pytestmark = pytest.mark.ui

SHOTS = Path("/tmp/ui-screens")
APPT = {
    "id": "a1",
    "start": "2025-03-12T10:50:00-04:00",
    "time_text": "10:50 AM",
    "provider": "Dr. Maya Chen",
    "location": "Main waiting room",
    "visit_type": "Follow-up visit",
    "selectable": True,
    "reason": "",
}
ITEMS = [
    {"link_id": "smoker", "text": "Do you smoke?", "type": "boolean", "required": True, "repeats": False,
     "read_only": False, "max_length": None, "options": [], "answers": [], "items": []},
    {"link_id": "cond", "text": "Has a doctor ever told you that you have any of these?", "type": "choice",
     "required": True, "repeats": True, "read_only": False, "max_length": None,
     "options": [{"key": "asthma", "display": "Asthma"}, {"key": "none", "display": "None of these"}],
     "answers": [], "items": []},
]  # fmt: skip
SAMPLES: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    "welcome": ("welcome", {"languages": ["en", "es"], "language": "en"}, {}),
    "identify": ("identify", {"attempts_left": 3, "qr_enabled": True}, {}),
    "identify-error": ("identify", {"attempts_left": 2, "qr_enabled": False}, {"base": "not_found"}),
    "identify_dob": ("identify_dob", {"attempts_left": 3}, {"birth_date": "dob_mismatch"}),
    "confirm_appointment": ("confirm_appointment", {"first_name": "Ana", "appointments": [APPT]}, {}),
    "confirm-two": (
        "confirm_appointment",
        {"first_name": "Ana", "appointments": [APPT, {**APPT, "id": "a2", "start": "2025-03-12T11:20:00-04:00"}]},
        {},
    ),
    "demographics": (
        "demographics",
        {"first_name": "Ana", "values": {"phone": "5552014410", "email": "ana@example.org", "line1": "14 Orchard Lane",
                                         "line2": "", "city": "Riverside", "state": "NY", "postal_code": "12901"}},
        {},
    ),
    "insurance": (
        "insurance",
        {"on_file": {"payer_name": "Blue Harbor Health", "member_id_masked": "•••• 1935", "group_number": "GRP-20417"}},
        {},
    ),
    "insurance-none": ("insurance", {"on_file": None}, {"base": "no_coverage_on_file"}),
    "forms": (
        "forms",
        {"questionnaire_title": "Health history", "questionnaire_index": 0, "questionnaire_count": 2,
         "page_index": 0, "page_count": 3, "items": ITEMS},
        {"smoker": "required"},
    ),
    "forms-phq": (
        "forms",
        {"questionnaire_title": "PHQ-9 Depression Assessment", "questionnaire_index": 1, "questionnaire_count": 2,
         "page_index": 3, "page_count": 11,
         "items": [{"link_id": "q4", "text": "Feeling tired or having little energy", "type": "choice",
                    "required": True, "repeats": False, "read_only": False, "max_length": None,
                    "options": [{"key": k, "display": d} for k, d in (
                        ("0", "Not at all"), ("1", "Several days"), ("2", "More than half the days"),
                        ("3", "Nearly every day"))],
                    "answers": [], "items": []}]},
        {},
    ),
    "consents": (
        "consents",
        {"document": {"id": "d1", "title": "Consent to treatment", "text": "# Consent\n**I agree** to care.\n" * 12},
         "index": 0, "count": 1},
        {"signature": "signature_missing"},
    ),
    "payment": ("payment", {"amount_cents": 2500, "currency": "USD", "kind": "copay", "attempt": 1},
                {"base": "card_declined"}),
    "ticket": ("ticket", {"queue_number": "A-017", "display_name": "Ana G.", "wait_area": "the main waiting room",
                          "issued_at": "2025-03-12T10:31:00-04:00", "printed": True}, {}),
    "ticket-printer-failed": (
        "ticket",
        {"queue_number": "A-017", "display_name": "Ana G.", "wait_area": "the main waiting room", "printed": False},
        {"base": "printer_failed"},
    ),
    "done": ("done", {"queue_number": "A-017", "display_name": "Ana G.", "wait_area": "the main waiting room",
                      "printed": True}, {}),
    "desk": ("desk", {"reason": "balance_due", "queue_number": "A-018", "printed": True}, {}),
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def kv() -> None:
    load_all_kv()


def mount(ui: UIHarness, step: str) -> Any:
    manager = ScreenManager(transition=NoTransition())
    screen = SCREEN_CLASSES[step](clinic_name="Riverside Family Medicine")
    screen.progress_count, screen.progress_index = 8, 2
    manager.add_widget(screen)
    ui.mount(manager)
    return screen


def visible(widget: Any) -> bool:
    while widget is not None and widget is not widget.parent:
        if getattr(widget, "opacity", 1) == 0 or getattr(widget, "height", 1) <= 0:
            return False
        widget = widget.parent
    return True


def walk_visible(screen: Any) -> Iterator[Any]:
    for w in screen.walk(restrict=True):
        if visible(w):
            yield w


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_screen_renders_without_clipping(ui: UIHarness, name: str, lang: str, large: bool) -> None:
    step, data, errors = SAMPLES[name]
    set_language(lang)
    theme.large_text = large
    screen = mount(ui, step)
    screen.render(data, errors)
    screen.on_enter_step()
    ui.frames(4)
    SHOTS.mkdir(parents=True, exist_ok=True)
    ui.screenshot(SHOTS / f"{name}-{lang}{'-large' if large else ''}.png")

    width = ui.window.width
    for w in walk_visible(screen):
        if not isinstance(w, Label) or not w.text or getattr(w, "shorten", False):
            continue
        left, _ = w.to_window(w.x, w.y)
        right, _ = w.to_window(w.right, w.y)
        assert left >= -1 and right <= width + 1, f"{type(w).__name__} {w.text[:30]!r} leaves the screen"
        assert w.texture_size[0] <= w.width + 2, f"{type(w).__name__} {w.text[:30]!r} is wider than its box"
        if isinstance(w, KioskButton):
            assert w.height >= theme.touch_min and w.width >= theme.touch_min, w.text

    layout = screen.ids.layout
    assert layout.ids.large_text is not None  # "A A" on every screen
    if step != "desk":  # the desk screen IS the help
        assert layout.show_help and visible(layout.ids.help)
    primaries = [w for w in walk_visible(screen) if isinstance(w, PrimaryButton) and not w.disabled]
    assert len(primaries) <= 1, f"{len(primaries)} primary actions on {name}"


def test_language_texts_switch_on_a_shown_screen(ui: UIHarness) -> None:
    screen = mount(ui, "payment")
    screen.render({"amount_cents": 2500, "currency": "USD", "kind": "copay", "attempt": 1}, {"base": "card_declined"})
    ui.frames(2)
    assert screen.ids.layout.ids.primary.text == "Pay now with a card"
    set_language("es")
    ui.frames(2)
    assert screen.ids.layout.ids.primary.text == "Pagar ahora con tarjeta"
    assert screen.heading == "Su copago por la consulta de hoy"  # set from Python: refreshed too
    assert "recepción" in screen.base_error


def test_money_and_times_are_formatted_for_the_language(ui: UIHarness) -> None:
    from kiosk.ui.screens.base import format_clock, format_money

    assert format_money(2500, "USD", "en") == "$25.00"
    assert format_money(123456, "USD", "en") == "$1,234.56"
    assert (
        format_clock("2025-03-12T09:05:00-04:00", "en") == "9:05\u202fAM"
        or format_clock("2025-03-12T09:05:00-04:00", "en").replace("\u202f", " ") == "9:05 AM"
    )
    assert format_clock("2025-03-12T21:05:00-04:00", "es").startswith("9:05")
    assert format_clock("not a time") == ""


def test_clear_empties_every_input(ui: UIHarness) -> None:
    """What a session reset relies on: after clear() no screen shows or holds what was typed."""
    from kiosk_env import widget_strings

    secrets = ["Orchard", "5552014410", "Blue Harbor", "Ana G.", "A-017", "Consent to treatment"]
    for name, (step, data, errors) in SAMPLES.items():
        screen = mount(ui, step)
        screen.render(data, errors)
        if step == "identify":
            screen.stage = "name"
            screen.ids.given.text, screen.ids.family.text = "Orchard", "Lane"
        ui.frames(2)
        screen.clear()
        ui.frames(2)
        roots = [screen, *getattr(screen, "_stages", {}).values()]
        leftovers = [
            s for root in roots for w in root.walk(restrict=True) for s in widget_strings(w)
            if any(secret.casefold() in s.casefold() for secret in secrets)
        ]  # fmt: skip
        assert leftovers == [], name


def test_a_four_answer_question_fits_without_scrolling(ui: UIHarness) -> None:
    """PHQ-9 pages: the question and all four answers in sight at once (normal text, 1280×800)."""
    from kiosk.ui.widgets.basic import ChoiceButton

    step, data, errors = SAMPLES["forms-phq"]
    screen = mount(ui, step)
    screen.render(data, errors)
    ui.frames(4)
    scroller = screen.ids.layout.scroller
    _, bottom = scroller.to_window(scroller.x, scroller.y)
    top = bottom + scroller.height
    buttons = [w for w in screen.walk(restrict=True) if isinstance(w, ChoiceButton)]
    assert len(buttons) == 4
    for button in buttons:
        _, y = button.to_window(button.x, button.y)
        assert y >= bottom - 1 and y + button.height <= top + 1, button.text
    assert "Page 4 of 11" in screen.ids.layout.ids.title.text


@pytest.mark.parametrize("name", ["identify", "demographics", "insurance", "forms", "consents", "ticket"])
def test_a_screen_that_is_let_go_is_freed(ui: UIHarness, name: str) -> None:
    """No global (theme, translator, focus tracker, Kivy's own class-wide triggers) keeps a screen alive:
    what a screen held goes with it. (A strong reference from a global also made every later language or
    focus change update every screen ever built.)"""
    import gc
    import weakref

    step, data, errors = SAMPLES[name]
    screen = mount(ui, step)
    screen.render(data, errors)
    screen.on_enter_step()
    ui.frames(2)
    if step == "identify":
        screen.stage = "name"
        ui.frames(2)
        ui.tap(screen.ids.given.input)
        ui.type_text("Orchard")  # a focused field with a moved cursor
    set_language("es")
    theme.large_text = True
    ui.frames(2)
    roots = [screen, getattr(screen, "keyboard", None), *getattr(screen, "_stages", {}).values()]
    refs = [weakref.ref(w) for root in roots if root is not None for w in root.walk(restrict=True)]
    del screen, roots
    ui.unmount()
    for _ in range(3):  # what the screen scheduled has run (scroll bar fade: a 0.5 s trigger, then 0.5 s)
        ui.advance_clock(1.0)
    gc.collect()
    alive = sorted({type(w).__name__ for w in (r() for r in refs) if w is not None})
    assert alive == [], f"still referenced after the {step} screen was let go: {alive}"
