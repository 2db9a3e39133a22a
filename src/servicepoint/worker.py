"""`servicepoint worker`: sends due e-mails and deletes personal data on schedule."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from servicepoint.account import service as account_service
from servicepoint.appointment import mail
from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import service as appointment_service
from servicepoint.assistant import callback
from servicepoint.assistant import service as assistant_service
from servicepoint.casework import documents_store, uploads
from servicepoint.casework import service as casework_service
from servicepoint.casework import staff as casework_staff
from servicepoint.config import Settings
from servicepoint.consultation import service as consultation_service
from servicepoint.consultation import uploads as consultation_uploads
from servicepoint.core import guards
from servicepoint.core.clock import utcnow
from servicepoint.core.db import make_engine, make_sessionmaker
from servicepoint.planning import jobs

log = logging.getLogger("servicepoint.worker")


@dataclass
class WorkerReport:
    mails_sent: int
    bookings_purged: int
    mails_purged: int
    sessions_purged: int
    callbacks_purged: int = 0
    audit_purged: int = 0
    conversations_purged: int = 0
    questions_purged: int = 0  # the assistant's logged questions past their retention
    guards_purged: int = 0  # expired login counters and spent booking challenges
    tickets_purged: int = 0  # walk-in waiting numbers past their retention
    cases_purged: int = 0  # online applications past their retention, and stale drafts
    documents_issued: int = 0  # signed PDFs of approved applications nobody fetched yet
    uploads_swept: int = 0  # uploaded files no case refers to any more (replaced, purged)
    waits_ended: int = 0  # cases whose requested document is overdue, back to review
    reminders_sent: int = 0  # a week before a requested document's deadline
    consultations_purged: int = 0  # video calls' documents and notes past their retention
    consultations_ended: int = 0  # video calls nobody ended (clerk gone, day over, cancelled)
    video_uploads_swept: int = 0  # files of video calls no row refers to any more
    planning_jobs: int = 0  # planning scenarios and mobile plans run (done or failed)


def run_once(
    session: Session, *, settings: Settings, now: dt.datetime | None = None
) -> WorkerReport:
    """One pass: the duties due now, then the pending planning jobs. Safe to run from several
    places (idempotent). The jobs commit in sessions of their own (`jobs.sessions_beside`); a
    caller on an engine rather than a test's connection uses `run_pass`, which commits the
    duties first, so a job neither waits for this session's SQLite write lock nor holds the
    sent mails uncommitted while it solves."""
    report = run_duties(session, settings=settings, now=now)
    session.flush()
    report.planning_jobs = jobs.run_pending(jobs.sessions_beside(session), settings)
    return report


def run_pass(settings: Settings, factory: sessionmaker[Session] | None = None) -> WorkerReport:
    """`servicepoint worker --once`: the duties, committed, then the pending planning jobs
    (a solver may run for minutes; mails and purges do not wait for it)."""
    engine = None
    if factory is None:
        engine = make_engine(settings.database_url)
        factory = make_sessionmaker(engine)
    try:
        with factory.begin() as session:
            report = run_duties(session, settings=settings)
        report.planning_jobs = jobs.run_pending(factory, settings)
    finally:
        if engine is not None:
            engine.dispose()
    return report


def run_duties(
    session: Session, *, settings: Settings, now: dt.datetime | None = None
) -> WorkerReport:
    """What is due now besides planning jobs: mails, reminders, purges, sweeps."""
    now = now or utcnow()
    sent = mail.send_due(session, settings=settings, now=now)
    purged = appointment_service.purge_personal_data(
        session, retention_days=settings.booking_retention_days, now=now
    )
    cutoff = now - dt.timedelta(days=settings.booking_retention_days)
    mails_purged = mail.purge_sent(session, before=cutoff)
    sessions = account_service.purge_expired_sessions(session)
    callbacks = callback.purge(session, retention_days=settings.callback_retention_days, now=now)
    report = WorkerReport(sent, purged, mails_purged, sessions, callbacks)
    report.conversations_purged = assistant_service.purge_conversations(
        session, now=now, hours=settings.assistant_conversation_hours
    )
    report.questions_purged = assistant_service.purge_questions(
        session, retention_days=settings.assistant_question_retention_days, now=now
    )
    report.audit_purged = account_service.purge_audit(
        session, retention_days=settings.audit_retention_days, now=now
    )
    report.guards_purged = guards.purge(session, now=now)
    report.tickets_purged = queue_service.purge_tickets(
        session, retention_days=settings.ticket_retention_days, now=now
    )
    report.reminders_sent = casework_staff.remind_waiting(session, settings=settings, now=now)
    report.waits_ended = casework_staff.end_overdue_waits(session, settings=settings, now=now)
    report.cases_purged = casework_service.purge_cases(session, settings=settings, now=now)
    session.flush()  # the purged cases' rows go first, so their files are swept in this pass
    report.uploads_swept = uploads.sweep(session, settings, now)
    report.consultations_ended = consultation_service.end_forgotten(
        session, settings=settings, now=now
    )
    report.consultations_purged = consultation_service.purge(session, settings=settings, now=now)
    session.flush()  # likewise: the purged documents' rows first, then their files
    report.video_uploads_swept = consultation_uploads.sweep(session, settings, now)
    report.documents_issued = documents_store.issue_pending(session, settings=settings)
    return report


def run_forever(settings: Settings, *, passes: int | None = None) -> None:
    """The worker loop. Planning jobs run in a thread of their own beside it, so a solver's
    minutes never hold up confirmation mails or purges. `passes` bounds the loop (tests)."""
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    planning = jobs.JobThread(factory, settings)
    planning.start()
    try:
        while passes is None or passes > 0:
            passes = None if passes is None else passes - 1
            _duties_pass(factory, settings)
            if passes != 0:
                time.sleep(settings.worker_interval_seconds)
    finally:
        planning.stop()
        engine.dispose()


def _duties_pass(factory: sessionmaker[Session], settings: Settings) -> None:
    try:
        with factory.begin() as session:
            report = run_duties(session, settings=settings)
        if any(vars(report).values()):
            log.info("worker: %s", report)
    except Exception:  # keep the worker alive; the next pass retries
        log.exception("worker pass failed")
