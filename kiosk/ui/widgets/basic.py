"""The building blocks every screen uses (their look is in ``kiosk/ui/theme.kv``).

Buttons: :class:`PrimaryButton` (the one action that moves on), :class:`SecondaryButton` (Back, alternatives),
:class:`DangerButton` (decline / cancel), :class:`HelpButton` ("I need help"), :class:`ChoiceButton` (a big
toggle for choice questions; ``multi`` draws a square box, else a round one). Every button is at least
``theme.touch_min`` px in both directions, grows with its wrapped text, shows a pressed state and stays
readable when disabled.

Text: :class:`TitleLabel`, :class:`SubtitleLabel`, :class:`BodyLabel`, :class:`HintLabel`: they wrap to their
width and grow in height (``size_hint_y`` None), so text never overflows. :class:`ErrorBanner` shows a kind
message with a red bar (``role = "alert"``) and takes no space when empty. :class:`Card` is a framed panel.

:class:`KioskScreenLayout` is the frame of every screen: header (clinic name, language button, "A A"
large-text toggle, "I need help"), an optional title, the body (widgets added to the layout go into it) and
a dock (``dock(widget)``: e.g. the on-screen keyboard, stays visible while the body scrolls) and a footer
(Back, step progress, primary action). It only emits events: ``on_back``, ``on_primary``,
``on_help``, ``on_language``; the screen decides what they mean.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.ui.i18n_kv import tr
from kiosk.ui.theme import theme

log = logging.getLogger(__name__)


class KioskButton(ButtonBehavior, Label):
    """A big rounded button; subclasses only choose colours (in theme.kv)."""

    bg_color = ColorProperty(theme.primary)
    bg_pressed_color = ColorProperty(theme.primary_pressed)
    fg_color = ColorProperty(theme.on_primary)
    fg_pressed_color = ColorProperty(theme.on_primary)
    border_color = ColorProperty([0, 0, 0, 0])
    min_height = NumericProperty(0)
    """0 → ``theme.button_height``; never below ``theme.touch_min`` either way."""
    role = StringProperty("button")

    def __init__(self, **kwargs: Any) -> None:
        self._natural_font = 0.0
        self._fitting = False
        super().__init__(**kwargs)
        self._natural_font = float(self.font_size)
        self._fit_trigger = Clock.create_trigger(self._fit_words)
        self.fbind("font_size", self._font_set)
        self.fbind("text", self._fit_trigger)
        self.fbind("width", self._fit_trigger)
        self._fit_trigger()

    def _font_set(self, *_args: Any) -> None:
        if not self._fitting:  # set by a kv rule / the theme: that is the size we aim for
            self._natural_font = float(self.font_size)
            self._fit_trigger()

    def _fit_words(self, *_args: Any) -> None:
        """Shrink the caption when one of its words is wider than the button: Kivy would split the word
        ("Secondar / y"), which older readers misread. Grows back when there is room; never below
        ``theme.font_small``."""
        natural = self._natural_font or float(self.font_size)
        target = natural
        room = self.width - self.padding[0] - self.padding[2]
        words = self.text.split()
        if words and room > 0 and not self.markup and self.text_size[0] is not None:
            probe = CoreLabel(font_size=natural, font_name=self.font_name, bold=self.bold)
            widest = max(probe.get_extents(word)[0] for word in words)
            if widest > room:
                target = max(float(theme.font_small), float(int(natural * room / widest)))
        if target != self.font_size:
            self._fitting = True
            try:
                self.font_size = target
            finally:
                self._fitting = False


class PrimaryButton(KioskButton):
    pass


class SecondaryButton(KioskButton):
    pass


class DangerButton(KioskButton):
    pass


class HelpButton(KioskButton):
    pass


class HeaderButton(KioskButton):
    """White-outlined button on the dark header bar (language, "A A")."""


class LargeTextToggle(ToggleButtonBehavior, HeaderButton):
    """The "A A" toggle: mirrors and sets ``theme.large_text``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        theme.bind(large_text=self._sync)  # weak (bind, not fbind): a global must not keep widgets alive
        self._sync()

    def _sync(self, *_args: Any) -> None:
        self.state = "down" if theme.large_text else "normal"

    def on_state(self, _instance: Any, value: str) -> None:
        theme.large_text = value == "down"


