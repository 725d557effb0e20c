"""kiosk.l10n: dates, times, money, the DOB field order, language names and fonts per language (CLDR)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk import l10n
from kiosk.settings import KNOWN_LANGUAGES

NEW_YORK = ZoneInfo("America/New_York")
AT = datetime(2025, 3, 4, 19, 5, tzinfo=UTC)  # 2:05 PM in New York
BIRTHDAY = date(1950, 7, 4)
_KIVY = importlib.util.find_spec("kivy")  # found, not imported (importing Kivy sets up its window machinery)
KIVY_ROBOTO = (
    Path(_KIVY.origin or "").parent / "data" / "fonts" / "Roboto-Regular.ttf" if _KIVY else Path("/-")
)

# What patients read on screen and on paper, per language (CLDR via Babel 2.x).
EXPECTED = {
    "en": ("July 4, 1950", "2:05\u202fPM", "$25.00", "MDY"),
    "es": ("4 de julio de 1950", "2:05\u202fp.m.", "$25.00", "DMY"),
    "zh": ("1950年7月4日", "14:05", "US$25.00", "YMD"),
    "vi": ("4 tháng 7, 1950", "14:05", "25,00\u00a0US$", "DMY"),
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_dates_times_money_and_dob_order(language: str) -> None:
    day, clock, money, order = EXPECTED[language]
    assert l10n.format_date(BIRTHDAY, language) == day
    assert l10n.format_date(datetime(1950, 7, 4, 23, 0, tzinfo=NEW_YORK), language) == day
    assert l10n.format_time(AT, language, NEW_YORK) == clock
    assert l10n.format_money(2500, "USD", language) == money
    assert l10n.date_field_order(language) == order


def test_every_language_the_settings_accept_is_known() -> None:
    assert set(KNOWN_LANGUAGES) == set(l10n.LANGUAGES)
    assert [info.endonym for info in l10n.languages(["en", "es", "zh"])] == ["English", "Español", "中文"]
    assert l10n.language_endonym("vi") == "Tiếng Việt"
    assert l10n.locale_name("es") == "es_US" and l10n.locale_name("zh-Hans") == "zh_Hans_CN"


def test_unknown_languages_use_babel_and_never_fail() -> None:
    fr = l10n.language_info("fr")
    assert (fr.endonym, fr.english_name, fr.locale) == ("Français", "French", "fr")
    assert l10n.format_money(2500, "EUR", "fr") == "25,00\u00a0€"
    assert l10n.format_time(AT, "xx-nonsense", NEW_YORK) == "2:05\u202fPM"  # en_US fallback
    assert l10n.date_field_order("de") == "DMY"


def test_time_zones_and_naive_datetimes() -> None:
    assert l10n.format_time(AT.astimezone(NEW_YORK), "en") == "2:05\u202fPM"  # its own zone by default
    assert l10n.format_time(AT, "en") == "7:05\u202fPM"
    assert l10n.format_datetime(AT, "es", NEW_YORK) == "4/3/2025, 2:05\u202fp.m."
    with pytest.raises(ValueError, match="timezone-aware"):
        l10n.format_time(datetime(2025, 3, 4, 14, 5), "en")


def test_money_is_exact_in_each_currencys_minor_units() -> None:
    assert l10n.format_money(1500, "JPY", "en") == "¥1,500"  # no minor unit
    assert l10n.format_money(1234, "BHD", "en") == "BHD1.234"  # three
    assert l10n.format_money(1, "USD", "en") == "$0.01"
    assert l10n.format_money(123456789, "usd", "en") == "$1,234,567.89"
    assert (
        l10n.format_number(1234567, "es") == "1,234,567" and l10n.format_number(1234567, "vi") == "1.234.567"
    )


def test_printable_has_plain_spaces_only() -> None:
    assert l10n.printable(l10n.format_time(AT, "es", NEW_YORK)) == "2:05 p.m."
    assert l10n.printable(l10n.format_money(2500, "USD", "vi")) == "25,00 US$"


# -- fonts ------------------------------------------------------------------------------------------------
SAMPLES = {
    "en": "Please scan your insurance card. Next Back I need help 2:05 PM $25.00",
    "es": "¿Necesita ayuda? Ñandú, información, pingüino: 4 de julio de 1950, 2:05 p.m.",
    "zh": "请扫描您的保险卡。下一步、返回、我需要帮助！"
    "您的号码是 A-001，时间 14:05，US$25.00，1950年7月4日（星期二）",
    "vi": "Vui lòng quét thẻ bảo hiểm của bạn. Tiếp theo, Quay lại, Tôi cần giúp đỡ. Ngày 4 tháng 7, 1950",
}


def test_chinese_needs_its_font_and_it_covers_chinese_latin_and_every_endonym() -> None:
    font = l10n.font_file("zh")
    assert font is not None and font.name == "wqy-microhei.ttc"  # scripts/setup installs fonts-wqy-microhei
    everything = "".join(SAMPLES.values()) + " · ".join(i.endonym for i in l10n.languages())
    assert l10n.missing_glyphs(everything, font) == set()
    assert l10n.font_file_for_all(["en", "es", "zh"]) == font
    assert l10n.font_file_for_all(["en", "es"]) is None


@pytest.mark.skipif(not KIVY_ROBOTO.is_file(), reason="Kivy (its bundled Roboto) is not installed")
def test_the_default_font_covers_the_latin_languages_but_not_chinese() -> None:
    for language in ("en", "es", "vi"):
        assert l10n.font_file(language) is None
        assert l10n.missing_glyphs(SAMPLES[language], KIVY_ROBOTO) == set(), language
    assert "请" in l10n.missing_glyphs(SAMPLES["zh"], KIVY_ROBOTO)  # the tofu check can fail


def test_a_missing_font_is_reported_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    info = l10n.LANGUAGES["zh"]
    monkeypatch.setitem(l10n.LANGUAGES, "zh", l10n.LanguageInfo(**{**info.__dict__, "fonts": ("/nope.ttc",)}))
    with pytest.raises(l10n.FontMissing, match="/nope.ttc"):
        l10n.font_file("zh")


# -- line breaking ----------------------------------------------------------------------------------------
def cells(limit: int) -> Callable[[str], bool]:
    """A terminal-like measure: CJK characters are two cells wide, others one."""
    return lambda s: sum(2 if ord(c) >= 0x2E80 else 1 for c in s) <= limit


def test_chinese_breaks_between_characters_with_punctuation_kept_in_place() -> None:
    text = "请扫描您的保险卡正面和背面，确保卡片在框内并且没有反光。"
    lines = l10n.wrap_lines(text, cells(26))  # 13 characters a line
    assert "".join(lines) == text
    assert lines[0] == "请扫描您的保险卡正面和背"  # not "…背面" + a line starting with "，"
    assert lines[1].startswith("面，")
    assert all(cells(26)(line) for line in lines)
    assert not any(line[0] in l10n.NO_LINE_START for line in lines)


def test_latin_words_and_numbers_are_never_cut_unless_alone_too_wide() -> None:
    mixed = l10n.wrap_lines("请等候。您的号码是 A-001，时间 14:05", cells(12))
    assert mixed == ["请等候。您的", "号码是", "A-001，时间", "14:05"]  # "A-001" and "14:05" whole
    assert l10n.wrap_lines("Please scan your insurance card", lambda s: len(s) <= 12) == [
        "Please scan",
        "your",
        "insurance",
        "card",
    ]
    assert l10n.wrap_lines("Supercalifragilistic is long", lambda s: len(s) <= 8) == [
        "Supercal",
        "ifragili",
        "stic is",
        "long",
    ]


def test_opening_brackets_stay_with_what_follows_and_newlines_are_kept() -> None:
    assert l10n.wrap_lines("您的号码是（A-001）。请等候。", cells(12)) == [
        "您的号码是",
        "（A-001）。",
        "请等候。",
    ]
    assert l10n.wrap_lines("第一行\n第二行", cells(100)) == ["第一行", "第二行"]
    assert l10n.wrap_lines("", cells(10)) == [""]
