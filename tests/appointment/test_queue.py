"""Walk-in tickets and the counter console: hours, numbering, estimates, check-in, fair calling,
closing tickets and the HTTP routes for kiosks and phones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import InvalidBooking, QueueConflict, TicketNotFound
from servicepoint.appointment.models import Booking, Ticket
from servicepoint.core import events
from tests.appointment.conftest import (
    LOCATION,
    NOW,
    PASS,
    Clock,
    berlin,
    capacity_of,
    fresh,
    restrict_services,
)

MONDAY_9 = berlin(2026, 12, 14, 9, 0)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def walk_in(
    session: Session,
    at: dt.datetime = MONDAY_9,
    location: str = LOCATION,
    service: str | None = None,
) -> Ticket:
    ticket = queue_service.issue_ticket(session, location_id=location, service_id=service, now=at)
    session.flush()
    return ticket


def booked(session: Session, start: dt.datetime, email: str = "erika@example.org") -> Booking:
    booking = appointment_service.book(
        session,
        service_ids=[PASS],
        location_id=LOCATION,
        start=start,
        name="Erika Mustermann",
        email=email,
        now=NOW,
    )
    session.flush()
    return booking


def call(session: Session, at: dt.datetime, counter: int = 1) -> Ticket | None:
    return queue_service.call_next(session, location_id=LOCATION, counter=counter, now=at)


# -- issuing ----------------------------------------------------------------------------------
def test_a_walk_in_gets_a_number_during_service_hours(session: Session) -> None:
    ticket = walk_in(session)
    assert ticket.label == "W001" and ticket.kind == "walkin" and ticket.status == "waiting"
    assert ticket.day == dt.date(2026, 12, 14) and ticket.issued_at == MONDAY_9
    assert ticket.due_at == MONDAY_9 + minutes(20)  # promise: the top of the range shown
    assert len(ticket.token) >= 16
    assert [e.kind for e in events.events(session, kind="queue.ticket_issued")] == [
        "queue.ticket_issued"
    ]


@pytest.mark.parametrize(
    "at",
    [
        berlin(2026, 12, 14, 7, 59),  # before opening
        berlin(2026, 12, 14, 12, 0),  # closing time
        berlin(2026, 12, 14, 15, 0),  # Monday afternoon: no service
        berlin(2026, 12, 19, 10, 0),  # Saturday
        berlin(2026, 12, 25, 10, 0),  # Christmas (a Friday)
    ],
)
def test_no_numbers_outside_service_hours(session: Session, at: dt.datetime) -> None:
    with pytest.raises(InvalidBooking) as info:
        walk_in(session, at)
    assert info.value.code == "closed_now" and info.value.status_code == 422


def test_tuesday_afternoon_is_served(session: Session) -> None:
    assert walk_in(session, berlin(2026, 12, 15, 15, 0)).label == "W001"


def test_no_numbers_on_a_closed_day_or_without_walk_in_counters(session: Session) -> None:
    appointment_service.add_closure(
        session, location_id=LOCATION, day=dt.date(2026, 12, 14), reason="Schulung"
    )
    with pytest.raises(InvalidBooking):
        walk_in(session)
    assert walk_in(session, location="linden").label == "W001"
    restrict_services(session, None, location_id="linden", walkin_share=0)
    with pytest.raises(InvalidBooking) as info:
        walk_in(session, location="linden")
    assert info.value.code == "closed_now"


def test_numbers_count_up_per_location_and_day(session: Session) -> None:
    labels = [walk_in(session, MONDAY_9 + minutes(i)).label for i in range(3)]
    assert labels == ["W001", "W002", "W003"]
    assert walk_in(session, location="linden").label == "W001"
    assert walk_in(session, berlin(2026, 12, 15, 9, 0)).label == "W001"  # a new day


def test_an_unknown_service_is_refused(session: Session) -> None:
    with pytest.raises(InvalidBooking) as info:
        walk_in(session, service="gibt-es-nicht")
    assert info.value.code == "unknown_service"
    assert walk_in(session, service="reisepass").service_id == "reisepass"


# -- status and estimates ---------------------------------------------------------------------
def test_ticket_status_shows_position_and_a_range(session: Session) -> None:
    tickets = [walk_in(session, MONDAY_9 + minutes(i)) for i in range(4)]
    statuses = [
        queue_service.ticket_status(session, token=t.token, now=MONDAY_9 + minutes(5))
        for t in tickets
    ]
    assert [s.position for s in statuses] == [0, 1, 2, 3]
    for status in statuses:
        assert status.estimate is not None
        low, high = status.estimate.low_minutes, status.estimate.high_minutes
        assert 0 <= low < high and low % 5 == 0 and high % 5 == 0
    highs = [s.estimate.high_minutes for s in statuses if s.estimate]
    assert highs == sorted(highs) and highs[0] < highs[-1]

    call(session, MONDAY_9 + minutes(10))
    first = queue_service.ticket_status(session, token=tickets[0].token)
    assert first.position is None and first.estimate is None
    assert first.ticket.status == "called"
    assert queue_service.ticket_status(session, token=tickets[1].token).position == 0
    with pytest.raises(TicketNotFound):
        queue_service.ticket_status(session, token="nope")


def test_the_estimate_for_a_new_number_grows_with_the_queue(session: Session) -> None:
    empty = queue_service.estimate_now(session, location_id=LOCATION, now=MONDAY_9)
    for i in range(5):
        walk_in(session, MONDAY_9 + minutes(i))
    busy = queue_service.estimate_now(session, location_id=LOCATION, now=MONDAY_9 + minutes(5))
    assert empty is not None and busy is not None
    assert busy.low_minutes > empty.low_minutes and busy.high_minutes > empty.high_minutes
    closed = queue_service.estimate_now(
        session, location_id=LOCATION, now=berlin(2026, 12, 14, 13, 0)
    )
    assert closed is None


# -- check-in ---------------------------------------------------------------------------------
def test_check_in_creates_a_ticket_due_at_the_appointment(session: Session) -> None:
    walk_in(session)
    booking = booked(session, berlin(2026, 12, 14, 10, 0))
    ticket = queue_service.check_in(
        session, code=booking.code.lower(), location_id=LOCATION, now=berlin(2026, 12, 14, 9, 50)
    )
    assert ticket.label.startswith("T") and ticket.kind == "appointment"
    assert ticket.label == "T002"  # one number sequence per location and day
    assert ticket.due_at == booking.start and ticket.booking_id == booking.id
    assert ticket.service_id == PASS
    assert fresh(session).get(Booking, booking.id).status == "arrived"  # type: ignore[union-attr]
    again = queue_service.check_in(
        session, code=booking.code, location_id=LOCATION, now=berlin(2026, 12, 14, 9, 52)
    )
    assert again.id == ticket.id


def test_check_in_is_refused_elsewhere_or_on_another_day(session: Session) -> None:
    tomorrow = booked(session, berlin(2026, 12, 15, 10, 0))
    today = booked(session, berlin(2026, 12, 14, 10, 0), email="max@example.org")
    with pytest.raises(InvalidBooking) as info:
        queue_service.check_in(session, code=today.code, location_id="linden", now=MONDAY_9)
    assert info.value.code == "other_location"
    with pytest.raises(InvalidBooking) as info:
        queue_service.check_in(session, code=tomorrow.code, location_id=LOCATION, now=MONDAY_9)
    assert info.value.code == "not_today"
    appointment_service.cancel(session, code=today.code, now=NOW)
    with pytest.raises(InvalidBooking) as info:
        queue_service.check_in(session, code=today.code, location_id=LOCATION, now=MONDAY_9)
    assert info.value.code == "not_today"


# -- calling ----------------------------------------------------------------------------------
def test_an_appointment_due_now_goes_before_a_walk_in_who_just_arrived(session: Session) -> None:
    ten = berlin(2026, 12, 14, 10, 0)
    booking = booked(session, ten)
    appointment = queue_service.check_in(
        session, code=booking.code, location_id=LOCATION, now=ten - minutes(5)
    )
    walkin = walk_in(session, ten)
    assert walkin.due_at > appointment.due_at
    first, second = call(session, ten), call(session, ten + minutes(1), counter=2)
    assert first is not None and second is not None
    assert (first.id, second.id) == (appointment.id, walkin.id)
    assert (first.counter, second.counter) == (1, 2)
    assert call(session, ten + minutes(2)) is None  # nobody left


def test_a_walk_in_past_their_promise_goes_before_a_later_appointment(session: Session) -> None:
    walkin = walk_in(session, MONDAY_9)  # promised by 09:20
    booking = booked(session, berlin(2026, 12, 14, 11, 0))
    appointment = queue_service.check_in(
        session, code=booking.code, location_id=LOCATION, now=berlin(2026, 12, 14, 10, 0)
    )
    first = call(session, berlin(2026, 12, 14, 10, 0))
    assert first is not None and first.id == walkin.id
    second = call(session, berlin(2026, 12, 14, 10, 5))
    assert second is not None and second.id == appointment.id


def test_walk_ins_are_called_in_the_order_they_came(session: Session) -> None:
    tickets = [walk_in(session, MONDAY_9 + minutes(i)) for i in range(3)]
    called = [call(session, MONDAY_9 + minutes(10 + i)) for i in range(3)]
    assert [t.id for t in called if t] == [t.id for t in tickets]
    event = events.events(session, kind="queue.called")[0]
    assert event.data["ticket_kind"] == "walkin" and event.data["wait_minutes"] == 10.0


def test_two_clerks_calling_at_once_never_get_the_same_ticket(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clerk A read the queue, clerk B called its head before A's update ran: A must skip the
    ticket B got instead of taking it over. (test_race.py runs this with real threads.)"""
    first, second = walk_in(session), walk_in(session, MONDAY_9 + minutes(1))
    stale = queue_service.waiting_tickets(session, location_id=LOCATION, day=dt.date(2026, 12, 14))
    b = call(session, MONDAY_9 + minutes(5), counter=2)
    assert b is not None and b.id == first.id
    monkeypatch.setattr(queue_service, "waiting_tickets", lambda *_, **__: list(stale))
    a = call(session, MONDAY_9 + minutes(5), counter=1)
    assert a is not None and a.id == second.id
    assert fresh(session).get(Ticket, first.id).counter == 2  # type: ignore[union-attr]
    monkeypatch.setattr(queue_service, "waiting_tickets", lambda *_, **__: list(stale))
    assert call(session, MONDAY_9 + minutes(6), counter=3) is None  # both already taken