class ChoiceButton(ToggleButtonBehavior, KioskButton):
    """A selectable answer. ``state == "down"`` means selected. ``value`` is what the answer carries."""

    multi = BooleanProperty(False)
    value = ObjectProperty(None, allownone=True)
    role = StringProperty("radio")
    msgid = StringProperty("")
    """When set, the caption is this message translated into the current language (Yes / No / Other)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        tr.bind(lang=self._translate)  # weak (bind, not fbind)
        self.fbind("msgid", self._translate)
        self._translate()

    def _translate(self, *_args: Any) -> None:
        if self.msgid:
            self.text = tr._(self.msgid)

    def on_multi(self, _instance: Any, multi: bool) -> None:
        self.role = "checkbox" if multi else "radio"

    @property
    def selected(self) -> bool:
        return self.state == "down"

    @selected.setter
    def selected(self, value: bool) -> None:
        self.state = "down" if value else "normal"


class TitleLabel(Label):
    pass


class SubtitleLabel(Label):
    pass


class BodyLabel(Label):
    pass


class HintLabel(Label):
    """Smaller, muted text (hints, "(required)"); still ≥ theme.font_small and ≥ 7:1 contrast."""


class ErrorBanner(BoxLayout):
    """A kind error message with a red bar; invisible and zero-height when ``text`` is empty."""

    text = StringProperty("")
    role = StringProperty("alert")


class Card(BoxLayout):
    """A framed panel on the ``surface`` colour."""

    bg_color = ColorProperty(theme.surface)
    border_color = ColorProperty(theme.field_border)


class KioskHeader(BoxLayout):
    pass


class KioskBody(ScrollView):
    """The scrolling body of a screen; its one child (``content``) is a vertical BoxLayout.

    Scrolls only when the content is taller than the body (large text, long forms); otherwise touches go
    straight to the content (no scroll delay). Screens with drags (SignaturePad) set
    ``KioskScreenLayout.scroll_type = ['bars']`` so only the scroll bar scrolls.
    """

    content = ObjectProperty(None, allownone=True)

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        if self.content is None:
            self.content = widget
        super().add_widget(widget, *args, **kwargs)


class KioskBodyContent(BoxLayout):
    """Stacks the screen's widgets from the top. Fills the visible body when a child stretches
    (``size_hint_y`` set); otherwise it is just as tall as its content, so nothing floats mid-screen."""

    view_height = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("minimum_height", "view_height", "children"):
            self.fbind(name, self._fit)

    def _fit(self, *_args: Any) -> None:
        stretch = any(child.size_hint_y is not None for child in self.children)
        self.height = max(self.view_height, self.minimum_height) if stretch else self.minimum_height


class KioskFooter(BoxLayout):
    pass


class KioskDock(BoxLayout):
    """Between body and footer: what must stay visible while the body scrolls (the on-screen keyboard)."""


class KioskScreenLayout(BoxLayout):
    """Header / body / footer frame of every screen. Children added to it go into the body."""

    clinic_name = StringProperty("")
    title = StringProperty("")
    language_text = StringProperty("")
    """Text of the language button; empty → the endonyms of every language ("English · Español")."""
    show_language = BooleanProperty(True)
    show_help = BooleanProperty(True)
    show_footer = BooleanProperty(True)
    show_back = BooleanProperty(True)
    back_text = StringProperty("")
    """Empty → "Back" (translated)."""
    show_primary = BooleanProperty(True)
    primary_text = StringProperty("")
    """Empty → "Next" (translated)."""
    primary_disabled = BooleanProperty(False)
    progress_count = NumericProperty(0)
    progress_index = NumericProperty(0)
    scroll_type = ListProperty(["bars", "content"])
    scroller = ObjectProperty(None, allownone=True)
    """The body's ScrollView (:class:`KioskBody`)."""

    @property
    def body(self) -> BoxLayout | None:
        """The vertical BoxLayout that holds the screen's content (``add_widget`` puts children there)."""
        return self.scroller.content if self.scroller is not None else None

    __events__ = ("on_back", "on_primary", "on_help", "on_language")

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        body = self.body
        if isinstance(widget, (KioskHeader, KioskBody, KioskDock, KioskFooter)) or body is None:
            if isinstance(widget, KioskBody):
                self.scroller = widget
            super().add_widget(widget, *args, **kwargs)
            return
        body.add_widget(widget, *args, **kwargs)

    def dock(self, widget: Widget | None) -> None:
        """Show ``widget`` (e.g. an OnScreenKeyboard) fixed above the footer; ``None`` empties the dock."""
        area = self.ids.dock
        area.clear_widgets()
        if widget is not None:
            area.add_widget(widget)

    def remove_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        body = self.body
        if body is not None and widget.parent is body:
            body.remove_widget(widget, *args, **kwargs)
            return
        super().remove_widget(widget, *args, **kwargs)

    def on_back(self) -> None:
        log.debug("back pressed")

    def on_primary(self) -> None:
        log.debug("primary pressed")

    def on_help(self) -> None:
        log.debug("help pressed")

    def on_language(self) -> None:
        log.debug("language pressed")
