"""One field at a time: the patient corrects a phone number, an address or an insurance card on a big
field with the on-screen keyboard under it ("Next" → the next field, "Back" → the previous one).

Used by the demographics and insurance screens. It holds what the patient typed (``values``) and nothing
else; the flow validates when the screen sends the intent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import N_
from kiosk.ui.i18n_kv import _


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str  # N_-marked msgid
    layout: str = "text"  # KioskTextField.keyboard_layout: "text" | "email" | "number"
    digits: bool = False  # the keyboard's 1–0 row (addresses, member ids)
    autocapitalize: str = "none"
    max_length: int = 0
    hint: str = ""  # N_-marked msgid
    optional: bool = False


class FieldWizard(BoxLayout):
    """Shows one :class:`FieldSpec` at a time in a KioskTextField; the screen docks the keyboard."""

    index = NumericProperty(0)
    count = NumericProperty(0)
    label = StringProperty("")
    hint = StringProperty("")
    error = StringProperty("")
    is_last = BooleanProperty(True)
    optional = BooleanProperty(False)
    keyboard = ObjectProperty(None, allownone=True)
    """The screen's OnScreenKeyboard (its digits row follows the field)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs: list[FieldSpec] = []
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.on_finish: Callable[[], None] = lambda: None
        self.on_leave: Callable[[], None] = lambda: None

    @property
    def field(self) -> Any:
        return self.ids.field

    @property
    def spec(self) -> FieldSpec | None:
        return self.specs[int(self.index)] if 0 <= self.index < len(self.specs) else None

    def begin(self, specs: list[FieldSpec], values: dict[str, str], errors: dict[str, str], start: int = 0) -> None:
        """Edit ``specs`` (``values`` is shared with the screen and updated in place)."""
        self.specs = list(specs)
        self.values = values
        self.errors = errors
        self.count = len(self.specs)
        self._show(start)

    def _store(self) -> None:
        spec = self.spec
        if spec is not None:
            self.values[spec.key] = self.field.text

    def _show(self, index: int) -> None:
        self.index = index
        spec = self.spec
        if spec is None:
            return
        field = self.field
        field.focus = False
        field.keyboard_layout = spec.layout
        field.autocapitalize = spec.autocapitalize
        field.max_length = spec.max_length
        field.text = self.values.get(spec.key, "")
        self.is_last = index == len(self.specs) - 1
        self.optional = spec.optional
        if self.keyboard is not None:
            self.keyboard.digits = spec.digits
        self.refresh()
        if not self.error:
            # Straight to typing; with an error the message stays readable until the field is tapped.
            field.focus = True
            field.input.cursor = field.input.get_cursor_from_index(len(field.text))

    def refresh(self) -> None:
        """Re-translate the visible texts (language switch) and show the current field's error."""
        from kiosk.ui import messages

        spec = self.spec
        if spec is None:
            return
        self.label = _(spec.label)
        self.field.label = self.label
        self.hint = _(spec.hint) if spec.hint else ""
        key = self.errors.get(spec.key)
        self.error = messages.error_text(key, spec.key) if key else ""
        self.field.error = self.error

    def next(self) -> None:
        self._store()
        spec = self.spec
        if spec is not None and self.errors.get(spec.key) and self.field.text != "":
            self.errors.pop(spec.key, None)  # the patient changed it: the flow checks it again
        if self.is_last:
            self.field.focus = False
            self.on_finish()
            return
        self._show(int(self.index) + 1)

    def back(self) -> None:
        self._store()
        if self.index == 0:
            self.field.focus = False
            self.on_leave()
            return
        self._show(int(self.index) - 1)

    def clear(self) -> None:
        self.field.focus = False
        self.field.text = ""
        self.field.error = ""
        self.specs = []
        self.values = {}
        self.errors = {}
        self.label = self.hint = self.error = ""


# Field sets of the screens (labels are msgids, translated when shown).
PHONE = FieldSpec(
    "phone",
    N_("Your phone number"),
    layout="number",
    max_length=14,
    hint=N_("10 digits, for example 555 123 4567."),
)
EMAIL = FieldSpec(
    "email",
    N_("Your email address"),
    layout="email",
    max_length=120,
    hint=N_("You can leave this empty."),
    optional=True,
)
ADDRESS = [
    FieldSpec(
        "line1",
        N_("Street address"),
        digits=True,
        autocapitalize="words",
        max_length=100,
        hint=N_("For example 12 Main Street."),
    ),
    FieldSpec(
        "line2",
        N_("Apartment, suite or unit"),
        digits=True,
        autocapitalize="words",
        max_length=100,
        hint=N_("You can leave this empty."),
        optional=True,
    ),
    FieldSpec("city", N_("City"), autocapitalize="words", max_length=60),
    FieldSpec("state", N_("State"), max_length=2, hint=N_("2 letters, for example NY.")),
    FieldSpec("postal_code", N_("ZIP code"), layout="number", max_length=10),
]
INSURANCE = [
    FieldSpec(
        "payer_name",
        N_("Name of your insurance company"),
        autocapitalize="words",
        max_length=100,
        hint=N_("It is printed on the front of your card."),
    ),
    FieldSpec(
        "member_id",
        N_("Member ID"),
        digits=True,
        max_length=40,
        hint=N_("It is printed on the front of your card."),
    ),
    FieldSpec(
        "group_number",
        N_("Group number"),
        digits=True,
        max_length=40,
        hint=N_("If your card has one. You can leave this empty."),
        optional=True,
    ),
    FieldSpec(
        "subscriber_name",
        N_("Name of the insured person, if it is not you"),
        autocapitalize="words",
        max_length=100,
        hint=N_("You can leave this empty."),
        optional=True,
    ),
]
