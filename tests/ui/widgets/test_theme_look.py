"""The shared look: contrast of every declared colour pair, sizes that follow large text, touch sizes."""

from __future__ import annotations

import pytest
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label

from kiosk.ui.testing import UIHarness
from kiosk.ui.theme import (
    BASE_SIZES,
    CONTRAST_PAIRS,
    LARGE_TEXT_SCALE,
    NON_TEXT_PAIRS,
    PALETTE,
    contrast_ratio,
    hex_rgba,
    theme,
)
from kiosk.ui.widgets.basic import (
    BodyLabel,
    DangerButton,
    KioskScreenLayout,
    PrimaryButton,
    SecondaryButton,
    TitleLabel,
)


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast_ratio(hex_rgba("#000000"), hex_rgba("#FFFFFF")) == pytest.approx(21.0)
    assert contrast_ratio(hex_rgba("#FFFFFF"), hex_rgba("#FFFFFF")) == pytest.approx(1.0)
    # #767676 on white is the well-known 4.54:1 grey
    assert contrast_ratio(hex_rgba("#767676"), hex_rgba("#FFFFFF")) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), CONTRAST_PAIRS)
def test_every_text_pair_is_at_least_aa_and_mostly_aaa(fg: str, bg: str) -> None:
    ratio = contrast_ratio(theme.color_of(fg), theme.color_of(bg))
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


def test_every_text_pair_reaches_aaa_7_to_1() -> None:
    ratios = {(fg, bg): contrast_ratio(hex_rgba(PALETTE[fg]), hex_rgba(PALETTE[bg])) for fg, bg in CONTRAST_PAIRS}
    below_aaa = {pair: round(r, 2) for pair, r in ratios.items() if r < 7.0}
    assert not below_aaa


@pytest.mark.parametrize(("fg", "bg"), NON_TEXT_PAIRS)
def test_control_borders_are_at_least_3_to_1(fg: str, bg: str) -> None:
    assert contrast_ratio(theme.color_of(fg), theme.color_of(bg)) >= 3.0


def test_sizes_meet_the_kiosk_minimums() -> None:
    assert theme.font_body >= 28
    assert theme.font_title >= 44
    assert theme.font_small >= 22
    assert theme.touch_min >= 64 and theme.touch_floor >= 48
    assert theme.button_height >= theme.touch_min


def test_large_text_scales_every_size_and_back() -> None:
    theme.large_text = True
    try:
        assert theme.scale == LARGE_TEXT_SCALE
        for name, base in BASE_SIZES.items():
            assert getattr(theme, name) == round(base * LARGE_TEXT_SCALE), name
    finally:
        theme.large_text = False
    assert theme.scale == 1.0
    assert theme.font_body == BASE_SIZES["font_body"]


def test_labels_follow_large_text_live(ui: UIHarness) -> None:
    layout = ui.mount(KioskScreenLayout(title="Welcome"))
    body = BodyLabel(text="Please tap Start to check in.")
    layout.add_widget(body)
    ui.frames()
    before = (layout.ids.title.font_size, body.font_size, body.height)
    ui.tap(layout.ids.large_text)
    assert theme.large_text
    ui.frames()
    after = (layout.ids.title.font_size, body.font_size, body.height)
    assert after[0] == pytest.approx(before[0] * LARGE_TEXT_SCALE, abs=1)
    assert after[1] == pytest.approx(before[1] * LARGE_TEXT_SCALE, abs=1)
    assert after[2] > before[2]
    ui.tap(layout.ids.large_text)
    assert not theme.large_text


def _buttons(root):  # type: ignore[no-untyped-def]
    return [w for w in root.walk(restrict=True) if isinstance(w, ButtonBehavior) and w.opacity > 0]


@pytest.mark.parametrize("large", [False, True])
def test_every_button_of_the_screen_frame_is_at_least_64px(ui: UIHarness, large: bool) -> None:
    theme.large_text = large
    layout = ui.mount(KioskScreenLayout(clinic_name="Riverside Family Clinic", title="Check in", progress_count=5))
    for cls in (PrimaryButton, SecondaryButton, DangerButton):
        layout.add_widget(cls(text=cls.__name__))
    ui.frames()
    buttons = _buttons(layout)
    assert len(buttons) >= 8
    for b in buttons:
        assert b.width >= 64 and b.height >= 64, (type(b).__name__, b.size)


def test_text_colours_used_by_the_frame_are_declared_pairs(ui: UIHarness) -> None:
    """Measure what is drawn: every visible label's colour against the colour behind it ≥ 4.5."""
    layout = ui.mount(KioskScreenLayout(clinic_name="Clinic", title="Title", progress_count=3))
    layout.add_widget(BodyLabel(text="Body"))
    ui.frames()
    backgrounds = {
        "header": theme.header,
        "body": theme.background,
        "footer": theme.surface,
    }
    checked = 0
    for w in layout.walk(restrict=True):
        if not isinstance(w, Label) or not w.text or w.opacity == 0:
            continue
        if isinstance(w, ButtonBehavior):
            bg = w.bg_color if not w.disabled else theme.disabled
            fg = w.disabled_color if w.disabled else w.color
        else:
            parent = w.parent
            while parent is not None and parent not in (
                layout.ids.header,
                layout.ids.body,
                layout.ids.footer,
            ):
                parent = parent.parent
            area = {layout.ids.header: "header", layout.ids.body: "body", layout.ids.footer: "footer"}[parent]
            bg, fg = backgrounds[area], w.color
        assert contrast_ratio(fg, bg) >= 4.5, (type(w).__name__, w.text)
        checked += 1
    assert checked >= 6


def test_title_and_body_wrap_inside_their_width(ui: UIHarness) -> None:
    layout = ui.mount(KioskScreenLayout(title="A rather long title that will certainly need to wrap " * 2))
    body = BodyLabel(text="Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8)
    layout.add_widget(body)
    ui.frames(4)
    title: TitleLabel = layout.ids.title
    for label in (title, body):
        assert label.texture_size[0] <= label.width + 1
        assert label.height >= label.texture_size[1]
        assert label.height > label.font_size * 2  # really wrapped onto several lines


def test_buttons_shrink_their_caption_instead_of_splitting_a_word(ui: UIHarness) -> None:
    from kivy.core.text import Label as CoreLabel
    from kivy.uix.boxlayout import BoxLayout

    theme.large_text = True
    row = BoxLayout(size_hint_y=None, height=100)
    narrow = SecondaryButton(text="Secondary", size_hint_x=None, width=220)
    wide = PrimaryButton(text="Secondary")
    row.add_widget(narrow)
    row.add_widget(wide)
    layout = ui.mount(KioskScreenLayout())
    layout.add_widget(row)
    ui.frames(4)
    assert wide.font_size == theme.font_button
    assert theme.font_small <= narrow.font_size < theme.font_button
    probe = CoreLabel(font_size=narrow.font_size, font_name=narrow.font_name, bold=True)
    assert probe.get_extents("Secondary")[0] <= narrow.width - narrow.padding[0] - narrow.padding[2]
