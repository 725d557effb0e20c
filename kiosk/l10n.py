"""Locale formatting in one place: dates, times, money, the date-of-birth field order, language names, fonts.

No Kivy here: the screens, the printer's ticket and the speech output all format through these functions,
so what a patient reads on screen, hears and gets on paper agree. Every function takes the kiosk's language
code ("en", "es", "zh", "vi"); :data:`LANGUAGES` maps each to the Babel locale of a US clinic's patient
(``es`` → ``es_US``: "$25.00", "2:05 p.m."; ``zh`` → Simplified Chinese, ``zh_Hans_CN``: "US$25.00",
"14:05", "1950年7月4日"). A code the kiosk does not know is formatted with Babel's own locale of that name,
and as ``en_US`` when Babel has none.

CLDR puts narrow no-break spaces (U+202F) in times and amounts ("2:05\u202fPM"). The screens' fonts have the
glyph; printer code pages do not, so paper goes through :func:`printable`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.dates import get_date_format
from babel.numbers import format_currency, format_decimal, get_currency_precision

log = logging.getLogger(__name__)

Style = Literal["short", "medium", "long", "full"]
DateOrder = Literal["MDY", "DMY", "YMD"]

FALLBACK_LOCALE = "en_US"


@dataclass(frozen=True)
class LanguageInfo:
    code: str  # the kiosk's code: config [kiosk] languages, catalog folder kiosk/locale/<code>/
    locale: str  # Babel/CLDR locale used for formatting
    endonym: str  # the language's name in itself, as the language button shows it
    english_name: str  # for staff screens and logs
    script: str  # ISO 15924: "Latn", "Hans"
    # Font files that cover this language AND Latin (first one installed wins); empty: the UI's default
    # font (Kivy's bundled Roboto) covers it.
    fonts: tuple[str, ...] = ()


#: Every language the kiosk knows (kiosk.settings.KNOWN_LANGUAGES), in the order the language button lists.
LANGUAGES: dict[str, LanguageInfo] = {
    "en": LanguageInfo("en", "en_US", "English", "English", "Latn"),
    "es": LanguageInfo("es", "es_US", "Español", "Spanish", "Latn"),
    "zh": LanguageInfo(
        "zh",
        "zh_Hans_CN",
        "中文",
        "Chinese (Simplified)",
        "Hans",
        fonts=(
            "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian fonts-wqy-microhei (scripts/setup)
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk
        ),
    ),
    "vi": LanguageInfo("vi", "vi_VN", "Tiếng Việt", "Vietnamese", "Latn"),
}


class FontMissing(LookupError):
    """A language needs a font file that is not installed (message: the files looked for)."""


# -- languages ------------------------------------------------------------------------------------------
def language_info(language: str) -> LanguageInfo:
    """The kiosk's facts about ``language``; for an unknown code, what Babel knows (Latin script assumed)."""
    known = LANGUAGES.get(language) or LANGUAGES.get(_base(language))
    if known is not None:
        return known
    loc = babel_locale(language)
    name = loc.get_display_name(loc) or language
    english = loc.get_display_name("en") or language
    return LanguageInfo(language, str(loc), name[:1].upper() + name[1:], english, loc.script or "Latn")


def languages(codes: Iterable[str] | None = None) -> list[LanguageInfo]:
    """The languages ``codes`` (default: all the kiosk knows) in the given order, with their endonyms."""
    return [language_info(code) for code in (LANGUAGES if codes is None else codes)]


def language_endonym(language: str) -> str:
    """ "English", "Español", "中文", "Tiếng Việt": patients look for their own word."""
    return language_info(language).endonym


# -- locales --------------------------------------------------------------------------------------------
def locale_name(language: str) -> str:
    """The Babel locale for formatting in ``language`` ("es" → "es_US")."""
    known = LANGUAGES.get(language) or LANGUAGES.get(_base(language))
    if known is not None:
        return known.locale
    return str(babel_locale(language))


def babel_locale(language: str) -> Locale:
    return _locale(language)


@cache
def _locale(language: str) -> Locale:
    known = LANGUAGES.get(language) or LANGUAGES.get(_base(language))
    name = known.locale if known is not None else language.replace("-", "_")
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        log.warning("no locale data for language %r: formatting as %s", language, FALLBACK_LOCALE)
        return Locale.parse(FALLBACK_LOCALE)


# -- dates, times, money --------------------------------------------------------------------------------
def format_date(day: date | datetime, language: str, style: Style = "long") -> str:
    """ "July 4, 1950" / "4 de julio de 1950" / "1950年7月4日". A datetime is taken at its own date."""
    if isinstance(day, datetime):
        day = day.date()
    return _babel_date(day, format=style, locale=_locale(language))


def format_time(
    moment: datetime, language: str, timezone: tzinfo | None = None, style: Style = "short"
) -> str:
    """ "2:05 PM" / "2:05 p.m." / "14:05" in ``timezone`` (default: the one ``moment`` carries).
    Raises ValueError for a naive datetime: a kiosk never guesses the clinic's time zone."""
    when = _aware(moment, timezone)
    return _babel_time(when, format=style, tzinfo=when.tzinfo, locale=_locale(language))


def format_datetime(
    moment: datetime, language: str, timezone: tzinfo | None = None, style: Style = "short"
) -> str:
    when = _aware(moment, timezone)
    return _babel_datetime(when, format=style, tzinfo=when.tzinfo, locale=_locale(language))


