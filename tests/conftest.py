"""Shared fixtures: a migrated, seeded database per backend; each test rolls back its own work.

SQLite always runs. PostgreSQL runs when SERVICEPOINT_TEST_POSTGRES_URL is set (CI sets it);
otherwise those cases skip with the reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.account import service as account_service
from servicepoint.app import create_app
from servicepoint.cli_support import upgrade
from servicepoint.config import DATA_ROOT, Settings
from servicepoint.core import challenge
from servicepoint.core.db import make_engine
from servicepoint.seeding import seed_city
from servicepoint.web.routing import every_route
from tests.mail_support import Collector, free_port

POSTGRES_URL = os.environ.get("SERVICEPOINT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SERVICEPOINT_TEST_REDIS_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def prepare(url: str) -> Engine:
    """Migrate with Alembic (so the migrations are tested too) and seed the default city."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_city(session, folder=DATA_ROOT / "hannover")
        session.commit()
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = prepare(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    if not POSTGRES_URL:
        pytest.skip("SERVICEPOINT_TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
    reset_postgres(POSTGRES_URL)
    engine = prepare(POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def real_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A committed database of the module's own, for races that need real transactions side by
    side: a fresh SQLite file, or the PostgreSQL test database reset, migrated and seeded."""
    if request.param == "sqlite":
        engine = prepare(f"sqlite:///{tmp_path_factory.mktemp('real') / 'real.db'}")
        yield engine
        engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("SERVICEPOINT_TEST_POSTGRES_URL not set: PostgreSQL race tests skipped")
    reset_postgres(POSTGRES_URL)
    engine = prepare(POSTGRES_URL)
    yield engine
    engine.dispose()
    # Leave the shared test database as the other tests expect it: migrated, seeded, empty.
    reset_postgres(POSTGRES_URL)
    prepare(POSTGRES_URL).dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


# Production argon2 cost (~0.25 s per hash or check) would make login tests slow; they need the
# same algorithm and code path, not the same cost (tests/account checks the real cost).
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_service, "_HASHER", _FAST_HASHER)
    monkeypatch.setattr(account_service, "_DUMMY_HASH", _FAST_HASHER.hash("not-a-real-password"))


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """An outer transaction that is rolled back after the test, whatever it committed.

    pysqlite opens no transaction for `conn.begin()`, so the session's first SAVEPOINT would be
    the outermost one and every `session.commit()` would COMMIT to the shared test database. An
    explicit BEGIN keeps the work inside the rolled-back transaction.
    """
    with engine.connect() as conn:
        outer = conn.begin()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instance folder (uploads, development signing key) of the run, not the checkout's."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture
def settings(engine: Engine, state_dir: Path) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        bot_protection="on",
        redis_url=None,
        state_dir=state_dir,
        planning_jobs_in_app=False,  # tests run planning jobs themselves (jobs.run_pending)
    )


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[FastAPI]:
    application = create_app(settings)
    application.state.sessionmaker = session_factory
    yield application
    application.state.engine.dispose()


def proof_headers(client: TestClient) -> dict[str, str]:
    """What the city's portal does before POST /api/appointments: fetch and solve a challenge."""
    token = client.get("/api/challenge").json()["challenge"]
    if token is None:  # bot protection off
        return {}
    return {"x-challenge": token, "x-challenge-nonce": challenge.solve(token)}


def _proof_paths(app: FastAPI) -> frozenset[str]:
    """The POST routes that ask for a proof of work (they take an X-Challenge header)."""
    return frozenset(
        route.path
        for route in every_route(app.routes)
        if isinstance(route, APIRoute)
        and "POST" in (route.methods or ())
        and any(p.alias == "x-challenge" for p in route.dependant.header_params)
    )


def _solves_booking_challenges(client: TestClient) -> None:
    """Let `client` behave like the portal: whatever it posts without a proof to a route that
    asks for one (a booking, an application) gets one. Tests of the challenge itself post
    through a client without this hook."""
    app = client.app
    paths = _proof_paths(app) if isinstance(app, FastAPI) else frozenset({"/api/appointments"})

    def hook(request: httpx.Request) -> None:
        protected = request.method == "POST" and request.url.path in paths
        if protected and "x-challenge" not in request.headers:
            request.headers.update(proof_headers(client))

    client.event_hooks = {"request": [hook], "response": []}


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        _solves_booking_challenges(c)
        yield c


_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF_FIELD.search(html)
    return found.group(1) if found else ""


def csrf_of(client: TestClient) -> str:
    """Load a form as a browser would and return its CSRF token (bound to this client's
    browser cookie and staff session, so fetch it again after logging in or out)."""
    return csrf_in(client.get("/mitarbeiter/login").text)


def make_user(
    session: Session, username: str, role: str, password: str = "correct-horse-1"
) -> None:
    from servicepoint.account import service as account_service

    account_service.create_user(session, username=username, password=password, role=role)
    session.commit()


def login(client: TestClient, username: str, password: str = "correct-horse-1") -> None:
    token = csrf_of(client)
    resp = client.post(
        "/mitarbeiter/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token,
            "next": "/mitarbeiter",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text


DATA_DIR: Path = DATA_ROOT / "hannover"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A loopback SMTP server for the module's mail tests: its collector and its port."""
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server: tuple[Collector, int]) -> Iterator[Collector]:
    """The module's SMTP collector, emptied and accepting again for this test."""
    handler, _ = smtp_server
    handler.messages.clear()
    handler.refuse = False
    yield handler
