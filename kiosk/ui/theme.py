"""The kiosk's shared look: one high-contrast palette, px sizes that follow a large-text switch, touch sizes.

Use from Python: ``from kiosk.ui.theme import theme`` and from kv: ``#:import theme kiosk.ui.theme.theme``
then e.g. ``font_size: theme.font_body`` / ``color: theme.text``. Every font size in the theme is already
multiplied by ``theme.scale`` (1.0, or 1.35 when ``theme.large_text`` is on), so kv rules bound to them
follow the "A A" toggle without any code. Box sizes (buttons, fields, header, spacing) stay put and grow
with their text where needed, so large text costs as little screen height as possible.

Palette: dark text on white (positive polarity reads best for older eyes). Every text/background pair that
the widgets draw is declared in ``CONTRAST_PAIRS`` and tested against WCAG 2.x contrast ratios (≥ 7:1 for
text, ≥ 4.5:1 floor; ≥ 3:1 for borders of controls, WCAG 1.4.11).

``load_kv()`` loads ``theme.kv`` and every ``widgets/*.kv`` exactly once; call it before building widgets.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)

log = logging.getLogger(__name__)

LARGE_TEXT_SCALE = 1.35
KV_DIR = Path(__file__).parent


def hex_rgba(value: str, alpha: float = 1.0) -> list[float]:
    """``"#0B3D91"`` → ``[r, g, b, a]`` with components in 0..1 (Kivy's colour format)."""
    value = value.lstrip("#")
    return [int(value[i : i + 2], 16) / 255.0 for i in (0, 2, 4)] + [alpha]


def relative_luminance(rgba: list[float] | tuple[float, ...]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (alpha ignored: theme colours are opaque)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(c)) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: list[float] | tuple[float, ...], bg: list[float] | tuple[float, ...]) -> float:
    """WCAG contrast ratio between two colours, 1.0 … 21.0."""
    la, lb = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


# The palette. Names are the theme's property names.
PALETTE: dict[str, str] = {
    "background": "#FFFFFF",  # screen background
    "surface": "#F1F4F9",  # cards, keypad area
    "text": "#0F172A",  # body text (near black)
    "text_muted": "#374151",  # secondary text (hints, "(required)")
    "primary": "#0B3D91",  # primary buttons, header bar, selected choices
    "primary_pressed": "#051F4D",
    "on_primary": "#FFFFFF",
    "secondary": "#FFFFFF",  # secondary buttons: white with a dark blue border and text
    "secondary_pressed": "#D2DEF2",
    "on_secondary": "#0B3D91",
    "danger": "#9B1C1C",
    "danger_pressed": "#5E0F0F",
    "on_danger": "#FFFFFF",
    "help": "#FFC72C",  # "I need help": amber, distinct from every other button, not alarming red
    "help_pressed": "#D99A00",
    "on_help": "#111827",
    "key": "#E3EAF5",  # keypad / keyboard keys
    "key_pressed": "#0B3D91",
    "on_key": "#0F172A",
    "on_key_pressed": "#FFFFFF",
    "disabled": "#D5DAE1",
    "on_disabled": "#3B4350",
    "header": "#0B3D91",
    "on_header": "#FFFFFF",
    "header_button_pressed": "#2756A8",
    "error_background": "#FDE8E8",
    "error_text": "#7A1414",
    "error_bar": "#B91C1C",  # the colour bar of ErrorBanner and the error border of fields (non-text)
    "field": "#FFFFFF",
    "field_border": "#4B5563",  # ≥ 3:1 against background (WCAG 1.4.11)
    "focus": "#0B3D91",  # border of the field being typed into
    "success": "#14532D",
    "on_success": "#FFFFFF",
    "overlay": "#0F172A",  # BusyOverlay / IdleWarning dim (drawn with alpha)
}

