"""Stand-ins for the busy veil and the idle warning, used only while kiosk.ui.widgets has none
(``BusyOverlay`` / ``IdleWarning`` registered with Kivy's Factory win when present)."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import NumericProperty
from kivy.uix.floatlayout import FloatLayout


class _Veil(FloatLayout):
    """Covers the window and swallows touches meant for the screen below."""

    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        super().on_touch_up(touch)
        return True


class LocalBusyOverlay(_Veil):
    pass


class LocalIdleWarning(_Veil):
    seconds_left = NumericProperty(0)
    __events__ = ("on_more_time",)

    def on_more_time(self) -> None:
        pass


def overlay_classes() -> tuple[type, type]:
    """(BusyOverlay, IdleWarning): the widgets package's when registered, else these."""
    from kiosk.ui.screens.base import load_screen_kv

    busy = getattr(Factory, "BusyOverlay", None) if "BusyOverlay" in Factory.classes else None
    idle = getattr(Factory, "IdleWarning", None) if "IdleWarning" in Factory.classes else None
    if busy is None or idle is None:
        load_screen_kv("overlays")
    return busy or LocalBusyOverlay, idle or LocalIdleWarning
