"""Personal data is deleted on schedule; analytics events stay anonymous."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment import queue as queue_service
from servicepoint.appointment.errors import TicketNotFound
from servicepoint.appointment.models import Booking, OutboxMail
from servicepoint.config import Settings
from servicepoint.core import events
from servicepoint.core.events import FORBIDDEN_KEYS, Event
from servicepoint.worker import WorkerReport, run_once
from tests.appointment.conftest import LOCATION, Clock, berlin, book_via_api, fresh

pytestmark = pytest.mark.usefixtures("clock")

START = berlin(2026, 12, 16, 9, 0)
END = START + dt.timedelta(minutes=15)
NAME, EMAIL = "Erika Mustermann", "erika.mustermann@example.org"


def worker(session: Session, now: dt.datetime, days: int = 14) -> WorkerReport:
    settings = Settings(smtp_host=None, secret_key="x", booking_retention_days=days)
    report = run_once(fresh(session), settings=settings, now=now.astimezone(dt.UTC))
    session.commit()
    return report


def booking(session: Session, code: str) -> Booking:
    found = fresh(session).scalar(select(Booking).where(Booking.code == code))
    assert found is not None
    return found


def personal_data_in_outbox(session: Session) -> list[str]:
    mails = fresh(session).scalars(select(OutboxMail)).all()
    return [m.kind for m in mails if EMAIL in m.recipient or NAME in m.body]


def test_names_and_addresses_go_retention_days_after_the_appointment(
    client: TestClient, session: Session
) -> None:
    code = book_via_api(client, start=START.isoformat(), name=NAME, email=EMAIL)["code"]
    assert worker(session, END + dt.timedelta(days=13, hours=23)).bookings_purged == 0
    assert booking(session, code).name == NAME
    assert (
        worker(session, END + dt.timedelta(days=14) - dt.timedelta(minutes=1)).bookings_purged == 0
    )
    kept = booking(session, code)
    assert (kept.name, kept.email, kept.purged_at) == (NAME, EMAIL, None)

    later = END + dt.timedelta(days=14, minutes=1)
    assert worker(session, later).bookings_purged == 1
    purged = booking(session, code)
    assert purged.name is None and purged.email is None
    assert purged.purged_at == later
    # what statistics need stays
    assert (purged.start, purged.location_id, purged.service_ids) == (
        START,
        LOCATION,
        ["personalausweis"],
    )
    assert worker(session, later + dt.timedelta(days=1)).bookings_purged == 0  # done once


def test_the_retention_period_is_configurable(client: TestClient, session: Session) -> None:
    code = book_via_api(client, start=START.isoformat())["code"]
    assert worker(session, END + dt.timedelta(days=2), days=3).bookings_purged == 0
    assert worker(session, END + dt.timedelta(days=3, minutes=1), days=3).bookings_purged == 1
    assert booking(session, code).email is None


def test_cancelled_bookings_are_purged_too(client: TestClient, session: Session) -> None:
    code = book_via_api(client, start=START.isoformat())["code"]
    client.delete(f"/api/appointments/{code}")
    worker(session, END + dt.timedelta(days=15))
    assert booking(session, code).name is None


def test_no_personal_data_stays_in_the_outbox(client: TestClient, session: Session) -> None:
    """Sent and never-deliverable mails alike hold the name and the address."""
    book_via_api(client, start=START.isoformat(), name=NAME, email=EMAIL)
    mails = fresh(session).scalars(select(OutboxMail)).all()
    confirmation = next(m for m in mails if m.kind == "confirmation")
    confirmation.sent_at = START - dt.timedelta(days=2)  # delivered
    reminder = next(m for m in mails if m.kind == "reminder")
    reminder.attempts = 5  # the server refused it every time: never delivered
    reminder.last_error = "550 no such mailbox"
    session.commit()
    assert sorted(personal_data_in_outbox(session)) == ["confirmation", "reminder"]
    worker(session, START - dt.timedelta(days=1))
    assert sorted(personal_data_in_outbox(session)) == ["confirmation", "reminder"]
    worker(session, END + dt.timedelta(days=14, minutes=1))
    assert personal_data_in_outbox(session) == []


def test_events_never_hold_names_addresses_or_codes(
    client: TestClient, session: Session, clock: Clock
) -> None:
    first = book_via_api(client, start=START.isoformat(), name=NAME, email=EMAIL)["code"]
    second = book_via_api(
        client,
        start=berlin(2026, 12, 14, 10, 0).isoformat(),
        name="Max Mustermann",
        email="max@example.org",
    )["code"]
    client.post(
        f"/api/appointments/{first}/reschedule",
        json={"start": berlin(2026, 12, 17, 9, 0).isoformat()},
    )
    client.delete(f"/api/appointments/{first}")
    clock.set(berlin(2026, 12, 14, 9, 50))
    ticket = queue_service.check_in(session, code=second, location_id=LOCATION)
    walkin = queue_service.issue_ticket(session, location_id=LOCATION, service_id="reisepass")
    called = queue_service.call_next(session, location_id=LOCATION, counter=1)
    assert called is not None
    queue_service.finish(session, location_id=LOCATION, ticket_id=called.id, outcome="done")
    queue_service.booking_no_show(
        session,
        location_id=LOCATION,
        code=book_via_api(client, start=berlin(2026, 12, 14, 11, 0).isoformat())["code"],
    )
    session.commit()

    rows = fresh(session).scalars(select(Event)).all()
    kinds = {e.kind for e in rows}
    assert {
        "appointment.booked",
        "appointment.rescheduled",
        "appointment.cancelled",
        "queue.checked_in",
        "queue.ticket_issued",
        "queue.called",
        "queue.served",
        "appointment.no_show",
    } <= kinds
    secrets = [
        NAME,
        EMAIL,
        "Max Mustermann",
        "max@example.org",
        "Erika",
        "@",
        first,
        second,
        ticket.token,
        walkin.token,
    ]
    for event in rows:
        assert not FORBIDDEN_KEYS.intersection(event.data), event.data
        dumped = json.dumps([event.kind, event.location_id, event.service_id, event.data])
        for secret in secrets:
            assert secret not in dumped, (secret, dumped)


@pytest.mark.parametrize("key", sorted(FORBIDDEN_KEYS))
def test_record_refuses_identifying_keys(session: Session, key: str) -> None:
    before = len(events.events(session))
    data: dict[str, Any] = {key: "x"}
    with pytest.raises(ValueError, match="anonymous"):
        events.record(session, kind="test.event", location_id=LOCATION, **data)
    session.flush()
    assert len(events.events(session)) == before


def test_record_writes_one_event_per_service(session: Session) -> None:
    at = berlin(2026, 12, 14, 9, 0)
    events.record(
        session,
        kind="test.event",
        location_id=LOCATION,
        service_ids=["personalausweis", "reisepass"],
        at=at,
        minutes=30,
    )
    events.record(session, kind="test.event", location_id=LOCATION, at=at)
    session.flush()
    rows = events.events(session, kind="test.event")
    assert sorted((e.service_id or "-") for e in rows) == ["-", "personalausweis", "reisepass"]
    assert all(e.at == at for e in rows)
    assert events.events(session, kind="test.event", since=at + dt.timedelta(seconds=1)) == []


def test_waiting_numbers_go_retention_days_after_their_day(
    client: TestClient, session: Session
) -> None:
    resp = client.post("/api/tickets", json={"location_id": LOCATION})
    assert resp.status_code == 201, resp.text
    day = queue_service.get_ticket(fresh(session), token=resp.json()["token"]).day
    end_of_retention = berlin(day.year, day.month, day.day, 12) + dt.timedelta(days=14)
    assert worker(session, end_of_retention).tickets_purged == 0
    assert worker(session, end_of_retention + dt.timedelta(days=1)).tickets_purged == 1
    with pytest.raises(TicketNotFound):
        queue_service.get_ticket(fresh(session), token=resp.json()["token"])
