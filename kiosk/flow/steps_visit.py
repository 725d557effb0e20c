"""The steps after identification: appointment, demographics, insurance, forms, consents, payment, ticket."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import finish, rules
from .base import FlowBase
from .intake import validate_camera_insurance, validate_demographics, validate_manual_insurance, validate_signature
from .questionnaire import Form
from .results import Done, Result, Step
from .types import CoverageChoice, DeskReason, InsuranceResult, PaymentRequest, PaymentStatus, SignedConsent

log = logging.getLogger("kiosk.flow.machine")

_PAYMENT_ERRORS = {
    PaymentStatus.DECLINED: "card_declined",
    PaymentStatus.CANCELLED: "payment_cancelled",
    PaymentStatus.TIMEOUT: "terminal_timeout",
    PaymentStatus.ERROR: "terminal_error",
}


class VisitSteps(FlowBase):
    # -- confirm_appointment ---------------------------------------------------------------------------
    def _on_confirm(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        if action == "not_me":
            return self.reset()
        if action != "confirm":
            return self._show(Step.CONFIRM_APPOINTMENT, {"base": "invalid_input"})
        wanted = ui.get("appointment_id")
        chosen = next((c for c in s.candidates if c.selectable and c.appointment.id == wanted), None)
        if chosen is None:
            return self._show(Step.CONFIRM_APPOINTMENT, {"base": "choose_appointment"})
        s.appointment = chosen.appointment
        desk = rules.desk_reason_for(chosen.appointment, self._config)
        if desk is not None:
            return self._desk(desk)
        if s.loaded_for != chosen.appointment.id and not self._load_visit_data():
            return self._desk(DeskReason.BACKEND_UNAVAILABLE)
        return self._forward(Step.CONFIRM_APPOINTMENT)

    def _load_visit_data(self) -> bool:
        """Coverage, Questionnaires and consents for the chosen visit: read once, here."""
        s, steps = self.session, self._config.steps
        assert s.patient is not None and s.appointment is not None
        try:
            coverage = self._directory.coverage_for(s.patient.id) if steps.insurance else None
            questionnaires = (
                self._directory.questionnaires_due(s.patient, s.appointment) if steps.forms else []
            )
            documents = list(self._directory.consents_due(s.patient, s.appointment)) if steps.consents else []
            simple = self._config.simple_forms
            forms = [Form.from_json(q, simple=simple) for q in questionnaires if isinstance(q, Mapping)]
        except Exception as exc:
            log.warning("checkin %s: visit data lookup failed (%s)", s.checkin_id, type(exc).__name__)
            return False
        for form in s.forms:
            form.wipe()
        s.coverage_on_file = coverage
        s.forms, s.forms_completed_at = forms, {}
        s.consent_documents, s.consents = documents, []
        s.loaded_for = s.appointment.id
        return True

    # -- demographics, insurance -----------------------------------------------------------------------
    def _on_demographics(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        assert s.patient is not None
        if action == "confirm":
            s.demographics = None
            return self._forward(Step.DEMOGRAPHICS)
        if action == "save":
            updated, errors = validate_demographics(ui.get("values"), s.patient.demographics)
            if errors or updated is None:
                return self._show(Step.DEMOGRAPHICS, errors)
            s.demographics = None if updated == s.patient.demographics else updated
            return self._forward(Step.DEMOGRAPHICS)
        return self._show(Step.DEMOGRAPHICS, {"base": "invalid_input"})

    def _on_insurance(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        if action == "same":
            if s.coverage_on_file is None:
                return self._show(Step.INSURANCE, {"base": "no_coverage_on_file"})
            s.insurance = InsuranceResult(CoverageChoice.UNCHANGED, s.coverage_on_file)
        elif action == "manual":
            coverage, errors = validate_manual_insurance(ui)
            if errors or coverage is None:
                return self._show(Step.INSURANCE, errors)
            s.insurance = InsuranceResult(CoverageChoice.UPDATED, coverage)
        elif action == "camera":
            coverage, images, errors = validate_camera_insurance(ui)
            if errors or coverage is None:
                return self._show(Step.INSURANCE, errors)
            s.insurance = InsuranceResult(CoverageChoice.UPDATED, coverage, images)
        elif action == "self_pay":
            s.insurance = InsuranceResult(CoverageChoice.SELF_PAY, None)
        elif action == "no_card":
            s.insurance = InsuranceResult(CoverageChoice.NO_CARD, None)
        else:
            return self._show(Step.INSURANCE, {"base": "invalid_input"})
        return self._forward(Step.INSURANCE)

    # -- forms ---------------------------------------------------------------------------------------
    def _enter_forms(self, forward: bool) -> Result | None:
        s = self.session
        order = range(len(s.forms)) if forward else range(len(s.forms) - 1, -1, -1)
        for index in order:
            form = s.forms[index]
            if form.first_page() if forward else form.last_page():
                s.form_index = index
                return self._show(Step.FORMS)
        return None

    def _on_forms(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        form = s.forms[s.form_index]
        if action not in ("next", "update"):
            return self._show(Step.FORMS, {"base": "invalid_input"})
        errors = form.apply(ui.get("answers", {}))
        if errors or action == "update":
            return self._show(Step.FORMS, errors)
        if form.new_items_since_render():
            return self._show(Step.FORMS)  # answers switched on questions the patient has not seen
        errors = form.validate_page()
        if errors:
            return self._show(Step.FORMS, errors)
        if form.next_page():
            return self._show(Step.FORMS)
        s.forms_completed_at[s.form_index] = self._now()
        for index in range(s.form_index + 1, len(s.forms)):
            if s.forms[index].first_page():
                s.form_index = index
                return self._show(Step.FORMS)
        return self._forward(Step.FORMS)

    def _forms_back(self) -> Result:
        s = self.session
        if s.forms[s.form_index].previous_page():
            return self._show(Step.FORMS)
        for index in range(s.form_index - 1, -1, -1):
            if s.forms[index].last_page():
                s.form_index = index
                return self._show(Step.FORMS)
        return self._backward(Step.FORMS)

    # -- consents ------------------------------------------------------------------------------------
    def _enter_consents(self, forward: bool) -> Result | None:
        s = self.session
        if not (self._config.steps.consents and s.consent_documents):
            return None
        s.consent_index = 0 if forward else len(s.consent_documents) - 1
        if forward:
            s.consents = []
        return self._show(Step.CONSENTS)

    def _on_consents(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        if action == "decline":
            return self._desk(DeskReason.CONSENT_DECLINED)
        if action != "sign":
            return self._show(Step.CONSENTS, {"base": "invalid_input"})
        signature, errors = validate_signature(ui, self._now())
        if errors or signature is None:
            return self._show(Step.CONSENTS, errors)
        document = s.consent_documents[s.consent_index]
        s.consents = [c for c in s.consents if c.document.id != document.id]
        s.consents.append(SignedConsent(document, signature))
        if s.consent_index + 1 < len(s.consent_documents):
            s.consent_index += 1
            return self._show(Step.CONSENTS)
        return self._forward(Step.CONSENTS)

    # -- payment -------------------------------------------------------------------------------------
    def _enter_payment(self) -> Result | None:
        s = self.session
        if s.payment is not None and s.payment.status == PaymentStatus.APPROVED:
            return None  # never charge twice
        s.amount, s.amount_kind = rules.amount_due(s.appointment, s.insurance, self._config)
        s.payment_deferred = None
        if s.amount is None or s.amount.cents == 0:
            return None
        if self._terminal is None or not self._config.steps.payment:
            s.payment_deferred = s.amount  # owed today; the desk collects it
            return None
        return self._show(Step.PAYMENT)

    def _on_payment(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        if action == "pay_at_desk":
            s.payment_deferred = s.amount
            return self._forward(Step.PAYMENT)
        if action != "pay":
            return self._show(Step.PAYMENT, {"base": "invalid_input"})
        if s.payment is not None and s.payment.status == PaymentStatus.APPROVED:
            return self._forward(Step.PAYMENT)
        if self._terminal is None or s.amount is None:
            return self._show(Step.PAYMENT, {"base": "terminal_error"})
        s.payment_attempt += 1
        description = "Self-pay" if s.amount_kind == rules.KIND_SELF_PAY else "Co-pay"
        request = PaymentRequest(amount=s.amount, reference=s.checkin_id, description=description)
        try:
            result = self._terminal.charge(request)
        except Exception as exc:
            log.error("checkin %s: terminal failed (%s)", s.checkin_id, type(exc).__name__)
            return self._show(Step.PAYMENT, {"base": "terminal_error"})
        log.info("checkin %s: payment attempt %d -> %s", s.checkin_id, s.payment_attempt, result.status)
        if result.status == PaymentStatus.APPROVED:
            s.payment, s.payment_deferred = result, None
            return self._forward(Step.PAYMENT)
        return self._show(Step.PAYMENT, {"base": _PAYMENT_ERRORS.get(result.status, "terminal_error")})

    # -- ticket --------------------------------------------------------------------------------------
    def _finish(self) -> Result:
        """Take the queue number (once), build and store the record, print; Show(ticket) or Done."""
        s, cfg = self.session, self._config
        now = self._now()
        if cfg.steps.ticket and not s.queue_number:
            s.queue_number = finish.take_number(self._queue, now, cfg, s.checkin_id)
        s.record = finish.build_record(s, cfg, now)
        s.stored = finish.store(self._sink, s.record)
        if not cfg.steps.ticket:
            return Done(finish.summary(s, cfg)) if s.stored else self._desk(DeskReason.STORAGE_ERROR)
        failed = False
        if not s.printed:
            s.printed, failed = finish.print_ticket(self._printer, s, cfg, now, desk=False)
        s.ticket_issued_at = s.ticket_issued_at or now
        s.shown_ticket_data = {
            "queue_number": s.queue_number,
            "display_name": s.patient.display_name if s.patient else "",
            "wait_area": rules.wait_area(s.appointment, cfg),
            "issued_at": s.ticket_issued_at.isoformat(),
            "printed": s.printed,
        }
        if not s.stored:
            return self._show(Step.TICKET, {"base": "storage_error"})
        return self._show(Step.TICKET, {"base": "printer_failed"} if failed else {})

    def _on_ticket(self, action: str, ui: Mapping[str, Any]) -> Result:
        s = self.session
        if action != "done":
            return self._show(Step.TICKET, {"base": "invalid_input"})
        if not s.stored and s.record is not None:
            s.stored = finish.store(self._sink, s.record)  # the retry STEPS.md promises
            if not s.stored:
                return self._desk(DeskReason.STORAGE_ERROR)
        return Done(finish.summary(s, self._config))