def format_money(minor_units: int, currency: str, language: str) -> str:
    """Cents (or the currency's minor unit: none for JPY, three for BHD) → "$25.00" / "US$25.00".
    Exact: integer minor units through Decimal, never a float."""
    code = currency.upper()
    amount = Decimal(int(minor_units)).scaleb(-get_currency_precision(code))
    return format_currency(amount, code, locale=_locale(language))


def format_number(value: int | Decimal, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


def printable(text: str) -> str:
    """Text for paper: CLDR's (narrow) no-break spaces become plain spaces (printer code pages lack them)."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


# -- the date-of-birth field ------------------------------------------------------------------------------
def date_field_order(language: str) -> DateOrder:
    """The order of the month / day / year boxes, from the locale's short date pattern (CLDR):
    en_US "M/d/yy" → MDY, es_US "d/M/y" → DMY, zh "y/M/d" → YMD, vi "d/M/yy" → DMY."""
    return _date_order(locale_name(language))


@cache
def _date_order(locale: str) -> DateOrder:
    pattern = get_date_format("short", locale=_locale_for_name(locale)).pattern
    unquoted = re.sub(r"'[^']*'", "", pattern)
    positions = {part: unquoted.find(letter) for part, letter in (("Y", "y"), ("M", "M"), ("D", "d"))}
    if min(positions.values()) < 0:
        return "MDY"
    order = "".join(sorted(positions, key=positions.__getitem__))
    return order if order in ("MDY", "DMY", "YMD") else "MDY"  # type: ignore[return-value]


def _locale_for_name(name: str) -> Locale:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


# -- fonts ----------------------------------------------------------------------------------------------
def font_file(language: str) -> Path | None:
    """The font file the screens need for ``language`` (covering it and Latin), or None when the UI's
    default font covers it. Raises FontMissing when the language needs a font that is not installed."""
    info = language_info(language)
    if not info.fonts:
        return None
    for candidate in info.fonts:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FontMissing(
        f"no font for {info.english_name} ({info.code}): install one of {', '.join(info.fonts)}"
    )


def font_file_for_all(codes: Sequence[str]) -> Path | None:
    """One font for text that mixes these languages (the language button: "English · Español · 中文"):
    the first special font any of them needs (each covers Latin too), else None (the default font)."""
    for code in codes:
        path = font_file(code)
        if path is not None:
            return path
    return None


def missing_glyphs(text: str, font: Path | str, index: int = 0) -> set[str]:
    """The characters of ``text`` that ``font`` draws as its "missing glyph" box (tofu); whitespace and
    control characters are not checked. Uses Pillow with the same TrueType file Kivy's SDL2_ttf loads."""
    from PIL import ImageFont

    face = ImageFont.truetype(str(font), 40, index=index)
    tofu = face.getmask("\U0010fffd")  # a noncharacter: no font draws it
    tofu_key = (tofu.size, bytes(tofu))
    missing = set()
    for ch in set(text):
        if ch.isspace() or not ch.isprintable():
            continue
        mask = face.getmask(ch)
        if (mask.size, bytes(mask)) == tofu_key:
            missing.add(ch)
    return missing


# -- line breaking for scripts without spaces ---------------------------------------------------------------
# Kivy wraps at spaces only; a run without spaces (all of Chinese) is cut wherever the line is full: inside
# a Latin word next to Chinese ("Engli|sh") and before a comma (a line that starts with "，"). wrap_lines
# breaks between Chinese characters, never inside a Latin word or number, and keeps punctuation where
# Chinese typesetting wants it (simple kinsoku: no line starts with a closing mark nor ends with an opening).
NO_LINE_START = frozenset("，。、！？：；）」』】》〉’”…·%,.!?:;)]}")
NO_LINE_END = frozenset("（「『【《〈‘“([{$")


def wrap_lines(text: str, fits: Callable[[str], bool]) -> list[str]:
    """``text`` broken into lines that each ``fits`` (the UI measures with the label's font: width in px).
    Explicit newlines are kept; a single word too wide for a line is cut by characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, fits))
    return lines


def _wrap_paragraph(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    lines: list[str] = []
    line = ""
    for unit in _units(paragraph):
        if line and not fits((line + unit).rstrip()):
            lines.append(line.rstrip())
            line = ""
        line = line + unit if line else unit.lstrip()
        while len(line.rstrip()) > 1 and not fits(line.rstrip()):  # one word wider than the line: cut it
            body = line.rstrip()
            cut = next((i for i in range(len(body) - 1, 0, -1) if fits(body[:i])), 1)
            lines.append(body[:cut])
            line = line[cut:]
    lines.append(line.rstrip())
    return lines


# CJK characters, their punctuation and the full-width forms
_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_UNIT = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+|\\s+")


def _units(paragraph: str) -> list[str]:
    """Unbreakable pieces: a Latin word or number with its trailing spaces, one CJK character; punctuation
    glued to its neighbour (closing marks to the piece before, opening marks to the piece after)."""
    pieces: list[str] = []
    for piece in _UNIT.findall(paragraph):
        last = pieces[-1] if pieces else ""
        glued = bool(last) and not last[-1].isspace()
        if (last and piece.isspace()) or (glued and (piece[0] in NO_LINE_START or last[-1] in NO_LINE_END)):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return pieces


# -- internals ------------------------------------------------------------------------------------------
def _aware(moment: datetime, timezone: tzinfo | None) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    return moment.astimezone(timezone) if timezone is not None else moment


def _base(language: str) -> str:
    return language.replace("-", "_").split("_")[0].lower()
