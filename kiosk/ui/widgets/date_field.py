"""DateOfBirthField: month / day / year boxes filled from a NumericKeypad, in the locale's order.

``iso_date`` is ``"YYYY-MM-DD"`` when the three parts form a real calendar date, else ``""``. ``raw_iso`` is
what was typed, zero-padded, even if it is not a date (so a form can report "invalid_date" instead of
silently dropping it). The only check here is "is this a date" (DESIGN: no business logic in widgets).

Entry help for shaky hands: a part advances to the next as soon as it is full, and a first digit that
cannot start a two-digit month (2-9) or day (4-9) is taken as the whole part ("4" → "04").
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from babel import UnknownLocaleError
from babel.dates import format_date
from kivy.properties import (
    AliasProperty,
    BooleanProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.i18n_kv import tr

log = logging.getLogger(__name__)

WIDTHS = {"M": 2, "D": 2, "Y": 4}


class DateSegment(ButtonBehavior, BoxLayout):
    """One part's box (tap to edit that part)."""

    part = StringProperty("M")
    value = StringProperty("")
    caption = StringProperty("")
    active = BooleanProperty(False)
    error = BooleanProperty(False)


class DateOfBirthField(BoxLayout):
    order = OptionProperty("MDY", options=("MDY", "DMY", "YMD"))
    month = StringProperty("")
    day = StringProperty("")
    year = StringProperty("")
    active = OptionProperty("M", options=("M", "D", "Y"))
    error = StringProperty("")
    """A message shown under the boxes (the screen translates the flow's key); boxes get a red border."""
    show_keypad = BooleanProperty(True)

    __events__ = ("on_date_changed",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.active = self.order[0]
        self.fbind("order", self._order_changed)

    # -- values --------------------------------------------------------------------------------------
    def _get_iso(self) -> str:
        if len(self.year) != 4 or not self.month or not self.day:
            return ""
        try:
            return date(int(self.year), int(self.month), int(self.day)).isoformat()
        except ValueError:
            return ""

    iso_date = AliasProperty(_get_iso, None, bind=("month", "day", "year"), cache=True)

    def _get_raw(self) -> str:
        if not (self.year or self.month or self.day):
            return ""
        return f"{self.year.zfill(4)}-{self.month.zfill(2)}-{self.day.zfill(2)}"

    raw_iso = AliasProperty(_get_raw, None, bind=("month", "day", "year"), cache=True)

    def _get_readback(self) -> str:
        iso = self.iso_date
        if not iso:
            return ""
        try:
            return format_date(date.fromisoformat(iso), format="long", locale=tr.lang)
        except (ValueError, LookupError, UnknownLocaleError):
            return iso

    readback = AliasProperty(_get_readback, None, bind=("iso_date",), cache=False)
    """The date in words in the current language ("March 4, 1950"), so the patient can check it."""

    def set_iso(self, value: str) -> None:
        """Prefill from ``"YYYY-MM-DD"`` (anything else clears)."""
        try:
            d = date.fromisoformat(value)
        except (TypeError, ValueError):
            self.clear()
            return
        self.year, self.month, self.day = f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}"
        self.active = self.order[-1]
        self._changed()

    def clear(self) -> None:
        self.month = self.day = self.year = ""
        self.active = self.order[0]
        self._changed()

    # -- keys ----------------------------------------------------------------------------------------
    def _part(self, part: str) -> str:
        return {"M": self.month, "D": self.day, "Y": self.year}[part]

    def _set_part(self, part: str, value: str) -> None:
        setattr(self, {"M": "month", "D": "day", "Y": "year"}[part], value)

    def press(self, key: str) -> None:
        """A keypad key: a digit, ``"backspace"`` or ``"clear"``."""
        part = self.active
        current = self._part(part)
        if key == "clear":
            self.clear()
            return
        if key == "backspace":
            if current:
                self._set_part(part, current[:-1])
            else:
                prev = self._neighbour(-1)
                if prev:
                    self.active = prev
                    self._set_part(prev, self._part(prev)[:-1])
            self._changed()
            return
        if not (len(key) == 1 and key.isdigit()):
            return
        if len(current) >= WIDTHS[part]:
            nxt = self._neighbour(1)
            if nxt is None or self._part(nxt):
                return
            self.active = part = nxt
            current = ""
        value = current + key
        if not current and ((part == "M" and key > "1") or (part == "D" and key > "3")):
            value = "0" + key
        self._set_part(part, value)
        if len(value) >= WIDTHS[part]:
            nxt = self._neighbour(1)
            if nxt is not None:
                self.active = nxt
        self._changed()

    def _neighbour(self, step: int) -> str | None:
        i = self.order.index(self.active) + step
        return self.order[i] if 0 <= i < len(self.order) else None

    def activate(self, part: str) -> None:
        self.active = part

    def _order_changed(self, *_args: Any) -> None:
        self.active = self.order[0]

    def _changed(self) -> None:
        self.dispatch("on_date_changed", self.iso_date)

    def on_date_changed(self, iso_date: str) -> None:
        pass
