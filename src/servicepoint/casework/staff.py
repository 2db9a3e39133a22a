"""The staff's side of a case: the work queue, taking the next case, deciding, asking for a
document, notes. Every action goes to the audit log; a rejection always has a person and a
reason (§ 35a VwVfG). Importable from casework.service as well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer

from servicepoint.account import service as account_service
from servicepoint.casework import documents_store, workflow
from servicepoint.casework.errors import CaseClosed, FormNotFound
from servicepoint.casework.export import export_case
from servicepoint.casework.models import CLOSED, Application, CaseNote
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_
from servicepoint.errors import FieldMessage, Unprocessable

__all__ = [
    "QueueRow",
    "add_note",
    "confirm",
    "decide_by_staff",
    "export_case",
    "handover",
    "request_document",
    "take_next",
    "work_queue",
]

IN_QUEUE = ("in_review", "waiting")
REASON_MAX = 2000
_TAKE_ATTEMPTS = 5


class MissingText(Unprocessable):
    """A reason, a request or a note left empty (or too long); names the field."""

    code = "missing_text"

    def __init__(self, message: str, *, field: str, problem: FieldMessage) -> None:
        super().__init__(message)
        self.fields = {field: problem}


@dataclass(frozen=True)
class QueueRow:
    case: Application
    due_at: dt.datetime | None
    overdue: bool


def work_queue(session: Session, *, now: dt.datetime) -> list[QueueRow]:
    """Cases in review or waiting for a document, the oldest first, overdue ones marked."""
    cases = session.scalars(
        select(Application)
        .where(Application.status.in_(IN_QUEUE))
        .order_by(Application.submitted_at, Application.id)
        .options(defer(Application.document))
    )
    return [QueueRow(c, c.due_at, c.due_at is not None and c.due_at < now) for c in cases]


def take_next(session: Session, *, username: str) -> Application | None:
    """Assign the oldest case in review that nobody has taken to `username`. Two clerks at once
    never get the same case: the assignment only succeeds where the case is still free."""
    for _ in range(_TAKE_ATTEMPTS):
        case_id = session.scalar(
            select(Application.id)
            .where(Application.status == "in_review", Application.assigned_to.is_(None))
            .order_by(Application.submitted_at, Application.id)
            .limit(1)
        )
        if case_id is None:
            return None
        taken = session.execute(
            update(Application)
            .where(Application.id == case_id, Application.assigned_to.is_(None))
            .values(assigned_to=username)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:
            case = session.get(Application, case_id, populate_existing=True)
            account_service.audit(
                session, username=username, action="case_take", target=case.code if case else None
            )
            return case
    return None


def _text(value: str | None, *, field: str, missing: str, limit: int = REASON_MAX) -> str:
    text = (value or "").strip()
    if not text:
        raise MissingText(missing, field=field, problem=N_("Bitte füllen Sie dieses Feld aus."))
    if len(text) > limit:
        problem = (N_("Bitte höchstens %(max)s Zeichen eingeben."), {"max": limit})
        raise MissingText(missing, field=field, problem=problem)
    return text


def _rejection_reason(settings: Settings, case: Application, reason: str | None) -> str:
    """What the clerk wrote for the citizen; the appeal text is added after it (workflow)."""
    return _text(
        reason,
        field="reason",
        missing=N_("Eine Ablehnung braucht eine Begründung."),
        limit=workflow.reason_room(settings, case),
    )


def _retention_days(settings: Settings, case: Application) -> int:
    try:
        return workflow.form_for(settings, case.service_id).retention_days
    except FormNotFound:
        return workflow.DEFAULT_RETENTION_DAYS


def _decide(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    username: str,
    outcome: Literal["approved", "rejected"],
    reason: str | None,
) -> None:
    proposal, now = case.proposal, utcnow()
    if outcome == "approved":
        form = workflow.form_for(settings, case.service_id)
        workflow.approve(
            session,
            settings=settings,
            case=case,
            form=form,
            username=username,
            now=now,
            reason=reason,
        )
    else:
        assert reason  # checked by the callers: a rejection always states why
        workflow.reject(
            session,
            settings=settings,
            case=case,
            username=username,
            reason=reason,
            retention_days=_retention_days(settings, case),
            now=now,
        )
    workflow.count_decision(session, case, proposal=proposal, now=now)
    detail = {"outcome": outcome, "proposal": proposal}
    account_service.audit(
        session,
        username=username,
        action=f"case_{_verb(outcome, proposal)}",
        target=case.code,
        detail=detail,
    )


def _verb(outcome: str, proposal: str | None) -> str:
    return "confirm" if outcome == proposal else "decide"


def confirm(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    username: str,
    reason: str | None = None,
) -> Application:
    """Decide as the rules proposed. An approval takes one click; a proposed rejection needs
    the reason the clerk wrote (422 naming `reason` without one): the rules' texts address
    staff ("… is checked before a decision") and are only the draft the page offers."""
    if case.proposal not in ("approved", "rejected"):
        raise CaseClosed(
            N_("Für diesen Antrag gibt es keinen Vorschlag; bitte entscheiden Sie selbst.")
        )
    outcome: Literal["approved", "rejected"] = (
        "rejected" if case.proposal == "rejected" else "approved"
    )
    return decide_by_staff(
        session, settings=settings, case=case, username=username, outcome=outcome, reason=reason
    )


def decide_by_staff(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    username: str,
    outcome: Literal["approved", "rejected"],
    reason: str | None,
) -> Application:
    """Approve or reject as the clerk sees it; a rejection needs a reason the citizen reads."""
    if outcome == "rejected":
        reason = _rejection_reason(settings, case, reason)
    elif reason:
        reason = _text(reason, field="reason", missing=N_("Bitte geben Sie einen Grund an."))
    _decide(
        session,
        settings=settings,
        case=case,
        username=username,
        outcome=outcome,
        reason=reason or None,
    )
    return case


def request_document(
    session: Session, *, settings: Settings, case: Application, username: str, what: str
) -> Application:
    """Ask the citizen for a document: the case waits until it is uploaded on the status page."""
    what = _text(what, field="what", missing=N_("Bitte schreiben Sie, welche Unterlage fehlt."))
    workflow.transition(
        session,
        case,
        to="waiting",
        allowed=workflow.DECIDABLE,
        refused=workflow.ALREADY_DECIDED,
    )
    case.requested_upload = what
    case.due_at = utcnow() + dt.timedelta(days=settings.case_document_wait_days)
    case.reminded_at = None
    workflow.notify(session, settings=settings, case=case, kind="waiting")
    account_service.audit(
        session, username=username, action="case_request_document", target=case.code
    )
    return case


def end_overdue_waits(session: Session, *, settings: Settings, now: dt.datetime) -> int:
    """Cases whose requested document is past its deadline go back to review, with a note,
    for a clerk to decide (the worker's pass; never an automatic rejection). Returns how many."""
    overdue = session.scalars(
        select(Application)
        .where(Application.status == "waiting", Application.due_at < now)
        .options(defer(Application.document))
    )
    moved = 0
    for case in list(overdue):
        try:
            workflow.transition(
                session,
                case,
                to="in_review",
                allowed=("waiting",),
                refused=workflow.ALREADY_DECIDED,
            )
        except CaseClosed:  # a clerk or the citizen acted meanwhile
            continue
        case.due_at = workflow.staff_due(settings, case, now)
        case.notes.append(CaseNote(author="system", text=_WAIT_ENDED))
        moved += 1
    return moved


def remind_waiting(session: Session, *, settings: Settings, now: dt.datetime) -> int:
    """One reminder mail a week before a requested document's deadline (the worker's pass; with
    a deadline of a week or less, the request's own mail is reminder enough). Returns how many
    went out."""
    if dt.timedelta(days=settings.case_document_wait_days) <= REMIND_BEFORE:
        return 0
    soon = session.scalars(
        select(Application)
        .where(
            Application.status == "waiting",
            Application.reminded_at.is_(None),
            Application.due_at > now,
            Application.due_at <= now + REMIND_BEFORE,
        )
        .options(defer(Application.document))
    )
    sent = 0
    for case in list(soon):
        case.reminded_at = now
        workflow.notify(session, settings=settings, case=case, kind="reminder")
        sent += 1
    return sent


REMIND_BEFORE = dt.timedelta(days=7)

# Stored as the note's text (notes are staff's own words, not translated on display).
_WAIT_ENDED = (
    "Die Frist für die angeforderte Unterlage ist abgelaufen, ohne dass sie eingegangen ist. "
    "Bitte entscheiden Sie über den Antrag."
)


def add_note(session: Session, *, case: Application, username: str, text: str) -> CaseNote:
    """A note for colleagues (never shown to the citizen)."""
    if case.status == "draft":
        raise CaseClosed(N_("Dieser Antrag ist noch nicht abgeschickt."))
    note = CaseNote(
        author=username, text=_text(text, field="text", missing=N_("Die Notiz ist leer."))
    )
    case.notes.append(note)
    session.flush()
    account_service.audit(session, username=username, action="case_note", target=case.code)
    return note


def handover(
    session: Session, *, settings: Settings, case: Application, username: str
) -> dict[str, Any]:
    """A decided case in the exchange shape for a back-office system, its PDF included (made
    now if nobody fetched it yet). An open case is still ours to decide, not to hand over."""
    if case.status not in CLOSED:
        raise CaseClosed(N_("Exportieren lässt sich ein Antrag erst, wenn er entschieden ist."))
    if case.status == "approved" and case.document is None:
        case.document = documents_store.issue(case=case, settings=settings)
    account_service.audit(session, username=username, action="case_export", target=case.code)
    return export_case(case, settings=settings)
