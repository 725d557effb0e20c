"""Forms: one page of a Questionnaire at a time, rendered with ``build_item_widget`` (kiosk/ui/widgets).

- "Next" sends ``{"action": "next", "answers": {link_id: [values]}}``; the flow validates, and returns the
  next page, the same page with errors, or the same page with questions that the answers switched on.
- enableWhen is the flow's business: when a tapped answer (choice, yes/no) changes, the screen sends
  ``{"action": "update", "answers": ...}`` (no busy veil) and the flow returns the same page with the items
  now enabled; the page is rebuilt only if the set of questions changed (STEPS.md, forms).
- Text answers dock the on-screen keyboard while a text box is being typed into.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.properties import StringProperty
from kivy.utils import escape_markup, get_hex_from_color

from kiosk.ui import messages
from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import theme

log = logging.getLogger(__name__)

#: Item types whose answer change may switch other questions on or off (asked with "update").
DISCRETE_TYPES = ("boolean", "choice", "open-choice")


#: Item types answered by typing (the keyboard appears once a box is tapped).
TEXT_TYPES = ("string", "text")


def _flat(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        out.append(item)
        out.extend(_flat(list(item.get("items") or [])))
    return out


def structure(items: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The shape of a page (which questions, nested): a rebuild is needed only when it changes."""
    return tuple((i.get("link_id"), i.get("type"), structure(list(i.get("items") or []))) for i in items)


