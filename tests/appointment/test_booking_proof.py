"""Bots: POST /api/appointments needs the same proof-of-work as the booking form, a solved
challenge is accepted once on every worker (database, no Redis), and the assistant is rate-limited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from servicepoint import worker
from servicepoint.app import create_app
from servicepoint.appointment.models import Booking
from servicepoint.config import Settings
from servicepoint.core import challenge, guards
from servicepoint.core.guards import SpentChallenge
from tests.appointment.conftest import LOCATION, PASS, first_slot, fresh
from tests.conftest import proof_headers

pytestmark = pytest.mark.usefixtures("clock")


def _make(settings: Settings, factory: sessionmaker[Session], **update: Any) -> FastAPI:
    application = create_app(settings.model_copy(update=update))
    application.state.sessionmaker = factory
    return application


@pytest.fixture
def workers(
    settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two app instances (two workers, each with its own memory) on one database, no Redis.
    Their clients post as a script would: nothing solves a challenge for them."""
    apps = [_make(settings, session_factory) for _ in range(2)]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        yield one, two
    for application in apps:
        application.state.engine.dispose()


def _booking(client: TestClient, n: int = 0) -> dict[str, Any]:
    slot = first_slot(client, PASS)
    return {
        "service_ids": [PASS],
        "location_id": LOCATION,
        "start": slot["start"],
        "name": f"Erika Mustermann {n}",
        "email": f"erika{n}@example.org",
    }


def _bookings(session: Session) -> int:
    return int(fresh(session).scalar(select(func.count()).select_from(Booking)) or 0)


def test_the_api_issues_a_challenge(client: TestClient, settings: Settings) -> None:
    body = client.get("/api/challenge").json()
    assert body["difficulty"] == settings.pow_difficulty and body["expires_in"] > 0
    assert challenge.verify(
        settings.secret_key, body["challenge"], challenge.solve(body["challenge"])
    )


def test_a_booking_without_proof_is_refused_and_stores_nothing(
    workers: tuple[TestClient, TestClient], session: Session
) -> None:
    script, _ = workers
    before = _bookings(session)
    resp = script.post("/api/appointments", json=_booking(script))
    assert resp.status_code == 422 and resp.json()["error"] == "challenge_failed"
    wrong = proof_headers(script) | {"x-challenge-nonce": "1"}
    resp = script.post("/api/appointments", json=_booking(script), headers=wrong)
    assert resp.status_code == 422 and resp.json()["error"] == "challenge_failed"
    assert _bookings(session) == before


def test_a_solved_challenge_books_once_across_workers(
    workers: tuple[TestClient, TestClient], session: Session
) -> None:
    one, two = workers
    headers = proof_headers(one)
    assert one.post("/api/appointments", json=_booking(one, 1), headers=headers).status_code == 201
    for worker_client in (two, one):
        replay = worker_client.post("/api/appointments", json=_booking(one, 2), headers=headers)
        assert replay.status_code == 422, replay.text
    fresh_proof = proof_headers(two)
    resp = two.post("/api/appointments", json=_booking(two, 3), headers=fresh_proof)
    assert resp.status_code == 201


def test_bot_protection_off_needs_no_proof(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    application = _make(settings, session_factory, bot_protection="off")
    with TestClient(application) as loadtest:
        assert loadtest.get("/api/challenge").json()["challenge"] is None
        assert loadtest.post("/api/appointments", json=_booking(loadtest)).status_code == 201
    application.state.engine.dispose()


def test_the_worker_forgets_spent_challenges_once_they_expired(
    session: Session, settings: Settings
) -> None:
    import datetime as dt

    now = dt.datetime(2026, 12, 14, 7, 0, tzinfo=dt.UTC)
    assert guards.spend(session, "token-a", ttl=60, now=now)
    assert not guards.spend(session, "token-a", ttl=60, now=now)
    worker.run_once(session, settings=settings, now=now + dt.timedelta(seconds=61))
    assert session.scalar(select(func.count()).select_from(SpentChallenge)) == 0


def test_the_assistant_is_rate_limited_per_client(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    application = _make(settings, session_factory, assistant_rate_limit=2)
    question = {"message": "Wie beantrage ich einen Personalausweis?"}
    with TestClient(application, client=("192.0.2.20", 5000)) as asker:
        codes = [asker.post("/api/assistant/ask", json=question).status_code for _ in range(3)]
        assert asker.post("/api/assistant/ask", json=question).json()["error"] == "rate_limited"
    with TestClient(application, client=("192.0.2.21", 5000)) as other:
        assert other.post("/api/assistant/ask", json=question).status_code == 200
    application.state.engine.dispose()
    assert codes == [200, 200, 429]
