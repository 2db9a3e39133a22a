"""Booking as a citizen (issue 14): results reached at once, paging by day, a taken slot keeps the
form, managing a booking by its code, resending the confirmation, distance sorting only with
known office positions."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking, OutboxMail
from servicepoint.catalog.models import Location
from servicepoint.core import challenge
from servicepoint.core.clock import BERLIN
from tests.appointment.conftest import LOCATION, PASS, PASSPORT, berlin, book_via_api, fresh

pytestmark = pytest.mark.usefixtures("clock")

TUESDAY_9 = berlin(2026, 12, 15, 9, 0)
SLOT_LINK = re.compile(r'href="(/termine/buchen\?[^"]+)"')


def slot_starts(page: str) -> list[tuple[str, dt.datetime]]:
    """(location, start) of every slot link on a /termine page."""
    found = []
    for href in SLOT_LINK.findall(page):
        query = parse_qs(urlsplit(html.unescape(href)).query)
        found.append((query["location"][0], dt.datetime.fromisoformat(query["start"][0])))
    return found


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


def csrf_in(page: str) -> str:
    """The form token as the page carries it (however it is derived from the cookie)."""
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert match, "the page has no form token"
    return html.unescape(match.group(1))


def days_of(page: str) -> list[dt.date]:
    return sorted({start.astimezone(BERLIN).date() for _, start in slot_starts(page)})


# -- results in reach -------------------------------------------------------------------------
def test_the_search_goes_straight_to_a_focusable_results_heading(client: TestClient) -> None:
    form = client.get("/termine").text
    assert 'action="/termine#ergebnisse"' in form
    page = client.get("/termine", params={"service": PASS}).text
    assert re.search(r'<h2 id="ergebnisse" tabindex="-1" aria-describedby="slots-summary">', page)
    summary = re.search(r'<p id="slots-summary" role="status">(.*?)</p>', page, re.S)
    assert summary and re.search(r"\d+ freie Termine gefunden\.", summary.group(1))
    assert "/static/js/focus-target.js" in page
    unknown = client.get("/termine", params={"service": "gibt-es-nicht"}).text
    assert re.search(r'role="alert" id="ergebnisse" tabindex="-1"', unknown)


# -- paging by day ----------------------------------------------------------------------------
def api_count(client: TestClient, day: dt.date) -> int:
    resp = client.get(
        "/api/appointments/slots",
        params={"service": PASS, "date_from": day.isoformat(), "date_to": day.isoformat()},
    )
    assert resp.status_code == 200
    return len(resp.json())


def test_the_slot_list_pages_by_whole_days(client: TestClient) -> None:
    first = client.get("/termine", params={"service": PASS}).text
    days = days_of(first)
    assert days and days[0] == dt.date(2026, 12, 14)
    # whole days: every free time of every day shown is on the page, not only the first 40
    assert len(slot_starts(first)) == sum(api_count(client, d) for d in days)
    assert link(first, "prev") is None  # nothing before today
    later = link(first, "next")
    assert later and later.endswith("#ergebnisse") and f"service={PASS}" in later
    second = client.get(later).text
    assert days_of(second) and days_of(second)[0] > days[-1]
    back = link(second, "prev")
    assert back and days_of(client.get(back).text)[0] == days[0]


def test_a_page_far_ahead_is_bounded_and_offers_no_later_days(client: TestClient) -> None:
    page = client.get("/termine", params={"service": PASS, "date_from": "2029-06-01"})
    assert page.status_code == 200
    assert slot_starts(page.text) == [] and link(page.text, "next") is None
    assert link(page.text, "prev")  # back towards the bookable days


def test_the_move_page_pages_by_day_too(client: TestClient) -> None:
    booked = book_via_api(client)
    page = client.get(f"/termine/{booked['code']}/verschieben").text
    assert 'id="ergebnisse"' in page and link(page, "next")


# -- a slot taken meanwhile -------------------------------------------------------------------
def form_for(client: TestClient, start: dt.datetime, *services: str) -> dict[str, Any]:
    query = "&".join(f"service={s}" for s in services or (PASS,))
    page = client.get(
        f"/termine/buchen?{query}&location={LOCATION}&start={start.isoformat()}".replace("+", "%2B")
    )
    assert page.status_code == 200, page.text
    token = html.unescape(re.search(r'data-challenge="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return {
        "csrf_token": csrf_in(page.text),
        "service": list(services or (PASS,)),
        "location": LOCATION,
        "start": start.isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "pow_challenge": token,
        "pow_nonce": challenge.solve(token),
    }


def fill_slot(client: TestClient, start: dt.datetime, service: str = PASS) -> None:
    """Book every place of one slot at Aegi, as other citizens would."""
    while True:
        resp = client.get(
            "/api/appointments/slots",
            params={
                "service": service,
                "location": LOCATION,
                "date_from": start.date().isoformat(),
                "date_to": start.date().isoformat(),
            },
        )
        left = [s for s in resp.json() if dt.datetime.fromisoformat(s["start"]) == start]
        if not left:
            return
        book_via_api(client, start=start.isoformat(), services=(service,), email="x@example.org")


def test_a_taken_slot_keeps_the_form_and_offers_the_nearest_times(
    client: TestClient, session: Session
) -> None:
    data = form_for(client, TUESDAY_9)
    fill_slot(client, TUESDAY_9)
    resp = client.post("/termine/buchen", data=data, follow_redirects=False)
    assert resp.status_code == 409, resp.text
    page = resp.text
    assert "gerade vergeben" in page
    assert 'value="Erika Mustermann"' in page and 'value="erika@example.org"' in page
    assert f'name="service" value="{PASS}"' in page
    choices = re.findall(r'name="slot" id="alt-(here|other)-\d+" value="([^"|]+)\|([^"]+)"', page)
    here = [dt.datetime.fromisoformat(s) for g, loc, s in choices if g == "here"]
    other = {loc for g, loc, _ in choices if g == "other"}
    assert here and all(loc == LOCATION for g, loc, _ in choices if g == "here")
    assert other and LOCATION not in other
    assert TUESDAY_9 not in here and min(abs(h - TUESDAY_9) for h in here) <= dt.timedelta(hours=1)
    # choosing one of them books it with what was typed, with a fresh challenge
    token = html.unescape(re.search(r'data-challenge="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    again = {
        **data,
        "slot": f"{LOCATION}|{here[0].isoformat()}",
        "pow_challenge": token,
        "pow_nonce": challenge.solve(token),
    }
    done = client.post("/termine/buchen", data=again, follow_redirects=False)
    assert done.status_code == 303, done.text
    code = done.headers["location"].split("/")[2].split("?")[0]
    booking = fresh(session).scalar(select(Booking).where(Booking.code == code))
    assert booking and booking.start == here[0] and booking.name == "Erika Mustermann"


def test_a_half_taken_longer_slot_gives_its_places_back(client: TestClient) -> None:
    """Two services (30 min) need three 10-minute cells; the third is full: the first two must
    stay as free as they were."""
    second_cell = TUESDAY_9 + dt.timedelta(minutes=20)
    data = form_for(client, TUESDAY_9, PASS, PASSPORT)
    fill_slot(client, second_cell)

    def left_at_nine() -> int:
        resp = client.get(
            "/api/appointments/slots",
            params={
                "service": PASS,
                "location": LOCATION,
                "date_from": "2026-12-15",
                "date_to": "2026-12-15",
            },
        )
        return next(
            s["capacity_left"]
            for s in resp.json()
            if dt.datetime.fromisoformat(s["start"]) == TUESDAY_9
        )

    before = left_at_nine()
    resp = client.post("/termine/buchen", data=data, follow_redirects=False)
    assert resp.status_code == 409, resp.text
    assert left_at_nine() == before


# -- manage a booking -------------------------------------------------------------------------
def test_the_manage_box_leads_from_a_code_to_the_booking(client: TestClient) -> None:
    assert 'href="/termine/verwalten"' in client.get("/").text
    assert 'action="/termine/verwalten"' in client.get("/termine").text
    code = book_via_api(client)["code"]
    typed = f" {code[:4].lower()}-{code[4:8]}-{code[8:]} "
    resp = client.get("/termine/verwalten", params={"code": typed}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/termine/{code}"
    wrong = client.get("/termine/verwalten", params={"code": "ABCD-EFGH-JKMN"})
    assert wrong.status_code == 404
    assert "keinen Termin gefunden" in wrong.text and 'aria-invalid="true"' in wrong.text
    assert 'value="ABCD-EFGH-JKMN"' in wrong.text
    assert client.get("/termine/verwalten", params={"code": "x", "lang": "en"}).status_code == 404
    assert "could not find" in client.get("/termine/verwalten", params={"code": "x"}).text


def pending_confirmations(session: Session, code: str) -> int:
    booking = fresh(session).scalar(select(Booking).where(Booking.code == code))
    assert booking is not None
    rows = session.scalars(
        select(OutboxMail).where(
            OutboxMail.booking_id == booking.id,
            OutboxMail.kind == "confirmation",
            OutboxMail.sent_at.is_(None),
        )
    ).all()
    return len(rows)


def resend(client: TestClient, code: str) -> Any:
    token = csrf_in(client.get("/termine").text)
    return client.post(
        f"/termine/{code}/bestaetigung",
        data={"csrf_token": token},
        follow_redirects=False,
    )


def test_the_confirmation_can_be_sent_again_a_few_times(
    client: TestClient, session: Session
) -> None:
    code = book_via_api(client, email="secret-address@example.org")["code"]
    client.get("/termine")  # the CSRF cookie
    session.execute(
        update(OutboxMail).values(sent_at=dt.datetime(2026, 12, 14, 7, 1, tzinfo=dt.UTC))
    )
    session.commit()
    first = resend(client, code)
    assert first.status_code == 303 and first.headers["location"] == f"/termine/{code}?gesendet=1"
    assert pending_confirmations(session, code) == 1
    page = client.get(first.headers["location"]).text
    assert "noch einmal" in page and "secret-address" not in page
    assert resend(client, code).status_code == 303
    assert pending_confirmations(session, code) == 1  # an unsent one is replaced, not doubled
    assert resend(client, code).status_code == 303
    limited = resend(client, code)
    assert limited.status_code == 429 and "Spam-Ordner" in limited.text
    other = book_via_api(client, email="b@example.org")["code"]
    assert resend(client, other).status_code == 303  # the limit is per booking


def test_no_confirmation_for_a_cancelled_booking(client: TestClient) -> None:
    code = book_via_api(client)["code"]
    assert client.delete(f"/api/appointments/{code}").status_code == 204
    client.get("/termine")
    resp = resend(client, code)
    assert resp.status_code == 409 and "keine Bestätigung mehr" in resp.text
    assert resend(client, "ZZZZZZZZZZZZ").status_code == 404


# -- distance sorting -------------------------------------------------------------------------
def test_distance_sorting_is_offered_only_with_known_office_positions(
    client: TestClient, session: Session
) -> None:
    session.execute(update(Location).values(lat=None, lon=None))
    session.commit()
    page = client.get("/termine", params={"service": PASS, "sort": "entfernung"})
    assert page.status_code == 200
    assert 'value="entfernung"' not in page.text and 'name="district"' not in page.text
    session.execute(update(Location).where(Location.id == "linden").values(lat=52.37, lon=9.71))
    session.commit()
    page = client.get("/termine", params={"service": PASS})
    assert 'value="entfernung"' in page.text and 'name="district"' in page.text
