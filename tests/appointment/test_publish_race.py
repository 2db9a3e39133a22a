"""Publishing a mobile stop's dated hours and booking at it at the same time (PostgreSQL).

Two sessions with real transactions side by side: the publication locks the capacity row
(FOR UPDATE), a booking holds it shared (FOR SHARE) from its schedule check to its commit, so
one waits for the other. SQLite has one writer at a time and needs no row locks; these tests
skip there.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from servicepoint.appointment import capacity as capacity_service
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import InvalidBooking
from servicepoint.appointment.models import Booking, Capacity
from tests.appointment.conftest import NOW, PASS, berlin
from tests.appointment.mobile_support import add_stop

VISIT = dt.date(2026, 12, 15)  # a visit of mobile_support.VISITS; the new plan drops it
NEW_PLAN = {dt.date(2027, 1, 12): [("09:00", "12:00")]}
WAIT = 1.0  # seconds the second session is given to (wrongly) get through


@pytest.fixture
def pg(real_engine: Engine) -> Engine:
    if real_engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    return real_engine


def publish(location_id: str) -> Callable[[Session], Capacity]:
    def action(session: Session) -> Capacity:
        return capacity_service.set_dated_hours(
            session,
            location_id=location_id,
            dates=NEW_PLAN,
            service_ids=[PASS],
            counters=1,
            now=NOW,
        )

    return action


def book(location_id: str) -> Callable[[Session], Booking]:
    def action(session: Session) -> Booking:
        return appointment_service.book(
            session,
            service_ids=[PASS],
            location_id=location_id,
            start=berlin(2026, 12, 15, 9, 0),
            name="Person",
            email="person@example.org",
            now=NOW,
        )

    return action


def in_background(
    engine: Engine, action: Callable[[Session], object]
) -> tuple[threading.Thread, list[object]]:
    """Run `action` in a thread, in its own committed session; out gets its result or error."""
    out: list[object] = []

    def run() -> None:
        with Session(engine, expire_on_commit=False) as session:
            try:
                out.append(action(session))
                session.commit()
            except Exception as exc:  # the test looks at it
                session.rollback()
                out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def stop(engine: Engine, location_id: str) -> None:
    with Session(engine) as session:
        add_stop(session, location_id=location_id)


def test_a_publication_waits_for_a_booking_and_keeps_its_day(pg: Engine) -> None:
    stop(pg, "mobil-race-1")
    with Session(pg, expire_on_commit=False) as booking_session:
        booking = book("mobil-race-1")(booking_session)  # checked and claimed, not committed
        thread, out = in_background(pg, publish("mobil-race-1"))
        thread.join(WAIT)
        assert thread.is_alive(), "the publication did not wait for the booking"
        booking_session.commit()
    thread.join(30)
    assert not thread.is_alive()
    (cap,) = out
    assert isinstance(cap, Capacity)
    assert VISIT.isoformat() in (cap.dates or {})  # the booked day stays
    with Session(pg) as session:
        assert session.get(Booking, booking.id) is not None


def test_a_booking_waits_for_a_publication_and_sees_the_new_plan(pg: Engine) -> None:
    stop(pg, "mobil-race-2")
    with Session(pg, expire_on_commit=False) as publishing:
        publish("mobil-race-2")(publishing)  # the row is locked until this commits
        thread, out = in_background(pg, book("mobil-race-2"))
        thread.join(WAIT)
        assert thread.is_alive(), "the booking did not wait for the publication"
        publishing.commit()
    thread.join(30)
    assert not thread.is_alive()
    (result,) = out
    assert isinstance(result, InvalidBooking)  # the visit is gone: no booking outside the hours
