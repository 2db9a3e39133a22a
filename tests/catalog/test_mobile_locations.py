"""The mobile ServicePoint's stops for citizens (issue 17): on the locations page with their next
visits, on their own page with every visit date, in /api/locations (shape unchanged), and as an
.ics subscription (GET /standorte/{id}/besuche.ics) that calendar clients keep up to date."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.orm import Session

from servicepoint.appointment import capacity as capacity_service
from servicepoint.appointment import queue
from servicepoint.appointment import service as appointment_service
from servicepoint.catalog import present
from servicepoint.core import clock as core_clock
from tests.appointment.conftest import NOW, Clock
from tests.appointment.mobile_support import STOP, STOP_NAME, add_stop
from tests.catalog.location_support import all_locations, location


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Monday 2026-12-14 08:00 in Hannover, for the pages, the queue and the capacity stamps."""
    fixed = Clock(NOW)
    for module in (appointment_service, queue, core_clock, capacity_service):
        monkeypatch.setattr(module, "utcnow", fixed)
    return fixed


def calendar(client: TestClient, location_id: str = STOP) -> Calendar:
    resp = client.get(f"/standorte/{location_id}/besuche.ics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "attachment" in resp.headers["content-disposition"]
    return Calendar.from_ical(resp.content)


def events(cal: Calendar) -> dict[str, dict[str, str]]:
    """UID → the event's start (UTC), status, sequence and description."""
    return {
        str(e["uid"]): {
            "start": e.decoded("dtstart").astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "status": str(e["status"]),
            "sequence": str(e["sequence"]),
            "description": str(e["description"]),
        }
        for e in cal.walk("VEVENT")
    }


# -- pages ------------------------------------------------------------------------------------
def test_the_locations_page_lists_a_stop_with_its_next_visits(
    client: TestClient, session: Session
) -> None:
    add_stop(session)
    page = client.get("/standorte")
    assert page.status_code == 200
    text = page.text
    assert "Mobiler ServicePoint</h2>" in text
    assert "Dazu hält der mobile ServicePoint an 1 Ort." in text
    section = text[text.index('id="mobile-title"') :]
    assert f'<a href="/standorte/{STOP}">{STOP_NAME}</a>' in section
    assert "Di. 15.12.</time> 09:00–12:00" in section
    assert "Do. 17.12.</time> 13:00–15:00" in section
    assert "Mo. 21.12.</time> 10:00–11:00, 14:00–15:00" in section
    assert "25.12." not in section  # three visits on the list; the rest on the stop's page
    assert "Lage auf der Karte unbekannt" in section  # the test stop has no coordinates
    assert f'href="/termine?location={STOP}"' in section
    offices = text[: text.index('id="mobile-title"')]
    assert STOP_NAME not in offices.split("</h1>", 1)[1].split("<figure", 1)[0]


def test_the_locations_page_without_stops_has_no_mobile_section(client: TestClient) -> None:
    page = client.get("/standorte").text
    assert 'id="mobile-title"' not in page and "mobile ServicePoint an" not in page


def test_the_stop_page_shows_every_visit_and_the_subscription(
    client: TestClient, session: Session
) -> None:
    add_stop(session)
    page = client.get(f"/standorte/{STOP}")
    assert page.status_code == 200
    text = page.text
    assert '<h2 id="visits-title">Besuchstermine</h2>' in text
    assert "Fr. 25.12.</time> 09:00–12:00 <strong>(fällt aus: Feiertag)</strong>" in text
    assert "Di. 15.12.</time> 09:00–12:00</li>" in text
    assert f'<a href="/standorte/{STOP}/besuche.ics">Termine abonnieren (.ics)</a>' in text
    assert '<table class="hours">' not in text  # no weekly hours: it comes on its dates
    # The services of its plan, not every service of the Bürgerämter.
    assert "Personalausweis beantragen" in text and "Meldebescheinigung" in text
    assert "Reisepass beantragen" not in text
    assert "Alle Leistungen der Bürgerämter" not in text


def test_the_stop_pages_in_english(client: TestClient, session: Session) -> None:
    add_stop(session)
    listing = client.get("/standorte?lang=en").text
    assert "Mobile ServicePoint" in listing or "Mobiler ServicePoint" in listing
    assert "Tue 15 Dec</time> 09:00–12:00" in listing
    page = client.get(f"/standorte/{STOP}?lang=en").text
    assert "Fri 25 Dec</time> 09:00–12:00" in page
    assert 'lang="en"' in page


def test_a_stop_with_past_visits_only_says_none_are_planned(
    client: TestClient, session: Session
) -> None:
    add_stop(session, visits={})
    page = client.get(f"/standorte/{STOP}").text
    assert "Zurzeit sind keine Besuche geplant." in page


# -- API ----------------------------------------------------------------------------------------
def test_the_api_lists_a_stop_in_the_usual_shape(client: TestClient, session: Session) -> None:
    add_stop(session)
    listed = {loc["id"]: loc for loc in all_locations(client)}
    stop = listed[STOP]
    assert set(stop) == set(listed["aegi"])  # the shape of ../shared/API.md, unchanged
    assert stop["kind"] == "mobile" and stop["opening_hours"] == {}
    assert stop["name"] == STOP_NAME and stop["lat"] is None
    assert location(client, STOP) == stop


# -- .ics subscription --------------------------------------------------------------------------
def test_the_subscription_has_one_event_per_visit_and_span(
    client: TestClient, session: Session
) -> None:
    add_stop(session)
    found = events(calendar(client))
    assert set(found) == {
        f"{STOP}-2026-12-15-1@servicepoint",
        f"{STOP}-2026-12-17-1@servicepoint",
        f"{STOP}-2026-12-21-1@servicepoint",
        f"{STOP}-2026-12-21-2@servicepoint",
        f"{STOP}-2026-12-25-1@servicepoint",
    }
    first = found[f"{STOP}-2026-12-15-1@servicepoint"]
    assert first["start"] == "2026-12-15 08:00" and first["status"] == "CONFIRMED"
    assert f"/termine?location={STOP}" in first["description"]
    holiday = found[f"{STOP}-2026-12-25-1@servicepoint"]
    assert holiday["status"] == "CANCELLED" and "Feiertag" in holiday["description"]
    cal = calendar(client)
    assert str(cal["x-wr-calname"]) == STOP_NAME
    assert cal.decoded("refresh-interval") == dt.timedelta(hours=12)
    assert str(cal["x-published-ttl"]) == "PT12H"
    # The same state gives the same file: a subscription does not churn.
    again = client.get(f"/standorte/{STOP}/besuche.ics").content
    assert again == client.get(f"/standorte/{STOP}/besuche.ics").content


def test_a_new_plan_keeps_the_uids_and_counts_the_sequence_up(
    client: TestClient, session: Session, clock: Clock
) -> None:
    add_stop(session)
    before = events(calendar(client))
    later = NOW + dt.timedelta(hours=2)
    capacity_service.set_dated_hours(
        session,
        location_id=STOP,
        dates={dt.date(2026, 12, 15): [("10:00", "12:00")]},
        service_ids=None,
        counters=1,
        now=later,
    )
    session.commit()
    after = events(calendar(client))
    uid = f"{STOP}-2026-12-15-1@servicepoint"
    assert set(after) == {uid}  # the dropped visits leave the calendar
    assert after[uid]["start"] == "2026-12-15 09:00"
    assert int(after[uid]["sequence"]) > int(before[uid]["sequence"])


def test_a_closure_cancels_that_visit_in_the_calendar(
    client: TestClient, session: Session, clock: Clock
) -> None:
    add_stop(session)
    uid = f"{STOP}-2026-12-17-1@servicepoint"
    before = events(calendar(client))[uid]
    clock.set(NOW + dt.timedelta(minutes=5))
    capacity_service.add_closure(
        session, location_id=STOP, day=dt.date(2026, 12, 17), reason="Fahrzeug in der Werkstatt"
    )
    session.commit()
    after = events(calendar(client))[uid]
    assert after["status"] == "CANCELLED" and "geschlossen" in after["description"]
    assert int(after["sequence"]) > int(before["sequence"])
    page = client.get(f"/standorte/{STOP}").text
    assert "Do. 17.12.</time> 13:00–15:00 <strong>(fällt aus: geschlossen)</strong>" in page


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/standorte/gibt-es-nicht/besuche.ics", 404),
        ("/standorte/aegi/besuche.ics", 404),  # an office without visit dates
        ("/standorte/videoberatung/besuche.ics", 404),  # no place to go to
        ("/standorte/mobil%00test/besuche.ics", None),
        ("/standorte/" + "x" * 65 + "/besuche.ics", 422),
        ("/standorte/%F0%9F%90%B6/besuche.ics", 404),
    ],
)
def test_bad_subscription_requests_are_clear_4xx(
    client: TestClient, session: Session, path: str, status: int | None
) -> None:
    add_stop(session)
    resp = client.get(path)
    if status is None:
        assert 400 <= resp.status_code < 500, resp.text[:300]
    else:
        assert resp.status_code == status, resp.text[:300]


@pytest.mark.parametrize(
    ("day", "de", "en"),
    [
        (dt.date(2027, 1, 12), "Di. 12.01.", "Tue 12 Jan"),
        (dt.date(2027, 5, 1), "Sa. 01.05.", "Sat 1 May"),
        (dt.date(2027, 9, 5), "So. 05.09.", "Sun 5 Sep"),
    ],
)
def test_a_visit_day_is_written_by_the_locale_data(day: dt.date, de: str, en: str) -> None:
    """Weekday and month abbreviations come from Babel, not from names cut short in code."""
    assert present.short_day(day, "de") == de
    assert present.short_day(day, "en") == en
