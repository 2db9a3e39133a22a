"""One source for an office's hours: the published opening hours bound every slot, walk-in
and page; staff edit them with the capacity on one page; 24 and 31 December follow the city's
calendar or the office's own rule; unknown address or hours are said before booking."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.appointment import queue as queue_service
from servicepoint.appointment.errors import InvalidBooking
from servicepoint.appointment.slots import Schedule
from servicepoint.catalog import locations as location_service
from servicepoint.catalog.hours import intersect, outside, parse_hours
from servicepoint.catalog.models import Location
from servicepoint.core.clock import BERLIN
from tests.appointment.conftest import LOCATION, PASS, berlin, book_via_api, capacity_of, fresh
from tests.conftest import csrf_of

pytestmark = pytest.mark.usefixtures("clock")

TUESDAY = dt.date(2026, 12, 15)
CLOSED_TUESDAY_AFTERNOON = "Mo-Fr 08:00-12:00; Do 14:00-18:00"


# -- pure -------------------------------------------------------------------------------------
def test_service_hours_are_cut_to_the_opening_hours() -> None:
    service = parse_hours("Mo-Fr 08:00-12:00; Di 14:00-18:00")
    opening = parse_hours("Mo-Fr 09:00-12:00; Di 14:00-16:00")
    assert intersect(service, opening)["tu"] == [["09:00", "12:00"], ["14:00", "16:00"]]
    assert outside(service, opening)["tu"] == [["08:00", "09:00"], ["16:00", "18:00"]]
    assert outside(opening, service) == {}
    assert intersect(service, {}) == {}  # closed every day: nothing is served


def test_special_days_close_or_shorten_the_day() -> None:
    schedule = Schedule.from_hours(
        parse_hours("Mo-Fr 08:00-12:00; Do 14:00-18:00"),
        grid=10,
        capacity=2,
        special={"dec24": "closed", "dec31": "morning"},
    )
    assert schedule.spans(dt.date(2026, 12, 24)) == ()  # a Thursday
    assert not schedule.is_open(dt.date(2026, 12, 24))
    assert schedule.spans(dt.date(2026, 12, 31)) == ((8 * 60, 12 * 60),)
    assert schedule.spans(dt.date(2026, 12, 17)) == ((8 * 60, 12 * 60), (14 * 60, 18 * 60))


# -- with a database --------------------------------------------------------------------------
def slot_starts(client: TestClient, day_from: dt.date, day_to: dt.date) -> list[dt.datetime]:
    resp = client.get(
        "/api/appointments/slots",
        params={
            "service": PASS,
            "location": LOCATION,
            "date_from": day_from.isoformat(),
            "date_to": day_to.isoformat(),
        },
    )
    assert resp.status_code == 200, resp.text
    return [dt.datetime.fromisoformat(s["start"]).astimezone(BERLIN) for s in resp.json()]


def afternoon(starts: list[dt.datetime], day: dt.date) -> list[dt.datetime]:
    return [s for s in starts if s.date() == day and 14 <= s.hour < 18]


def capacity_form(client: TestClient, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": csrf_of(client),
        "hours": "Mo-Fr 08:00-12:00; Di 14:00-18:00; Do 14:00-18:00",
        "counters": "3",
        "walkin_percent": "34",
        "grid_minutes": "10",
        "all_services": "1",
    }
    data.update(values)
    return data


def save(client: TestClient, **values: Any) -> Any:
    return client.post(
        f"/verwaltung/kapazitaet/{LOCATION}",
        data=capacity_form(client, **values),
        follow_redirects=False,
    )


def test_closing_tuesday_afternoon_in_the_admin_ends_those_slots(
    admin: TestClient, session: Session
) -> None:
    assert afternoon(slot_starts(admin, TUESDAY, TUESDAY), TUESDAY)  # offered today
    resp = save(
        admin,
        opening_hours=CLOSED_TUESDAY_AFTERNOON,
        hours=CLOSED_TUESDAY_AFTERNOON,
        opening_source="Aushang vor Ort, 14.12.2026",
    )
    assert resp.status_code == 303, resp.text
    starts = slot_starts(admin, TUESDAY, TUESDAY + dt.timedelta(days=7))
    assert not afternoon(starts, TUESDAY)
    assert not afternoon(starts, TUESDAY + dt.timedelta(days=7))
    assert any(s.date() == TUESDAY and s.hour < 12 for s in starts)
    page = admin.get(f"/standorte/{LOCATION}").text
    tuesday_row = page.split("Dienstag</th>")[1].split("</tr>")[0]
    assert "08:00–12:00" in tuesday_row and "14:00" not in tuesday_row
    assert "Aushang vor Ort, 14.12.2026" in page  # where the hours came from
    loc = fresh(session).get(Location, LOCATION)
    assert loc is not None and loc.provenance["opening_hours"]["by"] == "boss"
    listed = {x["id"]: x for x in admin.get("/api/locations").json()}
    assert listed[LOCATION]["opening_hours"]["tu"] == [["08:00", "12:00"]]


def test_opening_hours_bound_slots_booking_and_walk_ins_whatever_the_capacity_says(
    client: TestClient, session: Session, clock: Any
) -> None:
    """Hours set elsewhere (an official import) still bound everything: the slot computation
    itself cuts the service hours to them."""
    location_service.update_location(
        session,
        location_id=LOCATION,
        patch=location_service.LocationPatch(opening_hours=CLOSED_TUESDAY_AFTERNOON),
        source="Import",
        by="import",
    )
    session.commit()
    assert "tu" in capacity_of(session).hours and len(capacity_of(session).hours["tu"]) == 2
    assert not afternoon(slot_starts(client, TUESDAY, TUESDAY), TUESDAY)
    resp = client.post(
        "/api/appointments",
        json={
            "service_ids": [PASS],
            "location_id": LOCATION,
            "start": berlin(2026, 12, 15, 14, 0).isoformat(),
            "name": "Erika Mustermann",
            "email": "erika@example.org",
        },
    )
    assert resp.status_code == 422 and resp.json()["error"] == "outside_opening_hours"
    clock.set(berlin(2026, 12, 15, 15, 0))
    assert queue_service.estimate_now(fresh(session), location_id=LOCATION) is None
    with pytest.raises(InvalidBooking) as closed:
        queue_service.issue_ticket(session, location_id=LOCATION)
    assert closed.value.code == "closed_now"


def test_the_admin_form_refuses_service_hours_outside_the_opening_hours(
    admin: TestClient, session: Session
) -> None:
    before = dict(capacity_of(session).hours)
    resp = save(
        admin,
        opening_hours="Mo-Fr 08:00-12:00",
        hours="Mo-Fr 08:00-12:00; Di 14:00-18:00",
        opening_source="Aushang",
    )
    assert resp.status_code == 422, resp.text
    assert "außerhalb der Öffnungszeiten" in resp.text and "Tu 14:00-18:00" in resp.text
    assert capacity_of(session).hours == before
    assert fresh(session).get(Location, LOCATION).opening_hours is None  # type: ignore[union-attr]


def test_changed_opening_hours_need_a_source(admin: TestClient, session: Session) -> None:
    resp = save(admin, opening_hours=CLOSED_TUESDAY_AFTERNOON, hours=CLOSED_TUESDAY_AFTERNOON)
    assert resp.status_code == 422
    assert "Quelle der Öffnungszeiten" in resp.text
    assert fresh(session).get(Location, LOCATION).opening_hours is None  # type: ignore[union-attr]


def test_christmas_eve_and_new_years_eve_follow_the_city_calendar(
    admin: TestClient, session: Session
) -> None:
    loc = fresh(session).get(Location, LOCATION)
    assert loc is not None and (loc.dec24, loc.dec31) == ("closed", "closed")  # city.yaml
    days = {s.date() for s in slot_starts(admin, dt.date(2026, 12, 23), dt.date(2026, 12, 31))}
    assert dt.date(2026, 12, 23) in days and dt.date(2026, 12, 30) in days
    assert dt.date(2026, 12, 24) not in days and dt.date(2026, 12, 31) not in days
    assert "24. Dezember: geschlossen" in admin.get(f"/standorte/{LOCATION}").text


def test_admins_set_the_year_end_per_office(admin: TestClient, session: Session) -> None:
    resp = save(admin, dec24="regular", dec31="morning", opening_source="Rundschreiben 2026")
    assert resp.status_code == 303, resp.text
    starts = slot_starts(admin, dt.date(2026, 12, 24), dt.date(2026, 12, 31))
    eve = [s for s in starts if s.date() == dt.date(2026, 12, 24)]
    new_year = [s for s in starts if s.date() == dt.date(2026, 12, 31)]
    assert eve and any(s.hour >= 14 for s in eve)  # a Thursday with its afternoon
    assert new_year and all(s.hour < 12 for s in new_year)
    page = admin.get(f"/standorte/{LOCATION}").text
    assert "31. Dezember: nur vormittags (bis 12:00)" in page
    other = fresh(session).get(Location, "linden")
    assert other is not None and other.dec24 == "closed"  # only this office changed
    bad = save(admin, dec24="sometimes", opening_source="x")
    assert bad.status_code == 400


# -- unknown facts before and after booking ---------------------------------------------------
def test_the_booking_page_says_what_is_unknown_before_booking(client: TestClient) -> None:
    start = book_start(client, "bemerode")
    page = client.get(
        "/termine/buchen",
        params={"service": PASS, "location": "bemerode", "start": start},
    ).text
    assert "Bürgeramt Bemerode: Adresse und Öffnungszeiten sind uns nicht bekannt." in page
    found = client.get("/termine", params={"service": PASS, "location": "bemerode"}).text
    assert "Adresse und Öffnungszeiten sind uns nicht bekannt." in found
    aegi = client.get(
        "/termine/buchen",
        params={"service": PASS, "location": LOCATION, "start": book_start(client, LOCATION)},
    ).text
    assert "Aegidientorplatz 1" in aegi
    assert "Bürgeramt Aegi: Die Öffnungszeiten sind uns nicht bekannt." in aegi


def book_start(client: TestClient, location: str) -> str:
    resp = client.get("/api/appointments/slots", params={"service": PASS, "location": location})
    start: str = resp.json()[0]["start"]
    return start


def test_the_confirmation_page_shows_the_address_where_known(client: TestClient) -> None:
    code = book_via_api(client)["code"]
    assert "Aegidientorplatz 1" in client.get(f"/termine/{code}").text
    other = book_via_api(client, location="bemerode", email="max@example.org")["code"]
    assert "Adresse unbekannt" in client.get(f"/termine/{other}").text
