"""SignaturePad: a framed white area with a baseline and "Sign here"; records and draws finger strokes.

``strokes`` is a list of strokes, each a list of ``(x, y)`` in widget-local pixels (origin bottom-left),
exactly what the consents step takes (``{"strokes": pad.strokes, "png": pad.to_png(), "pad_size":
pad.pad_size}``). Several strokes make one signature; ``clear()`` starts over.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.graphics import Color, Line
from kivy.input.motionevent import MotionEvent
from kivy.properties import AliasProperty, ListProperty
from kivy.uix.widget import Widget

from kiosk.ui.theme import theme
from kiosk.ui.widgets.signature_render import render_signature_png

log = logging.getLogger(__name__)

MIN_STEP = 1.5  # px: ignore jitter smaller than this between recorded points
INK_GROUP = "signature-ink"


class SignaturePad(Widget):
    strokes = ListProperty([])

    __events__ = ("on_stroke",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lines: list[Line] = []
        self.fbind("size", self._redraw)
        self.fbind("pos", self._redraw)

    def _get_empty(self) -> bool:
        return not any(self.strokes)

    is_empty = AliasProperty(_get_empty, None, bind=("strokes",))

    @property
    def pad_size(self) -> list[int]:
        return [round(self.width), round(self.height)]

    def clear(self) -> None:
        self.strokes = []
        self._redraw()

    def to_png(self) -> bytes:
        return render_signature_png(self.strokes, self.size)

    # -- touch ---------------------------------------------------------------------------------------
    def _local(self, touch: MotionEvent) -> tuple[float, float]:
        x = min(max(touch.x - self.x, 0.0), self.width)
        y = min(max(touch.y - self.y, 0.0), self.height)
        return round(x, 1), round(y, 1)

    def on_touch_down(self, touch: MotionEvent) -> bool:
        if self.disabled or not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        touch.grab(self)
        touch.ud[self._key()] = len(self.strokes)
        self.strokes.append([self._local(touch)])
        self._redraw()
        return True

    def on_touch_move(self, touch: MotionEvent) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_move(touch)
        index = touch.ud.get(self._key())
        if index is None or index >= len(self.strokes):
            return True
        stroke = self.strokes[index]
        point = self._local(touch)
        last = stroke[-1]
        if abs(point[0] - last[0]) + abs(point[1] - last[1]) >= MIN_STEP:
            stroke.append(point)
            self._extend_line(index, point)
        return True

    def on_touch_up(self, touch: MotionEvent) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        index = touch.ud.pop(self._key(), None)
        if index is not None and index < len(self.strokes):
            stroke = self.strokes[index]
            point = self._local(touch)
            if stroke[-1] != point:
                stroke.append(point)
            self.property("strokes").dispatch(self)
            self.dispatch("on_stroke")
            self._redraw()
        return True

    def _key(self) -> str:
        return f"signature-{self.uid}"

    def on_stroke(self) -> None:
        log.debug("signature stroke %d", len(self.strokes))

    # -- drawing -------------------------------------------------------------------------------------
    def _extend_line(self, index: int, point: tuple[float, float]) -> None:
        if index < len(self._lines):
            line = self._lines[index]
            line.points = [*line.points, self.x + point[0], self.y + point[1]]

    def _redraw(self, *_args: Any) -> None:
        self.canvas.remove_group(INK_GROUP)
        self._lines = []
        with self.canvas:
            Color(*theme.text, group=INK_GROUP)
            for stroke in self.strokes:
                pts = [c for x, y in stroke for c in (self.x + x, self.y + y)]
                if len(pts) == 2:
                    pts = [*pts, pts[0] + 0.5, pts[1]]  # a dot
                self._lines.append(Line(points=pts, width=2.0, cap="round", joint="round", group=INK_GROUP))
