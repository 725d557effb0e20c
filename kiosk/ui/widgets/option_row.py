"""OptionRow: the other ways forward under a screen's main content ("I will pay for this visit myself", "I do
not have my card with me", ...), side by side, all as tall as the one with the most lines of text (at least a
normal button's height); four
options make two rows of two. OptionButton: a secondary button that can be ``emphasis``-ed (a thick border
and a tint) when the screen wants to point at it (e.g. after the patient has had trouble with the camera).

``OptionRow.show(buttons)`` puts exactly those buttons in the row, in order (buttons not shown are kept by
their owner, off the tree).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.properties import BooleanProperty
from kivy.uix.gridlayout import GridLayout

from kiosk.ui.theme import theme
from kiosk.ui.widgets.basic import SecondaryButton


class OptionButton(SecondaryButton):
    emphasis = BooleanProperty(False)


class OptionRow(GridLayout):
    def __init__(self, **kwargs: Any) -> None:
        self._bound: set[int] = set()
        kwargs.setdefault("cols", 1)
        kwargs.setdefault("size_hint_y", None)
        super().__init__(**kwargs)
        self.fbind("children", self._arrange)
        self.fbind("minimum_height", self._fit)

    def show(self, buttons: Sequence[Any]) -> None:
        wanted = list(buttons)
        if list(reversed(self.children)) == wanted:
            return
        self.clear_widgets()
        for button in wanted:
            if button.parent is not None:
                button.parent.remove_widget(button)
            self.add_widget(button)

    def _arrange(self, *_args: Any) -> None:
        count = len(self.children)
        self.cols = 2 if count == 4 else max(1, count)
        for child in self.children:
            if id(child) not in self._bound:
                self._bound.add(id(child))
                child.fbind("texture_size", self._equalize)
        self._equalize()

    def _equalize(self, *_args: Any) -> None:
        if not self.children:
            self.height = 0
            return
        tallest = max([theme.button_height] + [child.texture_size[1] for child in self.children])
        for child in self.children:
            if child.min_height != tallest:
                child.min_height = tallest
        self._fit()

    def _fit(self, *_args: Any) -> None:
        self.height = self.minimum_height if self.children else 0
