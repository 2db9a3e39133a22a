"""A document staff ask for has a deadline; past it the worker puts the case back into review
for a clerk's decision, never rejecting it by itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from servicepoint.casework import service
from servicepoint.casework.models import Application
from servicepoint.config import Settings
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.worker import run_once
from tests.casework.case_support import PDF, in_review, local_settings, mails_to


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return local_settings(settings, tmp_path / "var").model_copy(
        update={"case_document_wait_days": 14}
    )


def _waiting(session: Session, settings: Settings) -> Application:
    case = in_review(session, settings)
    return service.request_document(
        session, settings=settings, case=case, username="clerk", what="Mietvertrag"
    )


def test_the_requested_document_is_due_after_the_set_days(
    session: Session, settings: Settings
) -> None:
    before = utcnow()
    case = _waiting(session, settings)
    assert case.due_at is not None
    assert before + dt.timedelta(days=14) <= case.due_at <= utcnow() + dt.timedelta(days=14)
    service.add_upload(
        session, settings=settings, case=case, name="requested", filename="m.pdf", data=PDF
    )
    # The document came: staff's own time limit (5 days for this form) starts again.
    assert case.status == "in_review" and case.due_at < utcnow() + dt.timedelta(days=6)


def test_past_the_deadline_the_case_goes_back_to_a_clerk_not_rejected(
    session: Session, settings: Settings
) -> None:
    case = _waiting(session, settings)
    assert case.due_at is not None
    due = case.due_at
    assert run_once(session, settings=settings, now=due - dt.timedelta(minutes=1)).waits_ended == 0
    assert case.status == "waiting"
    report = run_once(session, settings=settings, now=due + dt.timedelta(minutes=1))
    assert report.waits_ended == 1
    session.refresh(case)
    assert case.status == "in_review" and case.decided_at is None
    assert case.due_at is not None and case.due_at > due  # staff's time limit from now
    assert [n.author for n in case.notes] == ["system"] and "Frist" in case.notes[0].text
    later = due + dt.timedelta(minutes=2)
    assert run_once(session, settings=settings, now=later).waits_ended == 0  # once


def test_one_reminder_goes_out_a_week_before_the_deadline(
    session: Session, settings: Settings
) -> None:
    case = _waiting(session, settings)
    email = case.applicant["email"]
    assert case.due_at is not None
    due = case.due_at
    assert run_once(session, settings=settings, now=due - dt.timedelta(days=8)).reminders_sent == 0
    assert run_once(session, settings=settings, now=due - dt.timedelta(days=6)).reminders_sent == 1
    assert run_once(session, settings=settings, now=due - dt.timedelta(days=5)).reminders_sent == 0
    reminder = [m for m in mails_to(session, email) if m.kind == "case_reminder"]
    assert len(reminder) == 1
    assert "Benötigt wird: Mietvertrag" in reminder[0].body
    assert f"Frist: {due.astimezone(BERLIN):%d.%m.%Y}" in reminder[0].body
