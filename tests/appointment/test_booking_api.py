"""The appointments API (contract: ../shared/API.md): slots, booking, reading, cancelling, moving,
the calendar file, and refusals of bad input that store nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking, OutboxMail, SlotUsage
from servicepoint.appointment.service import (
    CODE_ALPHABET,
    CODE_LENGTH,
    add_closure,
    format_code,
    new_code,
    normalise_code,
)
from servicepoint.core.clock import BERLIN
from servicepoint.core.events import Event
from tests.appointment.conftest import (
    EXTERNAL_ONLY,
    LOCATION,
    ONLINE_ONLY,
    PASS,
    PASSPORT,
    REGISTRATION,
    Clock,
    berlin,
    book_via_api,
    first_slot,
    fresh,
    restrict_services,
)

pytestmark = pytest.mark.usefixtures("clock")

SLOT_KEYS = {"location_id", "start", "end", "capacity_left"}
CREATED_KEYS = {"id", "code", "location_id", "start", "end", "cancel_url", "ics_url"}
TUESDAY_9 = berlin(2026, 12, 15, 9, 0)


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def slots(client: TestClient, *services: str, **params: str) -> list[dict[str, Any]]:
    resp = client.get(
        "/api/appointments/slots", params={"service": list(services or (PASS,)), **params}
    )
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()
    return found


def capacity_left(
    client: TestClient, start: dt.datetime, location: str = LOCATION, service: str = PASS
) -> int:
    """capacity_left of one start (0 when it is no longer offered)."""
    day = start.astimezone(BERLIN).date().isoformat()
    for slot in slots(client, service, location=location, date_from=day, date_to=day):
        if when(slot["start"]) == start:
            return int(slot["capacity_left"])
    return 0


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_ids": [PASS],
        "location_id": LOCATION,
        "start": TUESDAY_9.isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    body.update(overrides)
    return body


def stored(session: Session) -> tuple[int, int, int, int]:
    """Everything a booking would write: bookings, claimed places, mails and events."""
    fresh(session)
    return (
        session.scalar(select(func.count(Booking.id))) or 0,
        session.scalar(select(func.coalesce(func.sum(SlotUsage.used), 0))) or 0,
        session.scalar(select(func.count(OutboxMail.id))) or 0,
        session.scalar(select(func.count(Event.id))) or 0,
    )


# -- slots ------------------------------------------------------------------------------------
def test_slots_have_the_contract_shape_earliest_first(client: TestClient) -> None:
    found = slots(client)
    assert found and all(set(s) == SLOT_KEYS for s in found)
    starts = [when(s["start"]) for s in found]
    assert starts == sorted(starts)
    assert all(t.tzinfo is not None for t in starts)
    # now is Monday 08:00 with a lead time of 60 minutes: 09:00 is the earliest start anywhere
    assert starts[0] == berlin(2026, 12, 14, 9, 0)
    assert all(when(s["end"]) - when(s["start"]) == dt.timedelta(minutes=15) for s in found)
    assert {s["capacity_left"] for s in found} == {2}  # 3 counters, 34 % kept for walk-ins
    assert len({s["location_id"] for s in found if when(s["start"]) == starts[0]}) > 1
    days = {t.astimezone(BERLIN).date() for t in starts}
    assert dt.date(2026, 12, 25) not in days  # Christmas
    assert max(days) <= dt.date(2026, 12, 27)  # 14 days unless date_to is given


def test_slots_filter_by_location_and_dates(client: TestClient) -> None:
    found = slots(client, location="linden", date_from="2026-12-16", date_to="2026-12-17")
    assert found and {s["location_id"] for s in found} == {"linden"}
    days = {when(s["start"]).astimezone(BERLIN).date().isoformat() for s in found}
    assert days == {"2026-12-16", "2026-12-17"}
    afternoon = [s for s in found if when(s["start"]).astimezone(BERLIN).hour >= 14]
    assert afternoon and all(  # Thursday afternoon only
        when(s["start"]).astimezone(BERLIN).date() == dt.date(2026, 12, 17) for s in afternoon
    )
    assert slots(client, date_from="2026-12-25", date_to="2026-12-25") == []
    past = slots(client, location="linden", date_from="2026-11-01", date_to="2026-12-14")
    assert past and all(when(s["start"]) >= berlin(2026, 12, 14, 9, 0) for s in past)


def test_slots_for_several_services_add_their_durations(client: TestClient) -> None:
    found = slots(client, PASS, PASSPORT, REGISTRATION, location=LOCATION)
    assert all(when(s["end"]) - when(s["start"]) == dt.timedelta(minutes=40) for s in found)
    assert when(found[-1]["start"]).astimezone(BERLIN).strftime("%H:%M") != "11:50"
    monday = [s for s in found if when(s["start"]).date() == dt.date(2026, 12, 14)]
    assert when(monday[-1]["start"]) == berlin(2026, 12, 14, 11, 20)  # 11:20 + 40 min = 12:00


def test_a_limit_gives_the_first_slots_of_the_full_search(client: TestClient) -> None:
    # a booking changes one location's first slot; the early exit must still see it
    book_via_api(client, start=berlin(2026, 12, 14, 9, 0).isoformat())
    full = slots(client, PASS, PASSPORT, date_to="2026-12-20")
    for limit in (1, 3, 40, 500):
        assert (
            slots(client, PASS, PASSPORT, date_to="2026-12-20", limit=str(limit)) == (full[:limit])
        )


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"service": "gibt-es-nicht"}, 422, "unknown_service"),
        ({"service": ONLINE_ONLY}, 422, "service_not_bookable"),
        ({"service": PASS, "location": "atlantis"}, 404, "location_not_found"),
        ({"service": PASS, "date_from": "morgen"}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
    ],
)
def test_bad_slot_queries_are_clear_4xx(
    client: TestClient, params: dict[str, str], status: int, code: str
) -> None:
    resp = client.get("/api/appointments/slots", params=params)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == code and resp.json()["detail"]


# -- booking ----------------------------------------------------------------------------------
def test_booking_returns_the_contract_shape(client: TestClient, session: Session) -> None:
    slot = first_slot(client)
    body = book_via_api(client, start=slot["start"])
    assert set(body) == CREATED_KEYS
    code = body["code"]
    assert body["location_id"] == LOCATION
    assert when(body["start"]) == when(slot["start"])
    assert when(body["end"]) - when(body["start"]) == dt.timedelta(minutes=15)
    assert body["cancel_url"].endswith(f"/termine/{code}/absagen")
    assert body["ics_url"].endswith(f"/api/appointments/{code}/ics")
    booking = fresh(session).scalar(select(Booking).where(Booking.code == code))
    assert booking is not None and booking.status == "booked" and booking.email


def test_a_booking_stores_its_mails_and_one_event_per_service(
    client: TestClient, session: Session
) -> None:
    # PostgreSQL writes booking, outbox and events in one statement, SQLite in three: the rows
    # must be the same either way.
    body = book_via_api(client, start=TUESDAY_9.isoformat(), services=(PASS, PASSPORT))
    minutes = (when(body["end"]) - when(body["start"])) / dt.timedelta(minutes=1)
    code = body["code"]
    fresh(session)
    booking = session.scalars(select(Booking).where(Booking.code == code)).one()
    mails = session.scalars(select(OutboxMail).where(OutboxMail.booking_id == booking.id)).all()
    assert sorted(m.kind for m in mails) == ["confirmation", "reminder"]
    assert {m.recipient for m in mails} == {"erika@example.org"}
    assert all(m.sent_at is None and m.meta["base_url"] for m in mails)
    booked = session.scalars(select(Event).where(Event.kind == "appointment.booked")).all()
    assert sorted(e.service_id or "" for e in booked) == sorted([PASS, PASSPORT])
    assert all(e.location_id == LOCATION and e.data["minutes"] == minutes for e in booked)
    assert all("erika" not in str(e.data) for e in booked)


def test_a_booking_is_read_by_its_code(client: TestClient) -> None:
    code = book_via_api(client)["code"]
    resp = client.get(f"/api/appointments/{code}")
    assert resp.status_code == 200
    data = resp.json()
    assert data["code"] == code and data["status"] == "booked"
    assert data["service_ids"] == [PASS] and data["name"] == "Erika Mustermann"
    assert "email" not in data  # the code shows the booking, not the address
    spaced = "-".join(code[i : i + 4] for i in range(0, 12, 4)).lower()
    assert client.get(f"/api/appointments/{spaced}").json()["code"] == code
    missing = client.get("/api/appointments/ZZZZZZZZZZZZ")
    assert missing.status_code == 404 and missing.json()["error"] == "booking_not_found"


def test_cancel_frees_the_slot_at_once_and_the_code_is_spent(client: TestClient) -> None:
    start = when(first_slot(client)["start"])
    code = book_via_api(client, start=start.isoformat())["code"]
    other = book_via_api(client, start=start.isoformat(), email="max@example.org")["code"]
    assert capacity_left(client, start) == 0  # full: no longer offered
    resp = client.delete(f"/api/appointments/{code}")
    assert resp.status_code == 204 and resp.content == b""
    assert capacity_left(client, start) == 1
    assert client.delete(f"/api/appointments/{other}").status_code == 204
    assert capacity_left(client, start) == 2

    again = client.delete(f"/api/appointments/{code}")
    assert again.status_code == 409 and again.json()["error"] == "booking_cancelled"
    moved = client.post(
        f"/api/appointments/{code}/reschedule",
        json={"start": (start + dt.timedelta(minutes=30)).isoformat()},
    )
    assert moved.status_code == 409 and moved.json()["error"] == "booking_cancelled"
    assert capacity_left(client, start) == 2  # the spent code freed nothing twice
    assert client.get(f"/api/appointments/{code}").json()["status"] == "cancelled"


def test_the_last_place_is_taken_then_409(client: TestClient, session: Session) -> None:
    start = first_slot(client)["start"]
    book_via_api(client, start=start)
    book_via_api(client, start=start, email="max@example.org")
    before = stored(session)
    resp = client.post("/api/appointments", json=payload(start=start))
    assert resp.status_code == 409
    assert resp.json()["error"] == "slot_taken" and resp.json()["detail"]
    assert stored(session) == before


def test_ics_is_an_rfc5545_calendar_in_utc(client: TestClient) -> None:
    body = book_via_api(client, start=TUESDAY_9.isoformat())
    resp = client.get(body["ics_url"].replace("http://testserver", ""))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(resp.content)
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    event = events[0]
    start = event.decoded("dtstart")
    assert start == TUESDAY_9 and start.utcoffset() == dt.timedelta(0)
    assert event.decoded("dtend") == TUESDAY_9 + dt.timedelta(minutes=15)
    assert body["code"] in str(event["uid"])
    assert "DTSTART:20261215T080000Z" in resp.text.replace("\r\n", "\n")
    assert calendar["version"] == "2.0" and "PRODID" in calendar
    assert str(event["status"]) == "CONFIRMED"
    assert client.get("/api/appointments/ZZZZZZZZZZZZ/ics").status_code == 404


def test_reschedule_moves_the_booking_and_frees_the_old_time(client: TestClient) -> None:
    old = TUESDAY_9
    new = berlin(2026, 12, 16, 10, 30)
    code = book_via_api(client, start=old.isoformat())["code"]
    assert capacity_left(client, old) == 1
    resp = client.post(f"/api/appointments/{code}/reschedule", json={"start": new.isoformat()})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert when(data["start"]) == new and data["code"] == code and data["status"] == "booked"
    assert when(data["end"]) - new == dt.timedelta(minutes=15)
    assert capacity_left(client, old) == 2
    assert capacity_left(client, new) == 1
    elsewhere = client.post(
        f"/api/appointments/{code}/reschedule",
        json={"start": new.isoformat(), "location_id": "linden"},
    )
    assert elsewhere.status_code == 200 and elsewhere.json()["location_id"] == "linden"
    assert capacity_left(client, new) == 2
    assert capacity_left(client, new, location="linden") == 1


def test_reschedule_onto_a_full_slot_changes_nothing(client: TestClient, session: Session) -> None:
    full = berlin(2026, 12, 16, 9, 0)
    book_via_api(client, start=full.isoformat())
    book_via_api(client, start=full.isoformat(), email="max@example.org")
    code = book_via_api(client, start=TUESDAY_9.isoformat())["code"]
    before = stored(session)
    resp = client.post(f"/api/appointments/{code}/reschedule", json={"start": full.isoformat()})
    assert resp.status_code == 409 and resp.json()["error"] == "slot_taken"
    assert stored(session) == before
    assert when(client.get(f"/api/appointments/{code}").json()["start"]) == TUESDAY_9
    assert capacity_left(client, TUESDAY_9) == 1
    bad = client.post(
        f"/api/appointments/{code}/reschedule",
        json={"start": berlin(2026, 12, 25, 9, 0).isoformat()},
    )
    assert bad.status_code == 422 and bad.json()["error"] == "closed"


def test_several_services_take_the_sum_of_their_durations(
    client: TestClient, session: Session
) -> None:
    start = berlin(2026, 12, 15, 10, 0)
    body = book_via_api(client, start=start.isoformat(), services=(PASS, PASSPORT, REGISTRATION))
    assert when(body["end"]) - when(body["start"]) == dt.timedelta(minutes=40)
    cells = (
        fresh(session)
        .scalars(
            select(SlotUsage.start).where(SlotUsage.location_id == LOCATION, SlotUsage.used > 0)
        )
        .all()
    )
    assert sorted(cells) == [start + dt.timedelta(minutes=10 * k) for k in range(4)]
    assert capacity_left(client, start + dt.timedelta(minutes=30)) == 1  # the last cell
    assert capacity_left(client, start + dt.timedelta(minutes=40)) == 2  # just after
    late = client.post(
        "/api/appointments",
        json=payload(
            service_ids=[PASS, PASSPORT, REGISTRATION],
            start=berlin(2026, 12, 15, 11, 30).isoformat(),
        ),
    )
    assert late.status_code == 422 and late.json()["error"] == "outside_opening_hours"


# -- bad input --------------------------------------------------------------------------------
BAD_BOOKINGS: list[tuple[str, Any, int, str]] = [
    ("past", payload(start=berlin(2026, 12, 11, 9, 0).isoformat()), 422, "start_in_past"),
    ("too_soon", payload(start=berlin(2026, 12, 14, 8, 30).isoformat()), 422, "start_in_past"),
    ("off_grid", payload(start=berlin(2026, 12, 15, 9, 5).isoformat()), 422, "not_on_grid"),
    ("seconds", payload(start="2026-12-15T09:00:30+01:00"), 422, "not_on_grid"),
    (
        "outside_hours",
        payload(start=berlin(2026, 12, 15, 13, 0).isoformat()),
        422,
        "outside_opening_hours",
    ),
    (
        "saturday",
        payload(start=berlin(2026, 12, 19, 9, 0).isoformat()),
        422,
        "outside_opening_hours",
    ),
    ("christmas", payload(start=berlin(2026, 12, 25, 9, 0).isoformat()), 422, "closed"),
    ("new_year", payload(start=berlin(2027, 1, 1, 9, 0).isoformat()), 422, "closed"),
    ("too_far", payload(start=berlin(2027, 3, 1, 9, 0).isoformat()), 422, "too_far_ahead"),
    ("unknown_service", payload(service_ids=["gibt-es-nicht"]), 422, "unknown_service"),
    ("online_only", payload(service_ids=[ONLINE_ONLY]), 422, "service_not_bookable"),
    ("external_only", payload(service_ids=[PASS, EXTERNAL_ONLY]), 422, "service_not_bookable"),
    ("unknown_location", payload(location_id="atlantis"), 404, "location_not_found"),
    ("invalid_email", payload(email="erika-at-example"), 422, "invalid_input"),
    ("email_no_domain", payload(email="erika@"), 422, "invalid_input"),
    ("name_too_short", payload(name="E"), 422, "invalid_input"),
    ("name_control_chars", payload(name="Erika\x00Mustermann"), 422, "invalid_input"),
    ("no_services", payload(service_ids=[]), 422, "invalid_input"),
    ("six_services", payload(service_ids=[PASS] * 6), 422, "invalid_input"),
    ("naive_time", payload(start="2026-12-15T09:00:00"), 422, "invalid_input"),
    ("not_a_time", payload(start="Dienstag früh"), 422, "invalid_input"),
    ("extra_field", payload(phone="0511 123"), 422, "invalid_input"),
    ("wrong_type", payload(service_ids=PASS), 422, "invalid_input"),
    ("bad_lang", payload(lang="fr"), 422, "invalid_input"),
    ("not_an_object", [], 422, "invalid_input"),
]
MISSING = [
    (f"missing_{key}", {k: v for k, v in payload().items() if k != key}, 422, "invalid_input")
    for key in payload()
]


@pytest.mark.parametrize(
    ("case", "body", "status", "code"),
    BAD_BOOKINGS + MISSING,
    ids=[c[0] for c in BAD_BOOKINGS + MISSING],
)
def test_bad_bookings_are_refused_and_store_nothing(
    client: TestClient, session: Session, case: str, body: Any, status: int, code: str
) -> None:
    before = stored(session)
    resp = client.post("/api/appointments", json=body)
    assert resp.status_code == status, (case, resp.text)
    assert resp.headers["content-type"].startswith("application/json")
    data = resp.json()
    assert set(data) - {"fields"} == {"error", "detail"}
    assert data["error"] == code and data["detail"]
    assert stored(session) == before


def test_a_service_the_location_does_not_offer(client: TestClient, session: Session) -> None:
    restrict_services(session, [REGISTRATION])
    before = stored(session)
    resp = client.post("/api/appointments", json=payload())
    assert resp.status_code == 422
    assert resp.json()["error"] == "service_not_offered"
    assert "Personalausweis" in resp.json()["detail"]
    assert stored(session) == before
    # the location is no longer listed for it, and still is for what it offers
    assert LOCATION not in {s["location_id"] for s in slots(client, PASS)}
    assert {s["location_id"] for s in slots(client, REGISTRATION, location=LOCATION)} == {LOCATION}
    assert slots(client, PASS, location=LOCATION) == []
    ok = client.post("/api/appointments", json=payload(service_ids=[REGISTRATION]))
    assert ok.status_code == 201


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"service_ids": [', b"\xff\xfe", b"", b"null", b'"text"']
)
def test_garbage_json_is_a_422(client: TestClient, session: Session, raw: bytes) -> None:
    before = stored(session)
    resp = client.post(
        "/api/appointments", content=raw, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == "invalid_input"
    assert stored(session) == before


def test_an_oversized_body_is_a_413(client: TestClient, session: Session) -> None:
    before = stored(session)
    body = payload(name="E" * 1_100_000)
    resp = client.post("/api/appointments", json=body)
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large" and resp.json()["detail"]
    assert stored(session) == before


def test_an_oversized_chunked_body_is_refused(client: TestClient, session: Session) -> None:
    before = stored(session)

    def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(11):
            yield b"E" * 100_000
        yield b'"}'

    resp = client.post(
        "/api/appointments", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413, resp.text
    assert stored(session) == before


def test_errors_are_german_by_default_and_english_on_request(client: TestClient) -> None:
    past = payload(start=berlin(2026, 12, 11, 9, 0).isoformat())
    de = client.post("/api/appointments", json=past).json()["detail"]
    en = client.post("/api/appointments?lang=en", json=past).json()["detail"]
    assert "Vergangenheit" in de
    assert "past" in en and "Vergangenheit" not in en

    bad_mail = payload(email="nope")
    assert (
        client.post("/api/appointments", json=bad_mail)
        .json()["detail"]
        .startswith("Ungültige Eingabe")
    )
    assert (
        client.post("/api/appointments?lang=en", json=bad_mail)
        .json()["detail"]
        .startswith("Invalid input")
    )

    missing = client.get("/api/appointments/ZZZZZZZZZZZZ?lang=en").json()["detail"]
    assert missing == "There is no appointment for this code."
    offered = client.post(
        "/api/appointments?lang=en", json=payload(service_ids=[ONLINE_ONLY])
    ).json()["detail"]
    assert offered.startswith("There are no appointments for")


def test_times_follow_the_clock(client: TestClient, clock: Clock) -> None:
    """The API's 'now' is the service clock: a later now moves the earliest slot."""
    clock.set(berlin(2026, 12, 15, 10, 3))
    assert when(first_slot(client)["start"]) == berlin(2026, 12, 15, 11, 10)


def test_ad_hoc_closures_refuse_bookings_and_leave_other_days_bookable(
    client: TestClient, session: Session
) -> None:
    for day in (dt.date(2026, 12, 15), dt.date(2026, 12, 17)):
        add_closure(session, location_id=LOCATION, day=day, reason="Personalversammlung")
    session.commit()
    before = stored(session)
    closed = client.post("/api/appointments", json=payload(service_ids=[PASS, PASSPORT]))
    assert closed.status_code == 422 and closed.json()["error"] == "closed"
    assert stored(session) == before
    # two services and two closed days: the one read query returns their cross product
    wednesday = berlin(2026, 12, 16, 9, 0).isoformat()
    body = book_via_api(client, start=wednesday, services=(PASS, PASSPORT))
    assert when(body["start"]) == berlin(2026, 12, 16, 9, 0)
    assert stored(session)[0] == before[0] + 1


def test_booking_codes_use_the_whole_alphabet_and_do_not_repeat() -> None:
    codes = [new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert set("".join(codes)) == set(CODE_ALPHABET)  # 24,000 draws: every symbol shows up
    assert all(normalise_code(format_code(c).lower()) == c for c in codes[:50])
