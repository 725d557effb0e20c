"""Welcome and identification: name + DOB, an ID barcode (AAMVA) or a reminder QR + DOB.

Nothing about any patient is shown before an exact match. A failed match uses one attempt; the last one
sends the patient to the desk. A back-end that cannot be reached uses no attempt.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from . import aamva, rules
from .base import FlowBase
from .matching import exact_matches
from .reminder import TokenError, looks_like_token, verify_token
from .results import Result, Step
from .types import DeskReason, Patient

log = logging.getLogger("kiosk.flow.machine")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NAME_MAX = 100


def clean_name(value: Any) -> str:
    return " ".join(value.split())[:_NAME_MAX] if isinstance(value, str) else ""


def parse_birth_date(raw: Any, today: date) -> tuple[date | None, str]:
    """ "YYYY-MM-DD" → (date, "") or (None, "required" | "invalid_date" | "future_date")."""
    if not isinstance(raw, str) or not raw.strip():
        return None, "required"
    text = raw.strip()
    if not _ISO_DATE.fullmatch(text):
        return None, "invalid_date"
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None, "invalid_date"
    if parsed.year < 1880:
        return None, "invalid_date"
    if parsed > today:
        return None, "future_date"
    return parsed, ""


class IdentifySteps(FlowBase):
    def _on_welcome(self, action: str, ui: Mapping[str, Any]) -> Result:
        if action == "language":
            language = ui.get("language")
            if not isinstance(language, str) or language not in self._config.languages:
                return self._show(Step.WELCOME, {"base": "invalid_input"})
            self.session.language = language
            return self._show(Step.WELCOME)
        if action == "start":
            return self._show(Step.IDENTIFY)
        if action == "barcode":
            return self._on_identify(action, ui)
        return self._show(Step.WELCOME, {"base": "invalid_input"})

    def _mark_started(self) -> None:
        if self.session.started_at is None:
            self.session.started_at = self._now()

    def _on_identify(self, action: str, ui: Mapping[str, Any]) -> Result:
        if action == "name_dob":
            given, family = clean_name(ui.get("given")), clean_name(ui.get("family"))
            birth, birth_error = parse_birth_date(ui.get("birth_date"), self._today())
            errors = {}
            if not given:
                errors["given"] = "required"
            if not family:
                errors["family"] = "required"
            if birth_error:
                errors["birth_date"] = birth_error
            if errors or birth is None:
                return self._show(Step.IDENTIFY, errors)
            self._mark_started()
            return self._lookup(given, family, birth)
        if action == "barcode":
            text = ui.get("text")
            if not isinstance(text, str):
                return self._show(Step.IDENTIFY, {"base": "invalid_input"})
            self._mark_started()
            return self._barcode(text)
        return self._show(Step.IDENTIFY, {"base": "invalid_input"})

    def _barcode(self, text: str) -> Result:
        cfg = self._config
        if looks_like_token(text):
            if not cfg.reminder_secret:
                return self._show(Step.IDENTIFY, {"base": "barcode_not_recognized"})
            now = self._now()
            try:
                token = verify_token(cfg.reminder_secret, text, now)
            except TokenError as exc:
                return self._show(Step.IDENTIFY, {"base": exc.key})
            if token.expires_at > (now + timedelta(days=cfg.reminder_max_age_days)).timestamp():
                return self._show(Step.IDENTIFY, {"base": "token_invalid"})  # lives longer than allowed
            self.session.token = token
            return self._show(Step.IDENTIFY_DOB)
        if aamva.looks_like_aamva(text):
            try:
                document = aamva.parse(text, today=self._today())  # a future date of birth is refused
            except aamva.AamvaError as exc:
                log.info("ID barcode unreadable (%s)", exc.reason)
                return self._show(Step.IDENTIFY, {"base": "id_unreadable"})
            if document.expired:
                log.info("ID document expired: accepted for identification")  # flagged, never refused
            return self._lookup(document.given, document.family, document.birth_date)
        return self._show(Step.IDENTIFY, {"base": "barcode_not_recognized"})

    def _lookup(self, given: str, family: str, birth: date) -> Result:
        try:
            found = self._directory.find_patients(family, given, birth)
            matches = exact_matches(found, given, family, birth)
        except Exception as exc:
            log.warning("patient search failed (%s)", type(exc).__name__)
            return self._show(Step.IDENTIFY, {"base": "backend_unavailable"})
        if len(matches) > 1:
            return self._desk(DeskReason.AMBIGUOUS_IDENTITY)
        if not matches:
            return self._attempt_failed(Step.IDENTIFY, "base", "not_found")
        return self._identified(matches[0])

    def _attempt_failed(self, step: Step, key: str, error: str) -> Result:
        self.session.attempts_left -= 1
        if self.session.attempts_left <= 0:
            return self._desk(DeskReason.NOT_FOUND)
        return self._show(step, {key: error})

    def _on_identify_dob(self, action: str, ui: Mapping[str, Any]) -> Result:
        token = self.session.token
        if action != "dob" or token is None:
            return self._show(Step.IDENTIFY_DOB, {"base": "invalid_input"})
        birth, error = parse_birth_date(ui.get("birth_date"), self._today())
        if birth is None:
            return self._show(Step.IDENTIFY_DOB, {"birth_date": error})
        try:
            patient = self._directory.get_patient(token.patient_id)
        except Exception as exc:
            log.warning("patient read failed (%s)", type(exc).__name__)
            return self._show(Step.IDENTIFY_DOB, {"base": "backend_unavailable"})
        if patient is None or patient.birth_date != birth:
            return self._attempt_failed(Step.IDENTIFY_DOB, "birth_date", "dob_mismatch")
        return self._identified(patient)

    def _identified(self, patient: Patient) -> Result:
        """Exactly one patient matched: read today's appointments and apply the practice's rules."""
        s = self.session
        s.patient, s.token = patient, None
        if not s.checkin_id:
            s.checkin_id = self._new_id()
        log.info("checkin %s: patient identified", s.checkin_id)
        now = self._now()
        try:
            appointments = self._directory.appointments_on(patient.id, self._today())
        except Exception as exc:
            log.warning("checkin %s: appointment lookup failed (%s)", s.checkin_id, type(exc).__name__)
            return self._desk(DeskReason.BACKEND_UNAVAILABLE)
        s.candidates = rules.candidates(appointments, now, self._config)
        reason = rules.blocking_reason(patient, s.candidates, now, self._config)
        if reason is not None:
            return self._desk(reason)
        return self._show(Step.CONFIRM_APPOINTMENT)
