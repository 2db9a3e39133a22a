"""Claiming planning jobs across real, committed transactions side by side (SQLite and
PostgreSQL): one conditional UPDATE decides, so no job runs twice; progress is seen live."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.config import Settings
from servicepoint.core.db import make_sessionmaker
from servicepoint.planning import jobs
from servicepoint.planning.models import Scenario


@pytest.fixture
def factory(real_engine: Engine) -> Iterator[sessionmaker[Session]]:
    maker = make_sessionmaker(real_engine)
    with maker.begin() as session:
        session.execute(delete(Scenario))
    yield maker


def add_queued(factory: sessionmaker[Session], count: int) -> list[int]:
    with factory.begin() as session:
        rows = [
            Scenario(name=f"S{i}", kind="evaluate", params={}, created_by="t") for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_two_claims_of_one_job_one_wins(factory: sessionmaker[Session]) -> None:
    (job_id,) = add_queued(factory, 1)
    with factory() as first, factory() as second:
        # Both saw it queued; both try. The first commits, the second's UPDATE matches nothing.
        assert first.scalar(select(Scenario.id).where(Scenario.status == "queued")) == job_id
        assert second.scalar(select(Scenario.id).where(Scenario.status == "queued")) == job_id
        second.rollback()  # SQLite: let go of the read so the first can write
        assert jobs.take(first, Scenario, job_id) is True
        first.commit()
        assert jobs.take(second, Scenario, job_id) is False
        second.commit()
    with factory() as session:
        assert session.scalar(select(Scenario.status).where(Scenario.id == job_id)) == "running"


def test_concurrent_claimers_never_share_a_job(factory: sessionmaker[Session]) -> None:
    ids = add_queued(factory, 12)
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def claimer() -> None:
        try:
            while True:
                with factory.begin() as session:
                    job_id = jobs.claim(session, Scenario)
                if job_id is None:
                    return
                with lock:
                    taken.append(job_id)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(taken) == sorted(ids)  # every job once, none twice


def test_progress_is_visible_to_others_while_the_job_runs(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    (job_id,) = add_queued(factory, 1)
    seen: list[tuple[int, str | None]] = []

    def runner(session: Session, i: int, _settings: Settings, progress: jobs.ProgressFn) -> None:
        session.get(Scenario, i)  # the job reads in its own transaction …
        progress(55, "Optimierung läuft")
        with factory() as page:  # … and a page, another connection, sees the progress
            row = page.execute(
                select(Scenario.progress, Scenario.progress_note).where(Scenario.id == i)
            ).one()
            seen.append((row[0], row[1]))
        scenario = session.get(Scenario, i)
        assert scenario is not None
        scenario.result = {"done": True}

    monkeypatch.setattr(jobs, "_KINDS", {"scenario": jobs.JobKind(Scenario, runner)})
    monkeypatch.setattr(jobs, "_REGISTERING", ())
    settings = Settings(secret_key="x", redis_url=None)
    assert jobs.run_pending(factory, settings) == 1
    assert seen == [(55, "Optimierung läuft")]
    with factory() as session:
        done = session.get(Scenario, job_id)
        assert done is not None and done.status == "done" and done.result == {"done": True}
