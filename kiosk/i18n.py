"""gettext catalogs for every language the kiosk speaks (DESIGN §10.9: no text in code paths).

Catalogs live as ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``. They are compiled in memory with Babel when
first used, so a clean checkout needs no build step and no ``.mo`` files are committed.
"""

from __future__ import annotations

import gettext
import io
import logging
import threading
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"
SOURCE_LANGUAGE = "en"

_lock = threading.Lock()


def available_languages() -> list[str]:
    """Languages that have a catalog, plus the source language."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted(found | {SOURCE_LANGUAGE})


@cache
def _compiled(language: str) -> gettext.NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        if language != SOURCE_LANGUAGE:
            log.warning("no catalog for language %s; showing source text", language)
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translator(language: str) -> gettext.NullTranslations:
    """The translations for ``language`` ("en", "es", ...); falls back to the source text."""
    with _lock:
        return _compiled(language)


def gettext_for(language: str, message: str) -> str:
    return translator(language).gettext(message)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it (translated later, where it is shown)."""
    return message


def reload_catalogs() -> None:
    """Forget compiled catalogs (tests that edit .po files)."""
    with _lock:
        _compiled.cache_clear()
