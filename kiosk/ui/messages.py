"""Message keys from the flow (errors, desk reasons) → the words a patient reads.

The flow never builds prose (DESIGN §3): it returns keys such as ``"card_declined"``. This module owns the
English source text for every key, marked with ``N_`` so ``pybabel extract`` finds it; screens translate
it at display time with :func:`kiosk.ui.messages.translate` (the current UI language).

Wording rules: short sentences, no blame, and always a way forward — try again, another way, or the front
desk, which already has the patient's details.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from kiosk.i18n import N_, gettext_for

log = logging.getLogger(__name__)

#: Shown whenever nothing more specific exists. Always offers the desk.
FALLBACK = N_("Something went wrong on our side. Please try again, or see the front desk — we have your details.")

DESK_WAY_FORWARD = N_("Please see the front desk — we have your details.")

#: Error keys (``Show.errors`` values) that mean the same on every field.
ERRORS: dict[str, str] = {
    # identify / identify_dob
    "required": N_("Please fill this in."),
    "invalid_date": N_("That date does not look right. Please check the month, day and year."),
    "future_date": N_("That date is in the future. Please enter your date of birth."),
    "not_found": N_(
        "We could not find you with that name and date of birth. Please check the spelling and try again,"
        " or tap “I need help”."
    ),
    "backend_unavailable": N_(
        "We cannot reach our records right now. Please try again in a moment, or see the front desk."
    ),
    "barcode_not_recognized": N_(
        "That code is not one we can use. Please scan the barcode on the back of your ID or the code on your"
        " appointment reminder, or tap “Type my name instead”."
    ),
    "id_unreadable": N_("We could not read your ID. Please try again, or tap “Type my name instead”."),
    "token_invalid": N_("We could not use that reminder code. Please tap “Type my name instead”."),
    "token_expired": N_("That reminder code has expired. Please tap “Type my name instead”."),
    "dob_mismatch": N_("That date of birth does not match our records. Please try again."),
    # confirm_appointment
    "choose_appointment": N_("Please tap the appointment you are here for."),
    # demographics
    "invalid_phone": N_("Please enter a 10-digit phone number, for example 555 123 4567."),
    "invalid_email": N_("Please check the email address, for example name@example.com."),
    "invalid_postal_code": N_("Please enter a 5-digit ZIP code."),
    "invalid_state": N_("Please enter the 2-letter state, for example NY."),
    # insurance
    "invalid_member_id": N_("Please check the member ID. It is printed on the front of your card."),
    "invalid_rx_bin": N_("The RxBIN has 6 digits. Please check it, or leave it empty."),
    "no_coverage_on_file": N_(
        "We do not have insurance on file for you. Please enter your card, or choose another option."
    ),
    # forms
    "invalid_integer": N_("Please enter a whole number."),
    "invalid_decimal": N_("Please enter a number."),
    "too_long": N_("That answer is too long. Please shorten it."),
    "invalid_choice": N_("Please choose one of the options."),
    # consents
    "signature_missing": N_("Please sign in the box with your finger."),
    "signature_too_short": N_("Please sign again a little larger in the box."),
    # payment
    "card_declined": N_("The card was not accepted. You can try another card, or pay at the front desk."),
    "payment_cancelled": N_("The payment was cancelled. You can try again, or pay at the front desk."),
    "terminal_timeout": N_("The card reader did not answer in time. You can try again, or pay at the front desk."),
    "terminal_error": N_("The card reader is not working right now. Please pay at the front desk."),
    "terminal_offline": N_("The card reader is not working right now. Please pay at the front desk."),
    # ticket
    "printer_failed": N_(
        "Our printer is not working right now. Please remember your number. We have let the staff know."
    ),
    "storage_error": N_(
        "We could not save your check-in on this kiosk. Please see the front desk — we have your details."
    ),
    # anything
    "invalid_input": N_("Sorry, that did not work. Please try again."),
    "backend_rejected": FALLBACK,
    "port_error": FALLBACK,
}

#: More specific wording for ``(field, key)`` pairs; falls back to ``ERRORS[key]``.
FIELD_ERRORS: dict[tuple[str, str], str] = {
    ("given", "required"): N_("Please enter your first name."),
    ("family", "required"): N_("Please enter your last name."),
    ("birth_date", "required"): N_("Please enter your date of birth."),
    ("phone", "required"): N_("Please enter your phone number."),
    ("line1", "required"): N_("Please enter your street address."),
    ("city", "required"): N_("Please enter your city."),
    ("state", "required"): N_("Please enter your state."),
    ("postal_code", "required"): N_("Please enter your ZIP code."),
    ("payer_name", "required"): N_("Please enter the name of your insurance company."),
    ("member_id", "required"): N_("Please enter your member ID. It is printed on the front of your card."),
    ("signature", "required"): N_("Please sign in the box with your finger."),
}

#: Why the patient is asked to see the desk (``ToDesk.reason``, kiosk.flow.types.DeskReason).
DESK_REASONS: dict[str, str] = {
    "not_found": N_("We could not find your record on the kiosk."),
    "ambiguous_identity": N_("We need to make sure we have the right record for you."),
    "no_appointment": N_("We could not find an appointment for you today."),
    "too_early": N_("You are early for your appointment. The front desk will check you in."),
    "late": N_("Your appointment time has passed. The front desk will help you."),
    "visit_type_needs_desk": N_("This type of visit is checked in at the front desk."),
    "provider_needs_desk": N_("Your provider asks that you check in at the front desk."),
    "balance_due": N_("The front desk would like a quick word with you about your account."),
    "already_checked_in": N_("You are already checked in. Please have a seat."),
    "backend_unavailable": N_("Our records are not available right now."),
    "consent_declined": N_("The front desk can answer your questions about the forms."),
    "patient_request": N_("Of course. The front desk will help you."),
    "id_refused": N_("We could not use your ID on the kiosk."),
    "storage_error": N_("We could not save your check-in on this kiosk."),
}

#: Why an appointment in the list cannot be chosen here (``appointments[].reason``).
APPOINTMENT_REASONS: dict[str, str] = {
    "": "",
    "too_early": N_("Too early to check in — please come back closer to the time."),
    "late": N_("Please see the front desk for this one."),
    "already_checked_in": N_("Already checked in."),
}

#: Printer failure reasons (``PrinterFailure.reason``, device health details) for staff-facing hints.
PRINTER_REASONS: dict[str, str] = {
    "out_of_paper": N_("The printer is out of paper."),
    "offline": N_("The printer is offline."),
    "cover_open": N_("The printer cover is open."),
    "error": N_("The printer is not working."),
}


def _current_language() -> str:
    # Imported lazily: i18n_kv pulls in Kivy, and this module stays importable in plain tests.
    try:
        from kiosk.ui.i18n_kv import tr
    except ImportError:  # pragma: no cover - Kivy missing
        return "en"
    return str(tr.lang or "en")


def translate(msgid: str, language: str | None = None) -> str:
    """``msgid`` in ``language`` (default: the current UI language)."""
    if not msgid:
        return ""
    return gettext_for(language or _current_language(), msgid)


def error_msgid(key: str, field: str = "base") -> str:
    """The source text for an error key on a field; a kind fallback for unknown keys."""
    specific = FIELD_ERRORS.get((field, key))
    if specific:
        return specific
    text = ERRORS.get(key)
    if text is None:
        log.warning("no message for error key %r (field %s)", key, field)
        return FALLBACK
    return text


def error_text(key: str, field: str = "base", language: str | None = None) -> str:
    return translate(error_msgid(key, field), language)


#: Questionnaire answers: a question, not a box to fill.
FORM_ERRORS: dict[str, str] = {
    "required": N_("Please answer this question."),
}


def form_error_text(key: str, language: str | None = None) -> str:
    """An error on a Questionnaire item (``errors`` of the forms step are keyed by link_id)."""
    return translate(FORM_ERRORS.get(key) or error_msgid(key, "answer"), language)


def errors_text(errors: Mapping[str, str], language: str | None = None) -> dict[str, str]:
    """Every error of a ``Show`` translated, keyed like ``errors``."""
    return {f: error_text(k, f, language) for f, k in errors.items()}


def desk_msgid(reason: str) -> str:
    text = DESK_REASONS.get(reason)
    if text is None:
        log.warning("no message for desk reason %r", reason)
        return DESK_WAY_FORWARD
    return text


def desk_text(reason: str, language: str | None = None) -> str:
    return translate(desk_msgid(reason), language)


def appointment_reason_text(reason: str, language: str | None = None) -> str:
    return translate(APPOINTMENT_REASONS.get(reason, ""), language)


def all_keys() -> dict[str, list[str]]:
    """Every key this module knows, by table (tests compare it with the flow's keys)."""
    return {
        "errors": sorted(ERRORS),
        "desk_reasons": sorted(DESK_REASONS),
        "appointment_reasons": sorted(k for k in APPOINTMENT_REASONS if k),
        "printer_reasons": sorted(PRINTER_REASONS),
    }
