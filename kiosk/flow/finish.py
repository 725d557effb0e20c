"""The end of a check-in: the CheckinRecord, the outbox hand-over, the queue number and the ticket.

Shared by the ticket step (a finished check-in) and the desk hand-off (``needs_staff=True``). Port failures
become booleans here; nothing raises, nothing personal is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from .config import FlowConfig
from .ports import CheckinSink, QueueNumbers, TicketPrinter
from .rules import wait_area
from .session import Session
from .types import CheckinRecord, DeskReason, QuestionnaireResult, Ticket

log = logging.getLogger(__name__)


def questionnaire_results(
    session: Session, now: datetime, *, partial: bool
) -> tuple[QuestionnaireResult, ...]:
    """Completed forms (and, when ``partial``, whatever was answered in the others: the desk path)."""
    results: list[QuestionnaireResult] = []
    for index, form in enumerate(session.forms):
        completed_at = session.forms_completed_at.get(index)
        if completed_at is None and not partial:
            continue
        items = form.response_items()
        if not items:
            continue
        definition = form.definition
        results.append(
            QuestionnaireResult(
                questionnaire_id=definition.id,
                questionnaire_url=definition.url,
                title=definition.title,
                items=items,
                completed_at=completed_at or now,
                complete=completed_at is not None,
            )
        )
    return tuple(results)


def build_record(
    session: Session,
    config: FlowConfig,
    now: datetime,
    *,
    needs_staff: bool = False,
    desk_reason: DeskReason | None = None,
) -> CheckinRecord:
    assert session.patient is not None, "a record needs an identified patient"
    deferred = session.payment_deferred
    if (
        needs_staff
        and deferred is None
        and session.payment is None
        and session.amount
        and session.amount.cents
    ):
        deferred = session.amount  # the desk collects what the kiosk did not
    return CheckinRecord(
        checkin_id=session.checkin_id,
        kiosk_id=config.kiosk_id,
        started_at=session.started_at or now,
        completed_at=now,
        language=session.language or config.default_language,
        patient=session.patient,
        appointment=session.appointment,
        demographics=session.demographics,
        insurance=session.insurance,
        responses=questionnaire_results(session, now, partial=needs_staff),
        consents=tuple(session.consents),
        payment=session.payment,
        payment_deferred=deferred,
        needs_staff=needs_staff,
        desk_reason=desk_reason,
        queue_number=session.queue_number,
        tablet=config.tablet,
    )


def store(sink: CheckinSink, record: CheckinRecord) -> bool:
    """Hand the record to the outbox. False (logged with the id only) when it could not be kept."""
    try:
        sink.submit(record)
    except Exception as exc:
        log.error("checkin %s: outbox refused the record (%s)", record.checkin_id, type(exc).__name__)
        return False
    log.info("checkin %s: record stored (needs_staff=%s)", record.checkin_id, record.needs_staff)
    return True


def take_number(queue: QueueNumbers, now: datetime, config: FlowConfig, checkin_id: str) -> str:
    try:
        return str(queue.next_number(now.astimezone(config.timezone).date()))
    except Exception as exc:
        log.error("checkin %s: no queue number (%s)", checkin_id, type(exc).__name__)
        return ""


def print_ticket(
    printer: TicketPrinter | None, session: Session, config: FlowConfig, now: datetime, *, desk: bool
) -> tuple[bool, bool]:
    """Returns (printed, failed). No printer (a tablet) is neither printed nor a failure."""
    if printer is None or session.patient is None:
        return False, False
    ticket = Ticket(
        queue_number=session.queue_number,
        display_name=session.patient.display_name,
        issued_at=now,
        wait_area=wait_area(session.appointment, config),
        clinic_name=config.clinic_name,
        language=session.language or config.default_language,
        desk=desk,
        checkin_id=session.checkin_id,
    )
    try:
        printer.print_ticket(ticket)
    except Exception as exc:
        reason = getattr(exc, "reason", type(exc).__name__)
        log.error("checkin %s: ticket not printed (%s)", session.checkin_id, reason)
        return False, True
    log.info("checkin %s: ticket printed (desk=%s)", session.checkin_id, desk)
    return True, False


def summary(session: Session, config: FlowConfig) -> dict[str, Any]:
    """``Done.summary`` / ``ToDesk.summary`` (STEPS.md). ``synced_later``: the record is in the outbox."""
    return {
        "queue_number": session.queue_number,
        "display_name": session.patient.display_name if session.patient else "",
        "wait_area": wait_area(session.appointment, config),
        "printed": session.printed,
        "checkin_id": session.checkin_id,
        "synced_later": session.stored,
    }