# -- finishing --------------------------------------------------------------------------------
def test_done_and_no_show_close_tickets(session: Session) -> None:
    walk_in(session, berlin(2026, 12, 14, 9, 58))  # promised by 10:18
    booking = booked(session, berlin(2026, 12, 14, 10, 0))
    queue_service.check_in(
        session, code=booking.code, location_id=LOCATION, now=berlin(2026, 12, 14, 9, 55)
    )
    first = call(session, berlin(2026, 12, 14, 10, 0))
    assert first is not None and first.kind == "appointment"
    done = queue_service.finish(
        session,
        location_id=LOCATION,
        ticket_id=first.id,
        outcome="done",
        now=berlin(2026, 12, 14, 10, 14),
    )
    assert done.status == "done" and done.done_at == berlin(2026, 12, 14, 10, 14)
    assert fresh(session).get(Booking, booking.id).status == "done"  # type: ignore[union-attr]
    second = call(session, berlin(2026, 12, 14, 10, 15))
    assert second is not None and second.kind == "walkin"
    gone = queue_service.finish(
        session,
        location_id=LOCATION,
        ticket_id=second.id,
        outcome="no_show",
        now=berlin(2026, 12, 14, 10, 17),
    )
    assert gone.status == "no_show"
    served = events.events(session, kind="queue.served")
    assert [e.data["minutes"] for e in served] == [14.0]
    assert len(events.events(session, kind="queue.no_show")) == 1

    with pytest.raises(QueueConflict):
        queue_service.finish(session, location_id=LOCATION, ticket_id=first.id, outcome="done")
    with pytest.raises(InvalidBooking) as info:
        queue_service.finish(session, location_id=LOCATION, ticket_id=second.id, outcome="vanished")
    assert info.value.code == "invalid_outcome"
    with pytest.raises(TicketNotFound):
        queue_service.finish(session, location_id="linden", ticket_id=second.id, outcome="done")


