"""Dated hours (issue 17): a mobile ServicePoint's stop offers appointments on its visit dates
only, never on a public holiday or a closed day, and citizens book there through the normal
flow (slot search, booking page, confirmation e-mail, .ics, cancelling)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment import capacity as capacity_service
from servicepoint.appointment import dated
from servicepoint.appointment.errors import InvalidBooking
from servicepoint.appointment.models import Booking, Capacity, OutboxMail, SlotUsage
from servicepoint.appointment.slots import Schedule, check_start
from servicepoint.catalog.errors import LocationNotFound
from servicepoint.core import challenge
from servicepoint.core.clock import BERLIN
from tests.appointment.conftest import NOW, PASS, berlin, book_via_api, fresh
from tests.appointment.mobile_support import STOP, VISITS, add_stop
from tests.appointment.test_pages import challenge_of
from tests.conftest import csrf_in

pytestmark = pytest.mark.usefixtures("clock")


def stop_slots(client: TestClient, **params: str) -> list[dict[str, Any]]:
    resp = client.get(
        "/api/appointments/slots",
        params={"service": PASS, "location": STOP, "date_to": "2027-01-20", **params},
    )
    assert resp.status_code == 200, resp.text
    slots: list[dict[str, Any]] = resp.json()
    return slots


def local_days(slots: list[dict[str, Any]]) -> set[dt.date]:
    return {dt.datetime.fromisoformat(s["start"]).astimezone(BERLIN).date() for s in slots}


# -- the schedule (pure) ----------------------------------------------------------------------
def test_a_dated_day_replaces_its_weekday_and_holidays_stay_closed() -> None:
    schedule = Schedule.from_hours(
        {"tu": [["08:00", "12:00"]]},
        grid=10,
        capacity=1,
        closed=frozenset({dt.date(2026, 12, 22)}),
        special={"dec24": "morning"},
        dates={
            "2026-12-15": [["13:00", "15:00"]],  # a Tuesday: its dated span, not the weekly one
            "2026-12-16": [],  # a Wednesday listed empty: closed
            "2026-12-17": [["09:00", "10:00"]],  # a Thursday without weekly hours
            "2026-12-22": [["09:00", "10:00"]],  # closed by a closure
            "2026-12-24": [["09:00", "14:00"]],  # the morning rule still cuts it
            "2026-12-25": [["09:00", "12:00"]],  # Christmas Day
            "kein-datum": [["09:00", "12:00"]],
        },
    )
    assert schedule.spans(dt.date(2026, 12, 15)) == ((780, 900),)
    assert schedule.spans(dt.date(2026, 12, 16)) == ()
    assert schedule.spans(dt.date(2026, 12, 17)) == ((540, 600),)
    assert schedule.spans(dt.date(2026, 12, 29)) == ((480, 720),)  # an unlisted Tuesday
    assert schedule.spans(dt.date(2026, 12, 22)) == ()
    assert schedule.spans(dt.date(2026, 12, 24)) == ((540, 720),)
    assert schedule.spans(dt.date(2026, 12, 25)) == ()
    start = berlin(2026, 12, 25, 9, 0)
    with pytest.raises(ValueError, match="geschlossen"):
        check_start(schedule, start, duration=15, not_before=NOW, latest=start)


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({dt.date(2027, 1, 5): [("25:00", "26:00")]}, "Ungültige Zeitspanne"),
        ({dt.date(2027, 1, 5): [("12:00", "09:00")]}, "Ungültige Zeitspanne"),
        ({dt.date(2027, 1, 5): [("9:00", "12:00")]}, "Ungültige Zeitspanne"),
        ({dt.date(2027, 1, 5): [("09:00\x00", "12:00")]}, "Ungültige Zeitspanne"),
        ({dt.date(2027, 1, 5): [("09:00",)]}, "Ungültige Zeitspanne"),
        ({dt.date(2027, 1, 5): "09:00-12:00"}, "Zeitspannen"),
        ({dt.date(2027, 1, 5): [("09:00", "11:00"), ("10:00", "12:00")]}, "überschneiden"),
        ({"2027-01-05": [("09:00", "12:00")]}, "Ungültiges Datum"),
        ({dt.datetime(2027, 1, 5, 9): [("09:00", "12:00")]}, "Ungültiges Datum"),
        ({dt.date(2027, 1, 1) + dt.timedelta(days=n): [] for n in range(401)}, "Zu viele"),
    ],
)
def test_bad_dated_hours_are_refused(dates: Any, message: str) -> None:
    with pytest.raises(dated.DatedHoursError, match=message):
        dated.clean_dates(dates)


def test_replacing_keeps_recent_past_and_booked_days() -> None:
    old = {
        "2026-08-01": [["09:00", "10:00"]],  # long past: dropped
        "2026-12-10": [["09:00", "10:00"]],  # recent past: kept
        "2026-12-15": [["09:00", "12:00"]],  # booked, moved by the new plan
        "2026-12-16": [["09:00", "12:00"]],  # not booked, dropped by the new plan
    }
    new = {"2026-12-15": [["11:00", "13:00"]], "2026-12-18": [["09:00", "10:00"]]}
    got = dated.replace_future(old, new, today=dt.date(2026, 12, 14), keep=[dt.date(2026, 12, 15)])
    assert got == {
        "2026-12-10": [["09:00", "10:00"]],
        "2026-12-15": [["09:00", "13:00"]],
        "2026-12-18": [["09:00", "10:00"]],
    }


# -- publishing (capacity service) ------------------------------------------------------------
def test_set_dated_hours_creates_the_capacity(session: Session) -> None:
    cap = add_stop(session)
    assert cap.hours == {} and cap.channel == "in_person" and cap.counters == 1
    assert cap.dates == {
        day.isoformat(): [list(span) for span in spans] for day, spans in VISITS.items()
    }
    assert cap.service_ids == ["personalausweis", "meldebescheinigung"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"dates": {dt.date(2027, 1, 5): [("12:00", "09:00")]}}, "invalid_dates"),
        ({"service_ids": ["gibt-es-nicht"]}, "unknown_service"),
        ({"counters": 51}, "invalid_counters"),
        ({"counters": -1}, "invalid_counters"),
        ({"walkin_share": 1.5}, "invalid_walkin_share"),
        ({"walkin_share": float("nan")}, "invalid_walkin_share"),
        ({"location_id": "videoberatung"}, "wrong_channel"),
    ],
)
def test_bad_publishing_changes_nothing(
    session: Session, changes: dict[str, Any], code: str
) -> None:
    before = dict(add_stop(session).dates or {})
    values: dict[str, Any] = {
        "location_id": STOP,
        "dates": {dt.date(2027, 1, 5): [("09:00", "12:00")]},
        "service_ids": [PASS],
        "counters": 2,
        "now": NOW,
        **changes,
    }
    with pytest.raises(InvalidBooking) as caught:
        capacity_service.set_dated_hours(session, **values)
    assert caught.value.code == code
    cap = fresh(session).get(Capacity, STOP)
    assert cap is not None and cap.dates == before


@pytest.mark.parametrize("location_id", ["gibt-es-nicht", "mobil\x00test"])
def test_publishing_at_an_unknown_location_is_404(session: Session, location_id: str) -> None:
    with pytest.raises(LocationNotFound):
        capacity_service.set_dated_hours(
            session, location_id=location_id, dates={}, service_ids=None, counters=1
        )


def test_republishing_keeps_a_booked_day(client: TestClient, session: Session) -> None:
    add_stop(session, counters=2)
    booked = book_via_api(client, location=STOP)
    day = dt.datetime.fromisoformat(booked["start"]).astimezone(BERLIN).date()
    assert day == dt.date(2026, 12, 15)
    assert capacity_service.booked_dates(fresh(session), location_id=STOP, now=NOW) == {day: 1}
    cap = capacity_service.set_dated_hours(
        session,
        location_id=STOP,
        dates={dt.date(2027, 1, 12): [("09:00", "12:00")]},
        service_ids=[PASS],
        counters=1,
        now=NOW + dt.timedelta(hours=1),
    )
    session.commit()
    assert cap.dates == {"2026-12-15": [["09:00", "12:00"]], "2027-01-12": [["09:00", "12:00"]]}
    # Fewer counters: the claimed cell keeps its booking, the others take the new capacity.
    cells = fresh(session).scalars(select(SlotUsage).where(SlotUsage.location_id == STOP)).all()
    assert cells and all(c.capacity >= c.used for c in cells)
    assert local_days(stop_slots(client)) == {dt.date(2026, 12, 15), dt.date(2027, 1, 12)}


# -- citizens: slots and booking --------------------------------------------------------------
def test_slots_only_on_the_visit_dates(client: TestClient, session: Session) -> None:
    add_stop(session)
    slots = stop_slots(client)
    assert local_days(slots) == {
        dt.date(2026, 12, 15),
        dt.date(2026, 12, 17),
        dt.date(2026, 12, 21),
    }  # not on Christmas Day, nor on any weekday of the weekly hours (none)
    first = dt.datetime.fromisoformat(slots[0]["start"])
    assert first == berlin(2026, 12, 15, 9, 0)
    monday = [
        dt.datetime.fromisoformat(s["start"]).astimezone(BERLIN).strftime("%H:%M")
        for s in slots
        if dt.datetime.fromisoformat(s["start"]).astimezone(BERLIN).date() == dt.date(2026, 12, 21)
    ]
    assert monday[0] == "10:00" and monday[-1] == "14:40" and "11:00" not in monday
    assert all(s["location_id"] == STOP for s in slots)


def test_a_stop_appears_in_the_search_across_locations(
    client: TestClient, session: Session
) -> None:
    add_stop(session)
    resp = client.get(
        "/api/appointments/slots",
        params={"service": PASS, "date_from": "2026-12-17", "date_to": "2026-12-17"},
    )
    assert resp.status_code == 200
    assert STOP in {s["location_id"] for s in resp.json()}


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (berlin(2026, 12, 25, 9, 0), "closed"),  # a visit on a public holiday stays closed
        (berlin(2026, 12, 16, 9, 0), "outside_opening_hours"),  # no visit that day
        (berlin(2026, 12, 15, 12, 0), "outside_opening_hours"),  # after the visit
        (berlin(2026, 12, 15, 11, 50), "outside_opening_hours"),  # would run past its end
        (berlin(2026, 12, 15, 9, 5), "not_on_grid"),
    ],
)
def test_booking_outside_a_visit_is_refused(
    client: TestClient, session: Session, start: dt.datetime, code: str
) -> None:
    add_stop(session)
    resp = client.post(
        "/api/appointments",
        json={
            "service_ids": [PASS],
            "location_id": STOP,
            "start": start.isoformat(),
            "name": "Erika Mustermann",
            "email": "erika@example.org",
        },
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == code


def test_a_service_the_stop_does_not_offer_is_refused(client: TestClient, session: Session) -> None:
    add_stop(session)
    resp = client.get("/api/appointments/slots", params={"service": "reisepass", "location": STOP})
    assert resp.status_code == 200 and resp.json() == []
    booked = client.post(
        "/api/appointments",
        json={
            "service_ids": ["reisepass"],
            "location_id": STOP,
            "start": berlin(2026, 12, 15, 9, 0).isoformat(),
            "name": "Erika Mustermann",
            "email": "erika@example.org",
        },
    )
    assert booked.status_code == 422 and booked.json()["error"] == "service_not_offered"


def test_booking_at_a_stop_end_to_end(client: TestClient, session: Session) -> None:
    add_stop(session)
    # The citizen's slot list for the stop (the page the stop's "Termin buchen" links to).
    page = client.get("/termine", params={"service": PASS, "location": STOP})
    assert page.status_code == 200
    assert f"location={STOP}" in page.text and "location=aegi" not in page.text
    start = berlin(2026, 12, 15, 9, 0)
    form = client.get(
        "/termine/buchen",
        params={"service": PASS, "location": STOP, "start": start.isoformat()},
    )
    assert form.status_code == 200, form.text
    assert "Mobiler ServicePoint – Teststraße" in form.text
    token = challenge_of(form.text)
    resp = client.post(
        "/termine/buchen",
        data={
            "csrf_token": csrf_in(form.text),
            "service": [PASS],
            "location": STOP,
            "start": start.isoformat(),
            "name": "Erika Mustermann",
            "email": "erika@example.org",
            "pow_challenge": token,
            "pow_nonce": challenge.solve(token),
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    code = resp.headers["location"].split("/")[2].split("?")[0]
    confirmation = client.get(resp.headers["location"])
    assert "Ihr Termin ist gebucht" in confirmation.text
    assert "Mobiler ServicePoint – Teststraße" in confirmation.text
    booking = fresh(session).scalar(select(Booking).where(Booking.code == code))
    assert booking is not None and booking.location_id == STOP and booking.start == start
    mails = session.scalars(select(OutboxMail).where(OutboxMail.booking_id == booking.id)).all()
    assert "confirmation" in {m.kind for m in mails}
    # The same slot is gone (one counter), the calendar file names the stop.
    assert berlin(2026, 12, 15, 9, 0) not in {
        dt.datetime.fromisoformat(s["start"]) for s in stop_slots(client)
    }
    ics = client.get(f"/api/appointments/{code}/ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert "Mobiler ServicePoint" in ics.text and "DTSTART:20261215T080000Z" in ics.text
    # Cancelling frees the slot again.
    assert client.delete(f"/api/appointments/{code}").status_code == 204
    assert berlin(2026, 12, 15, 9, 0) in {
        dt.datetime.fromisoformat(s["start"]) for s in stop_slots(client)
    }
    assert capacity_service.booked_dates(fresh(session), location_id=STOP, now=NOW) == {}


def test_the_stop_page_names_the_next_free_slot(client: TestClient, session: Session) -> None:
    add_stop(session)
    page = client.get(f"/standorte/{STOP}")
    assert page.status_code == 200
    assert "Nächster freier Termin: 15.12.2026 09:00 Uhr." in page.text


def test_staff_see_a_stop_on_the_capacity_page_and_close_a_visit_day(
    admin: TestClient, session: Session
) -> None:
    add_stop(session)
    page = admin.get(f"/verwaltung/kapazitaet/{STOP}")
    assert page.status_code == 200, page.text[:300]
    resp = admin.post(
        f"/verwaltung/kapazitaet/{STOP}/schliessung",
        data={"csrf_token": csrf_in(page.text), "day": "2026-12-17", "reason": "Werkstatt"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text[:300]
    assert dt.date(2026, 12, 17) not in local_days(stop_slots(admin))
