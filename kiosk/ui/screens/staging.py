"""Screens with stages (review ↔ edit one field; choose ↔ type a card): only the current stage's widget is
in the tree, so hidden stages take neither space nor touches, and the on-screen keyboard is docked only
while a field of the current stage is being typed into.

The screen's kv puts a vertical ``BoxLayout`` with ``id: stages`` in the body and defines each stage's
widget anywhere in its rule (they are moved into ``stages`` here).
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.uix.widget import Widget

from kiosk.ui.theme import theme

EDIT_STAGES = ("edit", "manual")


class StagedScreenMixin:
    """Mix into a :class:`~kiosk.ui.screens.base.KioskScreen` that has a ``stage`` property."""

    ids: Any
    stage: str

    def setup_stages(self, stages: dict[str, Widget]) -> None:
        from kiosk.ui.widgets.keyboard import OnScreenKeyboard
        from kiosk.ui.widgets.text_field import focus_tracker

        self.keyboard = OnScreenKeyboard()
        # ids hold weak proxies: keep the widgets themselves (identity checks, and they live off-tree).
        self._stages = {name: getattr(w, "__self__", w) for name, w in stages.items()}
        self._filler = Widget()
        for widget in self._stages.values():
            if widget.parent is not None:
                widget.parent.remove_widget(widget)
        self.fbind("stage", self._stage_changed)  # type: ignore[attr-defined]
        focus_tracker.bind(current=self._update_dock)  # weak reference (bind, not fbind)
        self._stage_changed()

    def _stage_changed(self, *_args: Any) -> None:
        holder = self.ids.stages
        wanted = self._stages[self.stage]
        if not holder.children or holder.children[-1] is not wanted:
            holder.clear_widgets()
            holder.add_widget(wanted)
            holder.add_widget(self._filler)
        holder.size_hint_y = 1
        wanted.fbind("minimum_height", self._min_height)
        self._min_height()
        body = self.ids.layout.ids.body
        compact = self.stage in EDIT_STAGES
        body.padding = [theme.padding * 2, theme.spacing / 2.0 if compact else theme.padding]
        self._update_dock()

    def _min_height(self, *_args: Any) -> None:
        wanted = self._stages[self.stage]
        self.ids.stages.size_hint_min_y = wanted.minimum_height if hasattr(wanted, "minimum_height") else wanted.height

    def _update_dock(self, *_args: Any) -> None:
        from kiosk.ui.widgets.text_field import focus_tracker

        field = focus_tracker.current
        stage_widget = self._stages.get(self.stage)
        typing = False
        if field is not None and stage_widget is not None:
            parent = field.parent
            while parent is not None and parent is not parent.parent:
                if parent is stage_widget:
                    typing = True
                    break
                parent = parent.parent
        self.ids.layout.dock(self.keyboard if typing else None)
        if typing and field is not None:
            # Large text + keyboard leave little room: keep the box being typed into in sight.
            Clock.schedule_once(lambda _dt: self._keep_in_sight(field), 0)

    def _keep_in_sight(self, field: Any) -> None:
        scroller = self.ids.layout.scroller
        if scroller is not None and field.parent is not None and field.get_root_window() is not None:
            scroller.scroll_to(field, padding=4, animate=False)
