"""Reusable kiosk widgets. Importing this package registers every widget class with Kivy's Factory;
``kiosk.ui.theme.load_kv()`` imports it and loads the kv rules (theme.kv + widgets/*.kv)."""

from kiosk.ui.widgets import (  # noqa: F401
    basic,
    date_field,
    keyboard,
    keypad,
    overlays,
    questions,
    signature,
    step_progress,
    text_field,
)
