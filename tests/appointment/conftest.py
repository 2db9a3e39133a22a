"""Appointment fixtures: real rollback on SQLite, cheap argon2, and a clock the tests set.

Every service function takes `now=`; routes read the clock, so `clock` replaces `utcnow` in the
modules that ask for it. The default instant is Monday 2026-12-14, 08:00 in Hannover: a working
day inside the default service hours (Mo-Fr 08:00-12:00), with the Christmas holidays of Lower
Saxony (2026-12-25, 2027-01-01) inside the 60-day booking horizon.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint import worker
from servicepoint.appointment import mail, queue
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Capacity
from servicepoint.catalog.hours import format_hours
from servicepoint.core import clock as core_clock
from servicepoint.core import events
from servicepoint.core.clock import BERLIN
from tests.conftest import login, make_user, proof_headers

NOW = dt.datetime(2026, 12, 14, 7, 0, tzinfo=dt.UTC)  # Monday, 08:00 Europe/Berlin
LOCATION = "aegi"
PASS = "personalausweis"  # 15 minutes, appointment channel, offered everywhere by default
PASSPORT = "reisepass"  # 15 minutes
REGISTRATION = "meldebescheinigung"  # 10 minutes
ONLINE_ONLY = "briefwahl"  # channels: online
EXTERNAL_ONLY = "eheschliessung"  # channels: external


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Hannover as an aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


class Clock:
    """A settable 'now' that replaces `utcnow` everywhere the appointment code reads it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, value: dt.datetime) -> None:
        self.now = value.astimezone(dt.UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(NOW)
    for module in (appointment_service, queue, mail, events, core_clock, worker):
        monkeypatch.setattr(module, "utcnow", fixed)
    return fixed


def fresh(session: Session) -> Session:
    """Forget what the test's session cached, to read what requests committed since."""
    session.flush()
    session.expire_all()
    return session


def capacity_of(session: Session, location_id: str = LOCATION) -> Capacity:
    cap = fresh(session).scalar(select(Capacity).where(Capacity.location_id == location_id))
    assert cap is not None
    return cap


def restrict_services(
    session: Session, service_ids: list[str] | None, location_id: str = LOCATION, **overrides: Any
) -> None:
    """Change a location's offer through the service, as the capacity page does."""
    cap = capacity_of(session, location_id)
    values: dict[str, Any] = {
        "hours": format_hours(cap.hours),
        "counters": cap.counters,
        "walkin_share": cap.walkin_share,
        "grid_minutes": cap.grid_minutes,
        "service_ids": service_ids,
        **overrides,
    }
    appointment_service.update_capacity(
        session,
        location_id=location_id,
        change=appointment_service.CapacityChange(**values),
        source="test",
        now=NOW,
    )
    session.commit()


def first_slot(
    client: TestClient, *services: str, location: str = LOCATION, **params: str
) -> dict[str, Any]:
    resp = client.get(
        "/api/appointments/slots",
        params={"service": list(services or (PASS,)), "location": location, **params},
    )
    assert resp.status_code == 200, resp.text
    slots: list[dict[str, Any]] = resp.json()
    assert slots, "no free slot"
    return slots[0]


def book_via_api(
    client: TestClient,
    *,
    start: str | None = None,
    services: tuple[str, ...] = (),
    location: str = LOCATION,
    name: str = "Erika Mustermann",
    email: str = "erika@example.org",
) -> dict[str, Any]:
    chosen = list(services or (PASS,))
    when = start or first_slot(client, *chosen, location=location)["start"]
    resp = client.post(
        "/api/appointments",
        json={
            "service_ids": chosen,
            "location_id": location,
            "start": when,
            "name": name,
            "email": email,
        },
        headers=proof_headers(client),
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture
def admin(app: FastAPI, session: Session) -> Iterator[TestClient]:
    """An admin's browser; a 500 comes back as a response, so tests can assert on it."""
    make_user(session, "boss", "admin")
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        login(c, "boss")
        yield c
