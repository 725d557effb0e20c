"""Every string a patient can see has a Spanish translation, and every message key has words.

The msgids are extracted from the code exactly as ``scripts/extract-messages.sh`` does (kiosk/locale/babel.cfg:
``_`` and ``N_`` in kiosk/**.py, kiosk/**.kv and devices/**.py), so a new string without a translation fails
here, not in front of a patient.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kiosk.flow.ports import PortError, PrinterFailure, Rejected, ServiceUnavailable, StorageError
from kiosk.flow.types import DeskReason
from kiosk.i18n import LOCALE_DIR, available_languages, gettext_for, reload_catalogs
from kiosk.ui import messages

REPO = Path(__file__).resolve().parents[2]
CFG = LOCALE_DIR / "babel.cfg"
LANGUAGES = [lang for lang in available_languages() if lang != "en"]


def code_msgids() -> dict[str, str]:
    """msgid → where it was found (first place)."""
    with CFG.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(CFG))
    keywords = {**DEFAULT_KEYWORDS, "_": None, "N_": None}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO),
        method_map,
        options_map,
        keywords=keywords,
        directory_filter=lambda d: (
            not any(part.startswith((".", "_")) or part in ("node_modules", "tests") for part in Path(d).parts)
        ),
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def msgids() -> dict[str, str]:
    found = code_msgids()
    assert len(found) > 100  # the extraction itself works (screens, widgets, messages, ticket)
    return found


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_spanish_is_offered() -> None:
    assert "es" in LANGUAGES


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_msgid_in_the_code_has_a_translation(lang: str, msgids: dict[str, str]) -> None:
    cat = catalog(lang)
    missing = []
    for msgid, where in sorted(msgids.items(), key=lambda kv: kv[1]):
        message = cat.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} strings without a {lang} translation (run scripts/extract-messages.sh, then translate "
        f"kiosk/locale/{lang}/LC_MESSAGES/kiosk.po):\n" + "\n".join(missing)
    )


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_placeholders_and_markup(lang: str) -> None:
    for message in catalog(lang):
        if not message.id or not message.string:
            continue
        assert _fields(message.id) == _fields(message.string), message.id
        assert message.string.count("[") == message.id.count("["), message.id  # Kivy markup tags


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalog_translates(lang: str) -> None:
    reload_catalogs()
    assert gettext_for(lang, "I need help") != "I need help"
    assert gettext_for(lang, "Start check-in") != "Start check-in"
    assert gettext_for(lang, "Your number") != "Your number"  # the printed ticket (devices/printer)


def test_spanish_uses_usted() -> None:
    """A clinic speaks formally: no "tú" forms in the Spanish catalog."""
    informal = re.compile(r"\b(tú|tu|tienes|puedes|quieres|eres|estás|toca|escribe|firmas)\b", re.IGNORECASE)
    offenders = [m.string for m in catalog("es") if m.id and informal.search(m.string or "")]
    assert offenders == []


# -- message keys --------------------------------------------------------------------------------------------
#: Error keys named in kiosk/flow/STEPS.md, per step.
STEPS_ERROR_KEYS = {
    "required", "invalid_date", "future_date", "not_found", "backend_unavailable", "barcode_not_recognized",
    "id_unreadable", "token_invalid", "token_expired", "dob_mismatch", "choose_appointment", "invalid_phone",
    "invalid_email", "invalid_postal_code", "invalid_state", "invalid_member_id", "no_coverage_on_file",
    "invalid_integer", "invalid_decimal", "too_long", "invalid_choice", "signature_missing",
    "signature_too_short", "card_declined", "payment_cancelled", "terminal_timeout", "terminal_error",
    "printer_failed", "storage_error", "invalid_input",
}  # fmt: skip


def test_steps_md_error_keys_are_the_ones_this_test_knows() -> None:
    text = (REPO / "kiosk" / "flow" / "STEPS.md").read_text()
    for key in STEPS_ERROR_KEYS:
        assert f'"{key}"' in text, key


def test_every_error_key_and_desk_reason_has_words() -> None:
    port_keys = {cls.key for cls in (PortError, ServiceUnavailable, Rejected, StorageError, PrinterFailure)}
    for key in STEPS_ERROR_KEYS | port_keys:
        assert key in messages.ERRORS, key
    for reason in DeskReason:
        assert str(reason) in messages.DESK_REASONS, reason
    for reason in ("too_early", "late", "already_checked_in"):
        assert messages.APPOINTMENT_REASONS[reason]


def test_unknown_keys_still_offer_a_way_forward() -> None:
    assert "front desk" in messages.error_text("some_new_key", language="en")
    assert "front desk" in messages.desk_text("some_new_reason", language="en")
    assert "recepción" in messages.error_text("some_new_key", language="es")


def test_every_message_offers_a_way_forward() -> None:
    """Errors never end in a dead end: try again, another way, or the front desk."""
    ways = ("try again", "front desk", "tap", "please", "you can")
    for key, text in messages.ERRORS.items():
        assert any(w in text.lower() for w in ways), key
