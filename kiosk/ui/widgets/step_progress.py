"""StepProgress: where the patient is in the check-in, as segments plus "Step 2 of 6" in words."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Line, RoundedRectangle
from kivy.properties import NumericProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.theme import theme


class StepProgress(BoxLayout):
    """``count`` segments; the first ``index`` are done, segment ``index`` is current (0-based).

    ``count == 0`` hides everything (screens outside the numbered flow: welcome, done).
    """

    count = NumericProperty(0)
    index = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("count", "index"):
            self.fbind(name, self._redraw)
        theme.bind(scale=self._redraw)  # weak (bind, not fbind)

    @property
    def segments(self) -> list[str]:
        """ "done" / "current" / "todo" for each segment (tests and the demo read this)."""
        n, i = int(self.count), int(self.index)
        return ["done" if k < i else "current" if k == i else "todo" for k in range(n)]

    def _redraw(self, *_args: Any) -> None:
        bar = self.ids.get("bar")
        if bar is None:
            return
        bar.canvas.clear()
        states = self.segments
        if not states:
            return
        gap = theme.spacing / 2.0
        width = (bar.width - gap * (len(states) - 1)) / len(states)
        with bar.canvas:
            for k, state in enumerate(states):
                x = bar.x + k * (width + gap)
                h = bar.height if state == "current" else bar.height * 0.6
                y = bar.center_y - h / 2.0
                if state == "todo":
                    Color(*theme.field_border)
                    Line(rectangle=(x + 1, y + 1, width - 2, h - 2), width=1)
                else:
                    Color(*theme.primary)
                    RoundedRectangle(pos=(x, y), size=(width, h), radius=[h / 2.0])
