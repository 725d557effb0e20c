"""CardGuidePreview: the live camera picture with a card-shaped outline where the insurance card goes, and
SteadyMeter: how long the card has been held well (the auto-capture's progress).

:class:`CardGuidePreview` is a :class:`~kiosk.ui.widgets.camera_preview.CameraPreview` (same start/stop,
frames blitted on the main thread) whose guide frame has the shape of an ID-1 card (85.6 × 54 mm), centred,
``card_width`` of the frame wide; outside it the picture is dimmed. ``looks`` colours the outline:
``"looking"`` white, ``"good"`` green (the card passes the gates), ``"done"`` green and thick.
:meth:`show_corners` draws the outline of the card the finder saw (frame pixels → widget), so the patient
sees that the kiosk "has" the card; ``[]`` hides it. ``no_signal_text`` (a msgid) replaces the preview's
"camera not working" words (which name the identify screen's way out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.properties import ListProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.i18n_kv import tr
from kiosk.ui.widgets.camera_preview import CameraPreview

ID1_ASPECT = 85.6 / 54.0
MAX_HEIGHT = 0.9  # the outline never touches the frame's top and bottom


def card_roi(frame_w: float, frame_h: float, card_width: float) -> list[float]:
    """[left, top, right, bottom] fractions of the frame: an ID-1 card, centred, ``card_width`` wide."""
    frame_w, frame_h = max(float(frame_w), 1.0), max(float(frame_h), 1.0)
    width = card_width
    height = width * frame_w / ID1_ASPECT / frame_h
    if height > MAX_HEIGHT:
        width *= MAX_HEIGHT / height
        height = MAX_HEIGHT
    left, top = (1.0 - width) / 2.0, (1.0 - height) / 2.0
    return [left, top, left + width, top + height]


class CardGuidePreview(CameraPreview):
    card_width = NumericProperty(0.72)
    looks = OptionProperty("looking", options=("looking", "good", "done"))
    found = ListProperty([])
    """The finder's card outline in widget coordinates (x0, y0, … x3, y3, x0, y0), or [] (none)."""
    no_signal_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._corners: tuple[tuple[float, float], ...] | None = None
        self._source_size = (0.0, 0.0)
        super().__init__(**kwargs)
        self.fbind("frame_size", self._fit_roi)
        self.fbind("card_width", self._fit_roi)
        self.fbind("image_rect", self._place_found)
        self._fit_roi()
        # After the kv rule's own bindings: these run last and win.
        self.fbind("status", self._status_words)
        self.fbind("no_signal_text", self._status_words)
        tr.bind(lang=self._status_words)  # weak (bind, not fbind): a global must not keep widgets alive

    def _status_words(self, *_args: Any) -> None:
        if self.status == "no_signal" and self.no_signal_text:
            for child in self.children:
                if isinstance(child, Label):
                    child.text = tr._(self.no_signal_text)

    def _fit_roi(self, *_args: Any) -> None:
        self.roi = card_roi(self.frame_size[0], self.frame_size[1], self.card_width)

    def show_corners(self, corners: Sequence[Sequence[float]] | None, frame_size: Sequence[float]) -> None:
        """Outline the card found at ``corners`` (TL, TR, BR, BL in pixels of a ``frame_size`` frame)."""
        if not corners or not frame_size or not frame_size[0] or not frame_size[1]:
            self._corners = None
        else:
            self._corners = tuple((float(x), float(y)) for x, y in corners)
            self._source_size = (float(frame_size[0]), float(frame_size[1]))
        self._place_found()

    def _place_found(self, *_args: Any) -> None:
        if self._corners is None or self.texture is None:
            if self.found:
                self.found = []
            return
        ix, iy, iw, ih = (float(v) for v in self.image_rect)
        fw, fh = self._source_size
        points: list[float] = []
        for x, y in (*self._corners, self._corners[0]):
            points += [ix + x / fw * iw, iy + ih - y / fh * ih]  # frame rows go down, Kivy's y goes up
        self.found = points

    def stop(self) -> None:
        super().stop()
        self._corners = None
        self.found = []
        self.looks = "looking"


class SteadyMeter(Widget):
    """A bar that fills while the card is held well (``value`` 0..1)."""

    value = NumericProperty(0.0)
