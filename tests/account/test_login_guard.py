"""Password guessing: concurrent guesses are counted before any is checked, on both databases.

These tests use the app's own engine (real commits, as in production) instead of the rolled-back
test connection, which cannot be shared between threads; they clean up what they wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from servicepoint.account.models import AuditEntry, StaffSession, User
from servicepoint.app import create_app
from servicepoint.config import Settings
from servicepoint.core import guards
from servicepoint.core.guards import AttemptCounter
from tests.conftest import csrf_of, make_user

NAME = "guard-target"
BURST = 30


@pytest.fixture
def live_app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    with application.state.sessionmaker() as session:
        make_user(session, NAME, "staff")
    yield application
    with application.state.sessionmaker.begin() as session:
        session.execute(delete(StaffSession))
        session.execute(delete(User).where(User.username == NAME))
        session.execute(delete(AuditEntry).where(AuditEntry.target == NAME))
        session.execute(delete(AttemptCounter))
    application.state.engine.dispose()


def _guess(client: TestClient, token: str, password: str) -> int:
    data = {"username": NAME, "password": password, "csrf_token": token, "next": "/mitarbeiter"}
    return client.post("/mitarbeiter/login", data=data, follow_redirects=False).status_code


def test_a_burst_of_concurrent_guesses_is_checked_at_most_the_budget(
    live_app: FastAPI, settings: Settings
) -> None:
    with TestClient(live_app, client=("192.0.2.50", 5000)) as guesser:
        token = csrf_of(guesser)
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            codes = list(pool.map(lambda n: _guess(guesser, token, f"wrong-{n}-pw"), range(BURST)))
    assert sorted(set(codes)) == [401, 429]
    assert codes.count(401) == settings.login_max_attempts
    with TestClient(live_app, client=("192.0.2.51", 5000)) as owner:
        assert _guess(owner, csrf_of(owner), "correct-horse-1") == 303


def test_counters_expire_and_the_worker_purges_them(live_app: FastAPI) -> None:
    import datetime as dt

    start = dt.datetime(2026, 12, 14, 7, 0, tzinfo=dt.UTC)
    with live_app.state.sessionmaker.begin() as session:
        assert guards.bump(session, "k", window=60, now=start).value == 1
        assert guards.bump(session, "k", window=60, now=start).value == 2
        later = start + dt.timedelta(seconds=61)
        assert guards.bump(session, "k", window=60, now=later).value == 1  # a new window
        assert guards.purge(session, now=later + dt.timedelta(seconds=61)) == 1
