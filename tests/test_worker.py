"""The worker: mails and purges come first; planning jobs run after them (`--once`) or in a
thread of their own beside the loop, so a solver's minutes never hold up a confirmation mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from servicepoint import worker
from servicepoint.appointment import mail
from servicepoint.config import Settings
from servicepoint.planning import jobs
from servicepoint.planning.models import Scenario


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Which of the worker's steps ran, in order (mail, then the planning jobs)."""
    seen: list[str] = []
    send_due = mail.send_due

    def mail_first(session: Session, **kw: Any) -> int:
        seen.append("mail")
        return int(send_due(session, **kw))

    def pending(factory: sessionmaker[Session], settings: Settings, **kw: Any) -> int:
        seen.append("jobs")
        return 1

    monkeypatch.setattr(mail, "send_due", mail_first)
    monkeypatch.setattr(jobs, "run_pending", pending)
    yield seen


def test_run_once_sends_mail_before_planning_jobs(
    session: Session, settings: Settings, order: list[str]
) -> None:
    report = worker.run_once(session, settings=settings)
    assert order == ["mail", "jobs"]
    assert report.planning_jobs == 1


def test_once_commits_the_duties_then_runs_the_jobs(
    session_factory: sessionmaker[Session], settings: Settings, order: list[str]
) -> None:
    report = worker.run_pass(settings, session_factory)
    assert order == ["mail", "jobs"]
    assert report.planning_jobs == 1


def test_a_long_job_does_not_hold_up_the_loop(
    monkeypatch: pytest.MonkeyPatch, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """run_forever runs the jobs in a thread: its duties pass ends while a job still runs."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    duties: list[bool] = []

    def slow_job(factory: sessionmaker[Session], _settings: Settings, **kw: Any) -> int:
        started.set()
        release.wait(10)
        finished.set()
        return 1

    def run_duties(session: Session, **kw: Any) -> worker.WorkerReport:
        assert started.wait(5), "the planning thread did not start"
        duties.append(finished.is_set())
        release.set()
        return worker.WorkerReport(0, 0, 0, 0)

    monkeypatch.setattr(jobs, "run_pending", slow_job)
    monkeypatch.setattr(worker, "run_duties", run_duties)
    monkeypatch.setattr(worker, "make_sessionmaker", lambda _engine: session_factory)
    try:
        worker.run_forever(settings, passes=1)
    finally:
        release.set()
    assert duties == [False]  # the duties were done while the job was still running


def test_jobs_are_counted_in_the_report(session: Session, settings: Settings) -> None:
    """Without monkeypatching: a pass with nothing queued runs no job and says so."""
    assert session.query(Scenario).filter(Scenario.status == "queued").count() == 0
    assert worker.run_once(session, settings=settings).planning_jobs == 0
