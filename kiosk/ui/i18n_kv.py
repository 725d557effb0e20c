"""The current language for the Kivy UI, observable from kv so every label re-translates on a switch.

Use:
- kv:      ``#:import tr kiosk.ui.i18n_kv.tr`` then ``text: tr._('I need help')``.
  kv sees the attribute access ``tr._`` and binds the rule to it; :class:`Translator` routes that binding to
  its ``lang`` property, so the rule is re-evaluated (re-translated) when the language changes. Formatting
  works as usual: ``text: tr._('{n} seconds').format(n=root.remaining)``.
- Python:  ``from kiosk.ui.i18n_kv import _`` then ``_('Start')``. Text set from Python is not re-evaluated
  by itself: bind to ``tr`` (``tr.bind(lang=callback)``) or set it from kv.
- Switch:  ``set_language("es")`` (the app calls it when the flow reports the patient's language;
  ``reset_language()`` on session reset).

Catalogs come from :mod:`kiosk.i18n` (gettext ``.po`` files compiled in memory). Message ids are the English
source text. Only this module and kiosk.i18n know how strings are translated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from babel import Locale
from kivy.event import EventDispatcher
from kivy.properties import StringProperty

from kiosk.i18n import SOURCE_LANGUAGE, available_languages, translator

log = logging.getLogger(__name__)

# Languages whose script Roboto does not cover get their font here (e.g. {"zh": "NotoSansCJK"});
# the font must be registered with kivy.core.text.LabelBase first.
FONT_FOR_LANGUAGE: dict[str, str] = {}
DEFAULT_FONT = "Roboto"


class Translator(EventDispatcher):
    """Holds the UI language; ``tr._(msgid)`` translates and, in kv, re-evaluates on a language change."""

    lang = StringProperty(SOURCE_LANGUAGE)

    def _(self, message: str) -> str:
        return translator(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translator(self.lang).ngettext(singular, plural, n)

    # kv binds ``tr._`` by calling fbind("_", ...): route that to ``lang``.
    def fbind(self, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return super().fbind("lang" if name == "_" else name, func, *args, **kwargs)

    def funbind(self, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return super().funbind("lang" if name == "_" else name, func, *args, **kwargs)

    def unbind_uid(self, name: str, uid: int) -> Any:
        return super().unbind_uid("lang" if name == "_" else name, uid)


tr = Translator()


def _(message: str) -> str:
    """Translate ``message`` (an English msgid) into the current UI language."""
    return tr._(message)


def set_language(lang: str) -> None:
    """Switch the UI language; every kv rule using ``tr._(...)`` refreshes at once."""
    from kiosk.ui.theme import theme

    theme.font_name = FONT_FOR_LANGUAGE.get(lang, DEFAULT_FONT)
    tr.lang = lang
    log.info("ui language %s", lang)


def reset_language() -> None:
    set_language(SOURCE_LANGUAGE)


def language_endonym(lang: str) -> str:
    """The language's own name, capitalized: "English", "Español" (patients look for their own word)."""
    try:
        name = Locale.parse(lang).get_display_name(lang) or lang
    except (ValueError, LookupError):
        return lang
    return name[:1].upper() + name[1:]


def languages_label(languages: list[str] | None = None) -> str:
    """ "English · Español": the text of the header's language button (readable in every language)."""
    langs = languages if languages is not None else available_languages()
    return " · ".join(language_endonym(code) for code in langs)
