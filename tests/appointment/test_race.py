"""A slot's capacity holds under concurrency, on SQLite and on PostgreSQL.

These tests need real transactions in parallel, so they use their own committed database (a
fresh SQLite file, or the PostgreSQL test database reset, migrated and seeded) instead of the
rolled-back connection of the other tests. Every thread has its own Session, as every request
has; nothing but the database keeps them apart.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicepoint.app import create_app
from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import BookingCancelled, SlotTaken
from servicepoint.appointment.models import Booking, Capacity, SlotUsage, Ticket
from servicepoint.config import Settings
from tests.appointment.conftest import LOCATION, NOW, PASS, berlin

THREADS = 40
Outcome = str


def in_parallel(
    engine: Engine, count: int, action: Callable[[Session, int], object]
) -> Counter[Outcome]:
    """Run `action` in `count` threads that start together, each in its own committed Session."""
    barrier = threading.Barrier(count)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait(timeout=30)
            try:
                action(session, i)
                session.commit()
                result = "ok"
            except SlotTaken:
                session.rollback()
                result = "slot_taken"
            except BookingCancelled:
                session.rollback()
                result = "booking_cancelled"
            except Exception as exc:  # anything else is a failure the test reports
                session.rollback()
                result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return Counter(outcomes)


def capacity(engine: Engine) -> int:
    with Session(engine) as session:
        cap = session.get(Capacity, LOCATION)
        assert cap is not None
        return appointment_service.appointment_counters(cap)


def used(engine: Engine, start: dt.datetime) -> list[int]:
    """`used` of the cells from `start` on (a 15-minute booking takes two 10-minute cells)."""
    with Session(engine) as session:
        rows = session.execute(
            select(SlotUsage.start, SlotUsage.used, SlotUsage.capacity)
            .where(
                SlotUsage.location_id == LOCATION,
                SlotUsage.start >= start,
                SlotUsage.start < start + dt.timedelta(minutes=20),
            )
            .order_by(SlotUsage.start)
        ).all()
        assert all(u <= c for _, u, c in rows)
        return [u for _, u, _ in rows]


def bookings_at(engine: Engine, start: dt.datetime) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count(Booking.id)).where(
                    Booking.location_id == LOCATION,
                    Booking.start == start,
                    Booking.status == "booked",
                )
            )
            or 0
        )


def book_at(start: dt.datetime) -> Callable[[Session, int], Booking]:
    def action(session: Session, i: int) -> Booking:
        return appointment_service.book(
            session,
            service_ids=[PASS],
            location_id=LOCATION,
            start=start,
            name=f"Person {i}",
            email=f"person{i}@example.org",
            now=NOW,
        )

    return action


def test_the_default_capacity_is_two(real_engine: Engine) -> None:
    assert capacity(real_engine) == 2  # 3 counters, 34 % kept for walk-ins


def test_forty_clients_race_for_one_slot(real_engine: Engine) -> None:
    start = berlin(2026, 12, 15, 9, 0)
    outcomes = in_parallel(real_engine, THREADS, book_at(start))
    cap = capacity(real_engine)
    assert outcomes == Counter({"ok": cap, "slot_taken": THREADS - cap}), outcomes
    assert used(real_engine, start) == [cap, cap]
    assert bookings_at(real_engine, start) == cap


def test_overlapping_durations_race_for_shared_cells(real_engine: Engine) -> None:
    """15-minute bookings at 10:00 and 10:10 share the 10:10 cell: it never holds more than
    capacity, whichever start wins."""
    first, second = berlin(2026, 12, 15, 10, 0), berlin(2026, 12, 15, 10, 10)

    def action(session: Session, i: int) -> object:
        return book_at(first if i % 2 else second)(session, i)

    outcomes = in_parallel(real_engine, THREADS, action)
    assert set(outcomes) <= {"ok", "slot_taken"}, outcomes
    with Session(real_engine) as session:
        shared = session.get(SlotUsage, (LOCATION, berlin(2026, 12, 15, 10, 10)))
        assert shared is not None and shared.used == shared.capacity == capacity(real_engine)
        total = (
            session.scalar(select(func.count(Booking.id)).where(Booking.start.in_([first, second])))
            or 0
        )
    assert total == outcomes["ok"] == capacity(real_engine)


def test_cancelling_the_same_booking_at_once_frees_its_place_once(real_engine: Engine) -> None:
    start = berlin(2026, 12, 16, 9, 0)
    codes = []
    for i in range(2):
        with Session(real_engine, expire_on_commit=False) as session:
            codes.append(book_at(start)(session, i))
            session.commit()
    code = codes[0].code
    assert used(real_engine, start) == [2, 2]

    outcomes = in_parallel(
        real_engine, 20, lambda session, _: appointment_service.cancel(session, code=code, now=NOW)
    )
    assert outcomes == Counter({"ok": 1, "booking_cancelled": 19}), outcomes
    assert used(real_engine, start) == [1, 1]  # one booking left holds one place
    outcomes = in_parallel(real_engine, THREADS, book_at(start))
    assert outcomes["ok"] == 1, outcomes
    assert used(real_engine, start) == [2, 2]
    assert bookings_at(real_engine, start) == 2


def test_moving_the_same_booking_at_once_keeps_the_counts(real_engine: Engine) -> None:
    start = berlin(2026, 12, 17, 9, 0)
    with Session(real_engine, expire_on_commit=False) as session:
        code = appointment_service.book(
            session,
            service_ids=[PASS],
            location_id=LOCATION,
            start=start,
            name="Erika",
            email="erika@example.org",
            now=NOW,
        ).code
        session.commit()
    targets = [berlin(2026, 12, 17, 10, 0) + dt.timedelta(minutes=20 * k) for k in range(5)]

    def action(session: Session, i: int) -> object:
        return appointment_service.reschedule(session, code=code, start=targets[i % 5], now=NOW)

    outcomes = in_parallel(real_engine, 10, action)
    assert set(outcomes) <= {"ok", "slot_taken"}, outcomes
    with Session(real_engine) as session:
        booking = session.scalar(select(Booking).where(Booking.code == code))
        assert booking is not None
        taken = session.execute(
            select(SlotUsage.start, SlotUsage.used).where(
                SlotUsage.location_id == LOCATION,
                SlotUsage.used > 0,
                SlotUsage.start >= start,
                SlotUsage.start < start + dt.timedelta(hours=3),
            )
        ).all()
    # exactly the two cells of wherever the booking ended up hold one place each
    assert sorted(taken) == [(booking.start, 1), (booking.start + dt.timedelta(minutes=10), 1)]


def test_bookings_swapping_times_at_once_do_not_deadlock(real_engine: Engine) -> None:
    """Two citizens move into each other's times at the same moment: both moves go through
    (each slot has room), and PostgreSQL finds no deadlock between them."""
    for day in (22, 23):
        for minute in range(0, 200, 40):
            first = berlin(2026, 12, day, 8, 0) + dt.timedelta(minutes=minute)
            second = first + dt.timedelta(minutes=20)
            codes = []
            with Session(real_engine, expire_on_commit=False) as session:
                for i, start in enumerate((first, second)):
                    codes.append(book_at(start)(session, i).code)
                session.commit()
            moves = [(codes[0], second), (codes[1], first)]

            def swap(
                session: Session, i: int, moves: list[tuple[str, dt.datetime]] = moves
            ) -> Booking:
                return appointment_service.reschedule(
                    session, code=moves[i][0], start=moves[i][1], now=NOW
                )

            outcomes = in_parallel(real_engine, 2, swap)
            assert outcomes == Counter({"ok": 2}), outcomes
            assert used(real_engine, first) == [1, 1]
            assert used(real_engine, second) == [1, 1]


def test_two_clerks_never_call_the_same_ticket(real_engine: Engine) -> None:
    now = berlin(2026, 12, 14, 9, 0)
    with Session(real_engine, expire_on_commit=False) as session:
        for _ in range(3):
            queue_service.issue_ticket(session, location_id=LOCATION, now=now)
        session.commit()
    called: list[str | None] = []
    lock = threading.Lock()

    def action(session: Session, i: int) -> object:
        ticket = queue_service.call_next(
            session, location_id=LOCATION, counter=i + 1, now=now + dt.timedelta(minutes=1)
        )
        with lock:
            called.append(ticket.label if ticket else None)
        return ticket

    outcomes = in_parallel(real_engine, 8, action)
    assert outcomes == Counter({"ok": 8}), outcomes
    labels = [c for c in called if c]
    assert sorted(labels) == ["W001", "W002", "W003"]
    assert called.count(None) == 5
    with Session(real_engine) as session:
        counters = session.scalars(
            select(Ticket.counter).where(Ticket.location_id == LOCATION, Ticket.status == "called")
        ).all()
    assert len(counters) == 3 and len(set(counters)) == 3


def test_kiosks_drawing_at_once_get_distinct_numbers(real_engine: Engine) -> None:
    now = berlin(2026, 12, 18, 9, 0)
    outcomes = in_parallel(
        real_engine,
        10,
        lambda session, _: queue_service.issue_ticket(session, location_id=LOCATION, now=now),
    )
    assert outcomes == Counter({"ok": 10}), outcomes
    with Session(real_engine) as session:
        labels = session.scalars(
            select(Ticket.label).where(
                Ticket.location_id == LOCATION, Ticket.day == dt.date(2026, 12, 18)
            )
        ).all()
    assert sorted(labels) == [f"W{n:03d}" for n in range(1, 11)]


def test_race_over_http(real_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same race through the whole request path: one app, many client threads."""
    monkeypatch.setattr(appointment_service, "utcnow", lambda: NOW)
    url = real_engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, secret_key="test", bot_protection="off", redis_url=None)
    # More clients than the app admits at once on SQLite (sqlite_in_flight): the rest queue.
    clients = 60
    app = create_app(settings)
    start = berlin(2026, 12, 21, 9, 0).isoformat()
    statuses: list[int] = []
    lock = threading.Lock()
    with TestClient(app, raise_server_exceptions=False) as client:
        barrier = threading.Barrier(clients)

        def run(i: int) -> None:
            barrier.wait(timeout=30)
            resp = client.post(
                "/api/appointments",
                json={
                    "service_ids": [PASS],
                    "location_id": LOCATION,
                    "start": start,
                    "name": f"Person {i}",
                    "email": f"person{i}@example.org",
                },
            )
            with lock:
                statuses.append(resp.status_code)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    cap = capacity(real_engine)
    assert Counter(statuses) == Counter({201: cap, 409: clients - cap}), statuses
    assert bookings_at(real_engine, berlin(2026, 12, 21, 9, 0)) == cap
