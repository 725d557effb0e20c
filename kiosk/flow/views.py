"""``Show.data`` per step (STEPS.md): pure functions of the session and the config."""

from __future__ import annotations

from typing import Any

from . import rules
from .config import FlowConfig
from .intake import demographics_values, mask_member_id
from .results import Step
from .session import Session


def first_name(session: Session) -> str:
    """The given name as on file ("María José"), as on the ticket's display name."""
    patient = session.patient
    return " ".join(patient.given.split()) if patient else ""


def appointment_data(candidate: rules.Candidate, config: FlowConfig) -> dict[str, Any]:
    a = candidate.appointment
    return {
        "id": a.id,
        "start": a.start.isoformat(),
        "time_text": rules.time_text(a.start, config),
        "provider": a.provider_name,
        "location": a.location_name,
        "visit_type": a.visit_type_display or a.visit_type_code,
        "selectable": candidate.selectable,
        "reason": candidate.reason,
    }


def forms_with_pages(session: Session) -> list[int]:
    return [i for i, form in enumerate(session.forms) if form.page_count > 0]


def forms_data(session: Session) -> dict[str, Any]:
    form = session.forms[session.form_index]
    with_pages = forms_with_pages(session)
    return {
        "questionnaire_title": form.definition.title,
        "questionnaire_index": with_pages.index(session.form_index)
        if session.form_index in with_pages
        else 0,
        "questionnaire_count": len(with_pages),
        "page_index": form.page_index,
        "page_count": form.page_count,
        "items": form.render_page(),
    }


def step_data(step: Step, session: Session, config: FlowConfig) -> dict[str, Any]:
    s = session
    if step == Step.WELCOME:
        return {"languages": list(config.languages), "language": s.language or config.default_language}
    if step == Step.IDENTIFY:
        return {"attempts_left": s.attempts_left, "qr_enabled": bool(config.reminder_secret)}
    if step == Step.IDENTIFY_DOB:
        return {"attempts_left": s.attempts_left}
    if step == Step.CONFIRM_APPOINTMENT:
        return {
            "first_name": first_name(s),
            "appointments": [appointment_data(c, config) for c in s.candidates],
        }
    if step == Step.DEMOGRAPHICS:
        current = s.demographics or (s.patient.demographics if s.patient else None)
        return {"first_name": first_name(s), "values": demographics_values(current) if current else {}}
    if step == Step.INSURANCE:
        c = s.coverage_on_file
        if c is None:
            return {"on_file": None}
        return {
            "on_file": {
                "payer_name": c.payer_name,
                "member_id_masked": mask_member_id(c.member_id),
                "group_number": c.group_number,
            }
        }
    if step == Step.FORMS:
        return forms_data(s)
    if step == Step.CONSENTS:
        doc = s.consent_documents[s.consent_index]
        return {
            "document": {"id": doc.id, "title": doc.title, "text": doc.text},
            "index": s.consent_index,
            "count": len(s.consent_documents),
        }
    if step == Step.PAYMENT:
        amount = s.amount
        return {
            "amount_cents": amount.cents if amount else 0,
            "currency": amount.currency if amount else config.currency,
            "kind": s.amount_kind,
            "attempt": s.payment_attempt,
        }
    if step == Step.TICKET:
        return dict(s.shown_ticket_data)
    if step in (Step.TABLET_START, Step.HAND_BACK):
        from .tablet import tablet_data

        return tablet_data(step, s, config)
    return {}