def test_a_booking_nobody_came_to(session: Session) -> None:
    booking = booked(session, berlin(2026, 12, 14, 10, 0))
    queue_service.booking_no_show(
        session, location_id=LOCATION, code=booking.code, now=berlin(2026, 12, 14, 10, 30)
    )
    assert booking.status == "no_show"
    with pytest.raises(QueueConflict):
        queue_service.booking_no_show(session, location_id=LOCATION, code=booking.code)


def test_transfer_sends_the_citizen_to_another_counter(session: Session) -> None:
    ticket = walk_in(session)
    called = call(session, MONDAY_9 + minutes(2), counter=1)
    assert called is not None and called.id == ticket.id
    moved = queue_service.recall(
        session, location_id=LOCATION, ticket_id=ticket.id, counter=3, now=MONDAY_9 + minutes(6)
    )
    assert (moved.status, moved.counter, moved.called_at) == ("called", 3, MONDAY_9 + minutes(6))
    latest = queue_service.called_today(session, location_id=LOCATION, now=MONDAY_9)
    assert [(t.label, t.counter) for t in latest] == [("W001", 3)]
    queue_service.finish(
        session,
        location_id=LOCATION,
        ticket_id=ticket.id,
        outcome="done",
        now=MONDAY_9 + minutes(9),
    )
    with pytest.raises(QueueConflict):
        queue_service.recall(session, location_id=LOCATION, ticket_id=ticket.id, counter=2)


