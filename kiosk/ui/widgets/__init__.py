"""Reusable kiosk widgets. Importing this package registers every widget class with Kivy's Factory;
``kiosk.ui.theme.load_kv()`` imports it and loads the kv rules (theme.kv + widgets/*.kv) once.

What screens use (details in each module's docstring):

- basic: KioskScreenLayout (header / scrolling body / dock / footer; events on_back, on_primary, on_help,
  on_language; ``dock(widget)``), PrimaryButton, SecondaryButton, DangerButton, HelpButton, ChoiceButton,
  TitleLabel, SubtitleLabel, BodyLabel, HintLabel, ErrorBanner, Card.
- keypad: NumericKeypad (on_key "0".."9" | "backspace" | "clear" | extra_key).
- date_field: DateOfBirthField (order "MDY" | "DMY" | "YMD"; iso_date, raw_iso, readback, error, set_iso()).
- text_field: KioskTextField (text, label, error, multiline, max_length, keyboard_layout, autocapitalize),
  focus_tracker (current field; ``clear()`` when a screen leaves).
- keyboard: OnScreenKeyboard (types into the focused field; layouts text / text_digits / email / number).
- signature: SignaturePad (strokes, is_empty, pad_size, clear(), to_png()); signature_render (Pillow only).
- questions: build_item_widget(item, date_order) -> QuestionWidget (answers(), collect(), set_error(),
  set_errors(), on_answers_changed).
- overlays: BusyOverlay (show()/hide(), help_enabled + on_help), IdleWarning (show(remaining), remaining,
  on_more_time, on_timeout).
- step_progress: StepProgress (count, index).
- camera_preview: CameraPreview (start(camera), stop(), roi → guide frame, status off/starting/live/no_signal).
"""

from kiosk.ui.widgets import (  # noqa: F401
    basic,
    camera_preview,
    date_field,
    keyboard,
    keypad,
    overlays,
    questions,
    signature,
    step_progress,
    text_field,
)
