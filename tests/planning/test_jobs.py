"""The planning job runner: claim, progress in its own transaction, done, the failure path, the
in-app thread and the worker's hook (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.app import create_app
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import translate
from servicepoint.errors import Unprocessable
from servicepoint.planning import jobs
from servicepoint.planning.models import MobilePlan, Scenario
from servicepoint.worker import run_once


def queued(session: Session, name: str = "Test") -> int:
    scenario = Scenario(name=name, kind="evaluate", params={}, created_by="tester")
    session.add(scenario)
    session.commit()
    return scenario.id


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, jobs.Runner]]:
    """Only the kinds the test registers (no real scenario, no mobile plans)."""
    kinds: dict[str, jobs.JobKind] = {}
    monkeypatch.setattr(jobs, "_KINDS", kinds)
    monkeypatch.setattr(jobs, "_REGISTERING", ())
    runners: dict[str, jobs.Runner] = {}

    def run(session: Session, job_id: int, settings: Settings, progress: jobs.ProgressFn) -> None:
        runners["scenario"](session, job_id, settings, progress)

    kinds["scenario"] = jobs.JobKind(Scenario, run)
    yield runners


def status(factory: sessionmaker[Session], job_id: int) -> Scenario:
    with factory() as session:
        scenario = session.get(Scenario, job_id)
        assert scenario is not None
        return scenario


def test_a_job_runs_to_done_with_its_result(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    runs: dict[str, jobs.Runner],
) -> None:
    job_id = queued(session)
    seen: list[tuple[int, str | None, str]] = []

    def runner(s: Session, i: int, _settings: Settings, progress: jobs.ProgressFn) -> None:
        progress(40, "Optimierung läuft")
        # Written in a transaction of its own: visible before the job's own work is stored.
        with session_factory() as other:
            row = other.execute(
                select(Scenario.progress, Scenario.progress_note, Scenario.status).where(
                    Scenario.id == i
                )
            ).one()
        seen.append(tuple(row))  # type: ignore[arg-type]
        scenario = s.get(Scenario, i)
        assert scenario is not None
        scenario.result = {"ok": True}

    runs["scenario"] = runner
    assert jobs.run_pending(session_factory, settings) == 1
    assert seen == [(40, "Optimierung läuft", "running")]
    done = status(session_factory, job_id)
    assert (done.status, done.progress, done.progress_note) == ("done", 100, "Fertig")
    assert done.result == {"ok": True} and done.error is None
    assert done.started_at is not None and done.finished_at is not None
    assert jobs.run_pending(session_factory, settings) == 0  # nothing left


def test_a_failing_job_is_stored_as_failed_with_a_clear_message(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    runs: dict[str, jobs.Runner],
) -> None:
    broken, refused = queued(session, "kaputt"), queued(session, "abgelehnt")

    def runner(s: Session, i: int, _settings: Settings, progress: jobs.ProgressFn) -> None:
        progress(10, "Optimierung läuft")
        scenario = s.get(Scenario, i)
        assert scenario is not None
        scenario.result = {"half": "written"}  # rolled back with the failure
        s.flush()
        if i == broken:
            raise RuntimeError("boom")
        raise Unprocessable("Es braucht mindestens %(n)s Standorte.", n=2)

    runs["scenario"] = runner
    assert jobs.run_pending(session_factory, settings, limit=5) == 2
    first, second = status(session_factory, broken), status(session_factory, refused)
    assert first.status == "failed" and first.result is None
    assert jobs.failure_text(first.error) == (
        "Die Berechnung ist mit einem internen Fehler abgebrochen (RuntimeError)."
    )
    assert second.status == "failed"
    assert jobs.failure_text(second.error) == "Es braucht mindestens 2 Standorte."
    # Stored as msgid and parameters, so each page writes it in its own language.
    assert json.loads(second.error or "") == {
        "msgid": "Es braucht mindestens %(n)s Standorte.",
        "params": {"n": "2"},
        "fields": {},
    }
    english = jobs.failure_text(first.error, lambda msgid: translate("en", msgid))
    assert english.startswith("The") and "(RuntimeError)" in english
    assert first.finished_at is not None


def test_the_thread_survives_a_failing_job_and_stops(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    runs: dict[str, jobs.Runner],
) -> None:
    first, second = queued(session, "eins"), queued(session, "zwei")
    finished = threading.Event()
    order: list[int] = []

    def runner(_s: Session, i: int, _settings: Settings, _progress: jobs.ProgressFn) -> None:
        order.append(i)
        if i == first:
            raise RuntimeError("the first one breaks")
        finished.set()

    runs["scenario"] = runner
    thread = jobs.JobThread(session_factory, settings, interval=0.05)
    thread.start()
    assert finished.wait(10)
    thread.stop()
    assert not thread.is_alive()
    assert order == [first, second]
    assert status(session_factory, first).status == "failed"
    assert status(session_factory, second).status == "done"


def test_the_worker_runs_pending_jobs(
    session: Session, settings: Settings, runs: dict[str, jobs.Runner]
) -> None:
    job_id = queued(session)
    runs["scenario"] = lambda *_: None
    report = run_once(session, settings=settings)
    assert report.planning_jobs == 1
    session.expire_all()
    assert session.get(Scenario, job_id).status == "done"  # type: ignore[union-attr]


def test_claim_takes_the_oldest_queued_one_once(session: Session) -> None:
    older, newer = queued(session, "alt"), queued(session, "neu")
    assert jobs.claim(session, Scenario) == older
    assert jobs.take(session, Scenario, older) is False  # already running
    assert jobs.claim(session, Scenario) == newer
    assert jobs.claim(session, Scenario) is None


def test_progress_is_bounded_and_never_fails_the_job(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = queued(session)
    assert jobs.take(session, Scenario, job_id)
    session.commit()
    echoed: list[tuple[int, str]] = []
    writer = jobs._ProgressWriter(
        session_factory, Scenario, job_id, lambda p, n: echoed.append((p, n))
    )
    writer(250, "x" * 400)
    assert status(session_factory, job_id).progress == 99  # 100 is written with the result
    assert len(status(session_factory, job_id).progress_note or "") == 300

    def broken() -> None:
        raise RuntimeError("database away")

    monkeypatch.setattr(writer, "factory", type("F", (), {"begin": staticmethod(broken)})())
    writer.last = 0.0
    writer(50, "weiter")  # logged, not raised
    assert echoed[-1] == (50, "weiter")


def test_the_registry_knows_scenarios_and_mobile_plans() -> None:
    kinds = jobs.registry()
    assert kinds["scenario"].model is Scenario


def test_test_apps_do_not_start_the_thread(client: TestClient, app: FastAPI) -> None:
    # The app's own thread, not any thread of the name: a browser test's live server (a thread
    # of this process, jobs on) may still run one.
    assert app.state.jobs_thread is None


def test_the_app_starts_and_stops_the_thread_when_asked(settings: Settings) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"planning_jobs_in_app": True}))
    try:
        with TestClient(app):
            thread = app.state.jobs_thread
            assert thread is not None and thread.name == "planning-jobs" and thread.is_alive()
        assert not thread.is_alive()
    finally:
        app.state.engine.dispose()


def test_a_scenario_left_running_by_a_dead_process_fails_with_a_message(
    session: Session, settings: Settings
) -> None:
    stale, fresh = queued(session, "alt"), queued(session, "frisch")
    for job_id in (stale, fresh):
        assert jobs.take(session, Scenario, job_id)
    long_ago = utcnow() - dt.timedelta(hours=3)
    session.execute(update(Scenario).where(Scenario.id == stale).values(started_at=long_ago))
    assert jobs.fail_stale(session, settings=settings) == 1
    session.expire_all()
    ended, running = session.get(Scenario, stale), session.get(Scenario, fresh)
    assert ended is not None and ended.status == "failed"
    assert "unterbrochen" in jobs.failure_text(ended.error)
    assert running is not None and running.status == "running"


def test_a_mobile_plan_left_running_by_a_dead_process_fails_too(
    session: Session, settings: Settings
) -> None:
    plan = MobilePlan(name="Verwaist", start_date=dt.date(2027, 1, 4), created_by="tester")
    session.add(plan)
    session.commit()
    assert jobs.take(session, MobilePlan, plan.id)
    long_ago = utcnow() - dt.timedelta(hours=3)
    session.execute(update(MobilePlan).where(MobilePlan.id == plan.id).values(started_at=long_ago))
    assert jobs.fail_stale(session, settings=settings) == 1
    session.expire_all()
    assert plan.status == "failed" and "unterbrochen" in (plan.error or "")