def test_served_durations_feed_the_mean_service_time(session: Session) -> None:
    assert queue_service.mean_service_minutes(
        session, location_id=LOCATION, now=MONDAY_9
    ) == pytest.approx(12.0)
    before = queue_service.estimate_now(session, location_id=LOCATION, now=MONDAY_9)
    for i in range(2):
        ticket = walk_in(session, MONDAY_9 + minutes(i))
        queue_service.call_next(
            session, location_id=LOCATION, counter=1, now=MONDAY_9 + minutes(2 + 40 * i)
        )
        queue_service.finish(
            session,
            location_id=LOCATION,
            ticket_id=ticket.id,
            outcome="done",
            now=MONDAY_9 + minutes(32 + 40 * i),
        )
    # two 30-minute services, shrunk toward the 12-minute prior weighted as five samples
    assert queue_service.mean_service_minutes(
        session, location_id=LOCATION, now=MONDAY_9 + minutes(90)
    ) == pytest.approx((2 * 30 + 5 * 12) / 7)
    after = queue_service.estimate_now(session, location_id=LOCATION, now=MONDAY_9 + minutes(90))
    assert before is not None and after is not None
    assert after.high_minutes > before.high_minutes
    # older than 30 days: forgotten
    assert queue_service.mean_service_minutes(
        session, location_id=LOCATION, now=MONDAY_9 + dt.timedelta(days=31)
    ) == pytest.approx(12.0)
    # no-shows are not service times
    ticket = walk_in(session, MONDAY_9 + minutes(100))
    call(session, MONDAY_9 + minutes(100))
    queue_service.finish(
        session,
        location_id=LOCATION,
        ticket_id=ticket.id,
        outcome="no_show",
        now=MONDAY_9 + minutes(110),
    )
    assert queue_service.mean_service_minutes(
        session, location_id=LOCATION, now=MONDAY_9 + minutes(111)
    ) == pytest.approx((2 * 30 + 5 * 12) / 7)


