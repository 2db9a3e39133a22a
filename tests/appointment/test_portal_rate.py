"""README: BOOKING_RATE_LIMIT counts a portal that books from one server as one client, unless
the portal is a trusted proxy that forwards each citizen's address."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.app import create_app
from servicepoint.config import Settings
from tests.appointment.conftest import PASS, first_slot
from tests.conftest import proof_headers

pytestmark = pytest.mark.usefixtures("clock")
PORTAL = ("10.20.0.7", 40000)


def _bookings(
    settings: Settings, factory: sessionmaker[Session], citizens: list[str], **update: Any
) -> list[Any]:
    app = create_app(settings.model_copy(update={"booking_rate_limit": 1, **update}))
    app.state.sessionmaker = factory
    answers = []
    with TestClient(app, client=PORTAL) as portal:
        for n, citizen in enumerate(citizens):
            start = first_slot(portal, PASS)["start"]
            body = {"service_ids": [PASS], "location_id": "aegi", "start": start}
            body |= {"name": f"Bürger {n}", "email": f"b{n}@example.org"}
            headers = {**proof_headers(portal), "x-forwarded-for": citizen}
            answers.append(portal.post("/api/appointments", json=body, headers=headers))
    app.state.engine.dispose()
    return answers


def test_a_portal_is_one_client_unless_trusted_to_forward_the_citizen(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    citizens = ["198.51.100.1", "198.51.100.2"]
    untrusted = _bookings(settings, session_factory, citizens)
    assert [r.status_code for r in untrusted] == [201, 429]
    assert untrusted[1].json()["error"] == "too_many_bookings"
    trusted = _bookings(settings, session_factory, citizens, trusted_proxies=["10.20.0.7"])
    assert [r.status_code for r in trusted] == [201, 201]