# (foreground, background) pairs that the widgets draw as text on background: tested ≥ 4.5 (aim ≥ 7).
CONTRAST_PAIRS: list[tuple[str, str]] = [
    ("text", "background"),
    ("text", "surface"),
    ("text", "field"),
    ("text_muted", "background"),
    ("text_muted", "surface"),
    ("on_primary", "primary"),
    ("on_primary", "primary_pressed"),
    ("on_secondary", "secondary"),
    ("on_secondary", "secondary_pressed"),
    ("on_secondary", "surface"),
    ("on_danger", "danger"),
    ("on_danger", "danger_pressed"),
    ("on_help", "help"),
    ("on_help", "help_pressed"),
    ("on_key", "key"),
    ("on_key_pressed", "key_pressed"),
    ("on_disabled", "disabled"),
    ("on_header", "header"),
    ("on_header", "header_button_pressed"),
    ("error_text", "error_background"),
    ("error_text", "background"),
    ("on_success", "success"),
    ("success", "background"),
]

# Non-text contrast (borders/indicators that identify a control or state): ≥ 3:1.
NON_TEXT_PAIRS: list[tuple[str, str]] = [
    ("field_border", "background"),
    ("field_border", "surface"),
    ("focus", "background"),
    ("error_bar", "background"),
    ("error_bar", "error_background"),
    ("on_secondary", "background"),  # the secondary button's border
    ("primary", "background"),
]

# Font sizes in px at scale 1.0 (the kiosk's 1280×800 panel, KIVY_METRICS_DENSITY=1); ×1.35 with large text.
BASE_SIZES: dict[str, float] = {
    "font_small": 24,  # the smallest text anywhere (hints, captions)
    "font_body": 30,
    "font_button": 32,
    "font_subtitle": 36,
    "font_title": 48,
    "font_key": 40,  # keypad digits and keyboard letters
    "font_entry": 44,  # what the patient has typed: the biggest thing on the screen after titles
}

# Box sizes in px. They do not scale with large text (the screen would only scroll more); every box that
# holds text also grows with its text (``max(theme.button_height, texture height)``).
BOX_SIZES: dict[str, float] = {
    "button_height": 84,
    "field_height": 84,
    "header_height": 96,
    "footer_height": 112,
    "spacing": 16,
    "padding": 24,
}

# Sizes that do not scale.
TOUCH_MIN = 64  # px: every tappable thing is at least this in both directions (WCAG 2.5.5 asks 44 CSS px)
TOUCH_FLOOR = 48  # px: never below this, even in dense layouts
KEY_SIZE = 84  # px: keypad / keyboard key height (labels scale with large text, keys keep their size)
RADIUS = 14
BORDER = 3  # px: borders of buttons and fields (focus border is thicker)
FOCUS_BORDER = 5