def test_walk_in_counters_follow_the_share(session: Session) -> None:
    cap = capacity_of(session)
    assert (
        cap.counters,
        appointment_service.appointment_counters(cap),
        queue_service.walkin_counters(cap),
    ) == (3, 2, 1)


# -- over HTTP --------------------------------------------------------------------------------
TICKET_KEYS = {
    "token",
    "label",
    "location_id",
    "kind",
    "status",
    "counter",
    "issued_at",
    "position",
    "estimate_low_minutes",
    "estimate_high_minutes",
    "url",
}


def draw(client: TestClient, **body: Any) -> dict[str, Any]:
    resp = client.post("/api/tickets", json={"location_id": LOCATION, **body})
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def test_tickets_over_http(client: TestClient, clock: Clock) -> None:
    clock.set(MONDAY_9)
    first = draw(client)
    assert set(first) == TICKET_KEYS
    assert (first["label"], first["kind"], first["status"], first["position"]) == (
        "W001",
        "walkin",
        "waiting",
        0,
    )
    assert first["estimate_low_minutes"] < first["estimate_high_minutes"]
    assert first["url"] == f"http://testserver/wartenummer/{first['token']}"
    second = draw(client, service_id="reisepass")
    assert (second["label"], second["position"]) == ("W002", 1)
    assert second["estimate_high_minutes"] >= first["estimate_high_minutes"]

    clock.set(MONDAY_9 + minutes(3))
    read = client.get(f"/api/tickets/{second['token']}")
    assert read.status_code == 200 and read.json()["position"] == 1
    missing = client.get("/api/tickets/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "ticket_not_found"


def test_waiting_over_http(client: TestClient, clock: Clock) -> None:
    clock.set(MONDAY_9)
    draw(client)
    draw(client)
    resp = client.get(f"/api/locations/{LOCATION}/waiting")
    assert resp.status_code == 200
    data = resp.json()
    assert data["location_id"] == LOCATION and data["open_now"] is True
    assert data["waiting"] == 2
    assert 0 <= data["estimate_low_minutes"] < data["estimate_high_minutes"]
    assert dt.datetime.fromisoformat(data["next_free_slot"]) == berlin(2026, 12, 14, 10, 0)

    clock.set(berlin(2026, 12, 14, 13, 0))
    closed = client.get(f"/api/locations/{LOCATION}/waiting").json()
    assert closed["open_now"] is False and closed["estimate_high_minutes"] is None
    assert dt.datetime.fromisoformat(closed["next_free_slot"]) == berlin(2026, 12, 15, 8, 0)
    assert client.get("/api/locations/atlantis/waiting").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"location_id": "atlantis"}, 404, "location_not_found"),
        ({"location_id": LOCATION, "service_id": "gibt-es-nicht"}, 422, "unknown_service"),
        ({"location_id": LOCATION, "name": "Erika"}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
    ],
)
def test_bad_ticket_requests(
    client: TestClient, clock: Clock, body: dict[str, Any], status: int, code: str
) -> None:
    clock.set(MONDAY_9)
    resp = client.post("/api/tickets", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == code


def test_no_tickets_over_http_outside_hours(
    client: TestClient, clock: Clock, session: Session
) -> None:
    clock.set(berlin(2026, 12, 14, 13, 0))
    resp = client.post("/api/tickets", json={"location_id": LOCATION})
    assert resp.status_code == 422 and resp.json()["error"] == "closed_now"
    assert resp.json()["detail"].startswith("Wartenummern gibt es nur")
    en = client.post("/api/tickets?lang=en", json={"location_id": LOCATION})
    assert en.json()["detail"] == "Waiting numbers are only issued during service hours."
    assert (
        queue_service.tickets_today(
            fresh(session), location_id=LOCATION, now=berlin(2026, 12, 14, 13, 0)
        )
        == []
    )