def discrete_ids(items: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for item in items:
        if item.get("type") in DISCRETE_TYPES:
            out.add(str(item.get("link_id")))
        out |= discrete_ids(list(item.get("items") or []))
    return out


class FormsScreen(KioskScreen):
    step = "forms"
    progress_step = "forms"
    heading = StringProperty("")
    page_text = StringProperty("")
    title_markup = StringProperty("")
    """The form's title with "Form 1 of 2 · Page 3 of 7" after it in small type (one line saved for answers)."""

    def __init__(self, **kwargs: Any) -> None:
        self.widgets: list[Any] = []
        self._structure: tuple[Any, ...] = ()
        self._page_key: tuple[Any, ...] = ()
        self._discrete: set[str] = set()
        self._last_discrete: dict[str, list[Any]] = {}
        self._pending = ""
        self._update_ev = Clock.create_trigger(self._send_update, 0)
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget: Any) -> None:
        from kiosk.ui.widgets.keyboard import OnScreenKeyboard
        from kiosk.ui.widgets.text_field import focus_tracker

        self.keyboard = OnScreenKeyboard()
        focus_tracker.bind(current=self._update_dock)  # weak reference (bind, not fbind)
        layout = self.ids.layout
        layout.ids.title.markup = True
        # Four PHQ-9 answers, the question and the title fit at 1280×800 only with a slimmer top margin.
        layout.ids.body.padding = [theme.padding * 2, theme.spacing]
        from kiosk.ui.widgets.basic import ErrorBanner

        self._banner = ErrorBanner()
        self.fbind("heading", self._title)
        self.fbind("page_text", self._title)
        self.fbind("base_error", self._show_banner)
        theme.bind(font_small=self._title)

    def _title(self, *_args: Any) -> None:
        title = escape_markup(self.heading)
        if self.page_text:
            color = get_hex_from_color(theme.text_muted)
            size = int(theme.font_small)
            title += f"   [size={size}][color={color}]{escape_markup(self.page_text)}[/color][/size]"
        self.title_markup = title

    def _show_banner(self, *_args: Any) -> None:
        """The page's own error (``errors["base"]``) above the questions, only while there is one."""
        box, banner = self.ids.questions, self._banner
        banner.text = self.base_error
        if self.base_error and banner.parent is None:
            box.add_widget(banner, index=len(box.children))
        elif not self.base_error and banner.parent is not None:
            box.remove_widget(banner)

    # -- rendering -----------------------------------------------------------------------------------
    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        pending, self._pending = self._pending, ""
        self.heading = str(data.get("questionnaire_title") or _("Questions"))
        parts = []
        q_count = int(data.get("questionnaire_count") or 1)
        if q_count > 1:
            parts.append(
                _("Form {n} of {total}").format(n=int(data.get("questionnaire_index") or 0) + 1, total=q_count)
            )
        p_count = int(data.get("page_count") or 1)
        if p_count > 1:
            parts.append(_("Page {n} of {total}").format(n=int(data.get("page_index") or 0) + 1, total=p_count))
        self.page_text = "   ·   ".join(parts)
        items = [dict(i) for i in data.get("items") or []]
        page_key = (data.get("questionnaire_index"), data.get("page_index"))
        shape = structure(items)
        if shape != self._structure or page_key != self._page_key or not self.widgets:
            self._build(items)
            self._structure = shape
            self._page_key = page_key
        if pending == "update":
            return  # an enableWhen refresh: errors of half-typed answers are not shown yet
        texts = {field: messages.form_error_text(key) for field, key in errors.items() if field != "base"}
        for widget in self.widgets:
            widget.set_errors(texts)
        if texts:
            self._scroll_to_first_error()

    def _build(self, items: list[dict[str, Any]]) -> None:
        from kiosk.ui.widgets.questions import build_item_widget

        box = self.ids.questions
        for widget in self.widgets:
            widget.unbind(on_answers_changed=self._answers_changed)
        box.clear_widgets()
        if self.base_error:
            box.add_widget(self._banner)
        self.widgets = []
        for item in items:
            widget = build_item_widget(item)
            widget.bind(on_answers_changed=self._answers_changed)
            box.add_widget(widget)
            self.widgets.append(widget)
        if any(i.get("type") in TEXT_TYPES for i in _flat(items)):
            from kiosk.ui.widgets.basic import HintLabel

            box.add_widget(HintLabel(text=_("Tap a white box to type your answer.")), index=len(box.children))
        self._discrete = discrete_ids(items)
        self._last_discrete = {k: v for k, v in self.answers().items() if k in self._discrete}
        self.ids.layout.scroller.scroll_y = 1
        self._update_dock()

    def _scroll_to_first_error(self) -> None:
        for widget in self.widgets:
            if widget.error or any(getattr(w, "error", "") for w in widget.walk(restrict=True)):
                Clock.schedule_once(lambda _dt, w=widget: self.ids.layout.scroller.scroll_to(w, animate=False), 0)
                return

    def answers(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for widget in self.widgets:
            out.update(widget.collect())
        return out

    # -- enableWhen ----------------------------------------------------------------------------------
    def _answers_changed(self, *_args: Any) -> None:
        current = {k: v for k, v in self.answers().items() if k in self._discrete}
        if current != self._last_discrete:
            self._last_discrete = current
            self._update_ev()

    def _send_update(self, *_args: Any) -> None:
        if self.emit({"action": "update", "answers": self.answers()}, overlay=False):
            self._pending = "update"
        else:
            self._update_ev()  # a call is still running: ask again next frame

    # -- footer --------------------------------------------------------------------------------------
    def next_page(self) -> None:
        if self.emit({"action": "next", "answers": self.answers()}):
            self._pending = "next"

    def back(self) -> None:
        if self.emit({"action": "back"}):
            self._pending = "back"

    def _update_dock(self, *_args: Any) -> None:
        from kiosk.ui.widgets.text_field import focus_tracker

        field = focus_tracker.current
        typing = False
        parent = field.parent if field is not None else None
        while parent is not None and parent is not parent.parent:
            if parent is self:
                typing = True
                break
            parent = parent.parent
        self.ids.layout.dock(self.keyboard if typing else None)

    def clear(self) -> None:
        self._update_ev.cancel()
        self.ids.questions.clear_widgets()
        self.widgets = []
        self._structure = ()
        self._page_key = ()
        self._discrete = set()
        self._last_discrete = {}
        self._pending = ""
        self.heading = self.page_text = ""
        self._banner.text = ""
        self.ids.layout.dock(None)
        super().clear()