class Theme(EventDispatcher):
    """The shared look. One instance, :data:`theme`; kv binds to its properties."""

    large_text = BooleanProperty(False)
    scale = NumericProperty(1.0)
    font_name = StringProperty("Roboto")
    """Kivy's bundled Roboto covers EN/ES (Latin-1 + accents, Ñ). Register a CJK font with
    ``kivy.core.text.LabelBase.register(name, path)`` and set ``theme.font_name = name`` for such a language."""

    touch_min = NumericProperty(TOUCH_MIN)
    touch_floor = NumericProperty(TOUCH_FLOOR)
    radius = NumericProperty(RADIUS)
    border = NumericProperty(BORDER)
    focus_border = NumericProperty(FOCUS_BORDER)

    font_small = NumericProperty(BASE_SIZES["font_small"])
    font_body = NumericProperty(BASE_SIZES["font_body"])
    font_button = NumericProperty(BASE_SIZES["font_button"])
    font_subtitle = NumericProperty(BASE_SIZES["font_subtitle"])
    font_title = NumericProperty(BASE_SIZES["font_title"])
    font_key = NumericProperty(BASE_SIZES["font_key"])
    font_entry = NumericProperty(BASE_SIZES["font_entry"])
    button_height = NumericProperty(BOX_SIZES["button_height"])
    key_size = NumericProperty(KEY_SIZE)
    field_height = NumericProperty(BOX_SIZES["field_height"])
    header_height = NumericProperty(BOX_SIZES["header_height"])
    footer_height = NumericProperty(BOX_SIZES["footer_height"])
    spacing = NumericProperty(BOX_SIZES["spacing"])
    padding = NumericProperty(BOX_SIZES["padding"])

    # Colours (see PALETTE).
    background = ColorProperty(hex_rgba(PALETTE["background"]))
    surface = ColorProperty(hex_rgba(PALETTE["surface"]))
    text = ColorProperty(hex_rgba(PALETTE["text"]))
    text_muted = ColorProperty(hex_rgba(PALETTE["text_muted"]))
    primary = ColorProperty(hex_rgba(PALETTE["primary"]))
    primary_pressed = ColorProperty(hex_rgba(PALETTE["primary_pressed"]))
    on_primary = ColorProperty(hex_rgba(PALETTE["on_primary"]))
    secondary = ColorProperty(hex_rgba(PALETTE["secondary"]))
    secondary_pressed = ColorProperty(hex_rgba(PALETTE["secondary_pressed"]))
    on_secondary = ColorProperty(hex_rgba(PALETTE["on_secondary"]))
    danger = ColorProperty(hex_rgba(PALETTE["danger"]))
    danger_pressed = ColorProperty(hex_rgba(PALETTE["danger_pressed"]))
    on_danger = ColorProperty(hex_rgba(PALETTE["on_danger"]))
    help = ColorProperty(hex_rgba(PALETTE["help"]))
    help_pressed = ColorProperty(hex_rgba(PALETTE["help_pressed"]))
    on_help = ColorProperty(hex_rgba(PALETTE["on_help"]))
    key = ColorProperty(hex_rgba(PALETTE["key"]))
    key_pressed = ColorProperty(hex_rgba(PALETTE["key_pressed"]))
    on_key = ColorProperty(hex_rgba(PALETTE["on_key"]))
    on_key_pressed = ColorProperty(hex_rgba(PALETTE["on_key_pressed"]))
    disabled = ColorProperty(hex_rgba(PALETTE["disabled"]))
    on_disabled = ColorProperty(hex_rgba(PALETTE["on_disabled"]))
    header = ColorProperty(hex_rgba(PALETTE["header"]))
    on_header = ColorProperty(hex_rgba(PALETTE["on_header"]))
    header_button_pressed = ColorProperty(hex_rgba(PALETTE["header_button_pressed"]))
    error_background = ColorProperty(hex_rgba(PALETTE["error_background"]))
    error_text = ColorProperty(hex_rgba(PALETTE["error_text"]))
    error_bar = ColorProperty(hex_rgba(PALETTE["error_bar"]))
    field = ColorProperty(hex_rgba(PALETTE["field"]))
    field_border = ColorProperty(hex_rgba(PALETTE["field_border"]))
    focus = ColorProperty(hex_rgba(PALETTE["focus"]))
    success = ColorProperty(hex_rgba(PALETTE["success"]))
    on_success = ColorProperty(hex_rgba(PALETTE["on_success"]))
    overlay = ColorProperty(hex_rgba(PALETTE["overlay"], 0.72))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.fbind("scale", self._apply_scale)
        self._apply_scale()

    def on_large_text(self, _instance: object, value: bool) -> None:
        self.scale = LARGE_TEXT_SCALE if value else 1.0
        log.info("large text %s", "on" if value else "off")

    def _apply_scale(self, *_args: object) -> None:
        for name, base in BASE_SIZES.items():
            setattr(self, name, round(base * self.scale))

    def color_of(self, name: str) -> list[float]:
        """The current value of a colour property by name (tests, dynamic styling)."""
        return list(getattr(self, name))

    def reset(self) -> None:
        """Back to the default look (the session reset calls this: the next patient starts fresh)."""
        self.large_text = False


theme = Theme()

_loaded = False


def kv_files() -> list[Path]:
    """theme.kv first, then every widget's kv file."""
    return [KV_DIR / "theme.kv", *sorted((KV_DIR / "widgets").glob("*.kv"))]


def load_kv() -> None:
    """Register the widget classes and load theme.kv + widgets/*.kv once (safe to call many times)."""
    global _loaded
    if _loaded:
        return
    import kiosk.ui.widgets  # noqa: F401  (registers every widget class with Kivy's Factory)

    for path in kv_files():
        if str(path) in Builder.files:
            continue
        Builder.load_file(str(path))
    _loaded = True
    log.debug("kv rules loaded")
