"""Citizen and staff pages of appointments and queues: finding and booking with the
proof-of-work challenge, cancel and move, kiosk, ticket page, call display with live updates,
the counter console and the capacity page."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import queue_pages
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking, Closure, Ticket
from servicepoint.core import challenge
from servicepoint.core.broadcast import MemoryBroadcaster
from servicepoint.core.clock import BERLIN
from tests.appointment.conftest import (
    LOCATION,
    NOW,
    PASS,
    PASSPORT,
    Clock,
    berlin,
    book_via_api,
    capacity_of,
    fresh,
)
from tests.conftest import csrf_in, csrf_of, login, make_user

pytestmark = pytest.mark.usefixtures("clock")

MONDAY_9 = berlin(2026, 12, 14, 9, 0)
TUESDAY_9 = berlin(2026, 12, 15, 9, 0)


def bookings(session: Session) -> int:
    return fresh(session).scalar(select(func.count(Booking.id))) or 0


def booking_by_code(session: Session, code: str) -> Booking:
    found = fresh(session).scalar(select(Booking).where(Booking.code == code))
    assert found is not None
    return found


def form_url(start: dt.datetime, *services: str, location: str = LOCATION) -> str:
    query = "&".join(f"service={s}" for s in services or (PASS,))
    return f"/termine/buchen?{query}&location={location}&start={start.isoformat()}".replace(
        "+", "%2B"
    )


def challenge_of(page: str) -> str:
    match = re.search(r'data-challenge="([^"]+)"', page)
    assert match, "the booking form carries no challenge"
    return html.unescape(match.group(1))


def booking_form(
    client: TestClient,
    start: dt.datetime = TUESDAY_9,
    *,
    email: str = "erika@example.org",
    solve: bool = True,
) -> dict[str, Any]:
    """Open the booking form like a browser and fill it in (solving the challenge)."""
    page = client.get(form_url(start))
    assert page.status_code == 200, page.text
    data: dict[str, Any] = {
        "csrf_token": csrf_in(page.text),
        "service": [PASS],
        "location": LOCATION,
        "start": start.isoformat(),
        "name": "Erika Mustermann",
        "email": email,
    }
    if solve:
        token = challenge_of(page.text)
        data.update(pow_challenge=token, pow_nonce=challenge.solve(token))
    return data


def post_booking(client: TestClient, data: dict[str, Any]) -> Any:
    return client.post("/termine/buchen", data=data, follow_redirects=False)


# -- finding and booking ----------------------------------------------------------------------
def test_the_find_page_offers_bookable_services_only(client: TestClient) -> None:
    page = client.get("/termine")
    assert page.status_code == 200
    assert f'value="{PASS}"' in page.text
    assert 'value="briefwahl"' not in page.text  # online only
    assert "Freie Termine:" not in page.text


def test_the_find_page_lists_slots_for_a_service(client: TestClient) -> None:
    page = client.get("/termine", params={"service": PASS})
    assert page.status_code == 200
    links = re.findall(r'href="(/termine/buchen\?[^"]+)"', page.text)
    assert links
    first = parse_qs(urlparse(html.unescape(links[0])).query)
    assert first["service"] == [PASS]
    assert dt.datetime.fromisoformat(first["start"][0]) == MONDAY_9
    assert "14.12.2026" in page.text
    one_place = client.get(
        "/termine",
        params={"service": [PASS, PASSPORT], "location": "linden", "daypart": "nachmittag"},
    )
    starts = [
        dt.datetime.fromisoformat(parse_qs(urlparse(html.unescape(u)).query)["start"][0])
        for u in re.findall(r'href="(/termine/buchen\?[^"]+)"', one_place.text)
    ]
    assert starts and all(s.astimezone(BERLIN).hour >= 14 for s in starts)
    assert "location=linden" in one_place.text and "location=aegi" not in one_place.text


def test_the_find_page_explains_an_unknown_service(client: TestClient) -> None:
    page = client.get("/termine", params={"service": "gibt-es-nicht"})
    assert page.status_code == 200
    assert "Unbekannte Leistung: gibt-es-nicht" in page.text


def test_booking_through_the_form_with_the_challenge(client: TestClient, session: Session) -> None:
    resp = post_booking(client, booking_form(client))
    assert resp.status_code == 303, resp.text
    location = resp.headers["location"]
    match = re.fullmatch(r"/termine/([0-9A-Z]{12})\?neu=1", location)
    assert match, location
    code = match.group(1)
    booking = booking_by_code(session, code)
    assert booking.start == TUESDAY_9 and booking.status == "booked"
    page = client.get(location)
    assert page.status_code == 200
    assert "Ihr Termin ist gebucht" in page.text
    assert appointment_service.format_code(code) in page.text
    assert "Bisheriger Personalausweis oder Reisepass" in page.text  # the checklist
    assert f"/api/appointments/{code}/ics" in page.text


def test_a_solved_challenge_is_accepted_once(client: TestClient, session: Session) -> None:
    data = booking_form(client)
    assert post_booking(client, data).status_code == 303
    again = post_booking(
        client,
        {**data, "email": "bot@example.org", "start": berlin(2026, 12, 15, 10, 0).isoformat()},
    )
    assert again.status_code == 422
    assert "Sicherheitsprüfung" in again.text
    assert bookings(session) == 1


@pytest.mark.parametrize("tamper", ["missing", "wrong_nonce", "forged", "expired"])
def test_without_a_valid_challenge_nothing_is_booked(
    client: TestClient, session: Session, tamper: str
) -> None:
    data = booking_form(client, solve=tamper != "missing")
    if tamper == "wrong_nonce":
        data["pow_nonce"] = "x1"
    elif tamper == "forged":
        issued, rand, _, sig = data["pow_challenge"].split(":")
        data["pow_challenge"] = f"{issued}:{rand}:0:{sig}"  # claim no work was asked
        data["pow_nonce"] = "0"
    elif tamper == "expired":
        old = challenge.issue("test-secret", 4, now=1_000_000_000.0)
        data.update(pow_challenge=old, pow_nonce=challenge.solve(old))
    resp = post_booking(client, data)
    assert resp.status_code == 422, resp.text
    assert bookings(session) == 0


def test_the_form_needs_its_csrf_token(client: TestClient, session: Session) -> None:
    data = booking_form(client)
    resp = post_booking(client, {**data, "csrf_token": "forged"})
    assert resp.status_code == 403
    assert bookings(session) == 0


def test_invalid_form_input_shows_the_form_again(client: TestClient, session: Session) -> None:
    resp = post_booking(client, {**booking_form(client), "email": "keine-adresse"})
    assert resp.status_code == 422
    assert 'name="email"' in resp.text and "data-challenge" in resp.text
    assert bookings(session) == 0
    past = post_booking(client, booking_form(client, berlin(2026, 12, 14, 8, 30)))
    assert past.status_code == 422 and "Vergangenheit" in past.text
    assert bookings(session) == 0


def test_booking_rate_limit(client: TestClient, app: FastAPI, session: Session) -> None:
    app.state.settings = app.state.settings.model_copy(update={"booking_rate_limit": 3})
    starts = [berlin(2026, 12, 15, 9, 0) + dt.timedelta(minutes=20 * k) for k in range(5)]
    for start in starts[:3]:
        book_via_api(client, start=start.isoformat())
    resp = client.post(
        "/api/appointments",
        json={
            "service_ids": [PASS],
            "location_id": LOCATION,
            "start": starts[3].isoformat(),
            "name": "Erika Mustermann",
            "email": "erika@example.org",
        },
    )
    assert resp.status_code == 429
    assert resp.json()["error"] == "too_many_bookings"
    assert "Zu viele Anfragen" in resp.json()["detail"]
    page = post_booking(client, booking_form(client, starts[4]))
    assert page.status_code == 429
    assert bookings(session) == 3


def test_bot_protection_off_means_no_challenge_and_no_limit(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"bot_protection": "off", "booking_rate_limit": 1}
    )
    page = client.get(form_url(TUESDAY_9))
    assert "data-challenge" not in page.text
    assert post_booking(client, booking_form(client, solve=False)).status_code == 303
    for k in range(1, 3):
        book_via_api(client, start=(TUESDAY_9 + dt.timedelta(minutes=20 * k)).isoformat())
    assert bookings(session) == 3


# -- cancel and move --------------------------------------------------------------------------
def test_cancel_page(client: TestClient, session: Session) -> None:
    code = book_via_api(client, start=TUESDAY_9.isoformat())["code"]
    ask = client.get(f"/termine/{code}/absagen")
    assert ask.status_code == 200 and "Ja, Termin absagen" in ask.text
    resp = client.post(
        f"/termine/{code}/absagen", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert resp.status_code == 303 and resp.headers["location"] == f"/termine/{code}"
    assert booking_by_code(session, code).status == "cancelled"
    assert "Termin abgesagt" in client.get(f"/termine/{code}").text
    assert "kann nicht mehr abgesagt werden" in client.get(f"/termine/{code}/absagen").text
    again = client.post(
        f"/termine/{code}/absagen", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert again.status_code == 409
    no_token = client.post(
        f"/termine/{book_via_api(client)['code']}/absagen", follow_redirects=False
    )
    assert no_token.status_code == 403


def test_move_page(client: TestClient, session: Session) -> None:
    code = book_via_api(client, start=TUESDAY_9.isoformat())["code"]
    page = client.get(f"/termine/{code}/verschieben", params={"location": LOCATION})
    assert page.status_code == 200
    assert f'action="/termine/{code}/verschieben"' in page.text
    offered = re.findall(r'name="start" value="([^"]+)"', page.text)
    assert offered
    target = berlin(2026, 12, 16, 11, 0)
    resp = client.post(
        f"/termine/{code}/verschieben",
        data={"csrf_token": csrf_of(client), "start": target.isoformat(), "location": LOCATION},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/termine/{code}?verschoben=1"
    assert booking_by_code(session, code).start == target
    assert "Ihr Termin wurde verschoben." in client.get(resp.headers["location"]).text
    closed = client.post(
        f"/termine/{code}/verschieben",
        data={
            "csrf_token": csrf_of(client),
            "start": berlin(2026, 12, 25, 9, 0).isoformat(),
            "location": LOCATION,
        },
        follow_redirects=False,
    )
    assert closed.status_code == 422
    assert booking_by_code(session, code).start == target


def test_unknown_codes_get_a_friendly_404_page(client: TestClient) -> None:
    page = client.get("/termine/ZZZZZZZZZZZZ")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Zu diesem Code gibt es keinen Termin." in page.text


# -- kiosk, ticket page, call display ---------------------------------------------------------
def draw_at_kiosk(client: TestClient, service: str = "") -> str:
    resp = client.post(
        f"/standorte/{LOCATION}/kiosk",
        data={"csrf_token": csrf_of(client), "service": service},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    location: str = resp.headers["location"]
    assert location.startswith("/wartenummer/") and location.endswith("?kiosk=1")
    return location.removesuffix("?kiosk=1")  # the ticket's own address, as its QR code has it


def test_kiosk_issues_a_number_and_shows_its_page(client: TestClient, clock: Clock) -> None:
    clock.set(MONDAY_9)
    kiosk = client.get(f"/standorte/{LOCATION}/kiosk")
    assert kiosk.status_code == 200 and "Geschätzte Wartezeit gerade" in kiosk.text
    first = draw_at_kiosk(client)
    second = draw_at_kiosk(client, service=PASSPORT)
    page = client.get(first)
    assert page.status_code == 200
    assert "W001" in page.text and "Sie sind als Nächstes dran." in page.text
    assert "<svg" in page.text  # the QR code to follow the number on a phone
    assert f"http://testserver{first}" in page.text
    partial = client.get(second, params={"partial": "1"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Vor Ihnen wartet 1 Person." in partial.text
    assert client.get("/wartenummer/nope").status_code == 404


def test_the_kiosk_is_closed_outside_hours(client: TestClient, clock: Clock) -> None:
    clock.set(berlin(2026, 12, 14, 13, 0))
    kiosk = client.get(f"/standorte/{LOCATION}/kiosk")
    assert "Zurzeit werden keine Wartenummern ausgegeben" in kiosk.text
    resp = client.post(
        f"/standorte/{LOCATION}/kiosk", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert resp.status_code == 422


def test_kiosk_check_in_with_a_booking_code(client: TestClient, clock: Clock) -> None:
    code = book_via_api(client, start=berlin(2026, 12, 14, 10, 0).isoformat())["code"]
    clock.set(berlin(2026, 12, 14, 9, 50))
    resp = client.post(
        f"/standorte/{LOCATION}/kiosk/anmelden",
        data={"csrf_token": csrf_of(client), "code": appointment_service.format_code(code)},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    page = client.get(resp.headers["location"])
    assert re.search(r">T\d{3}<", page.text)
    wrong = client.post(
        f"/standorte/{LOCATION}/kiosk/anmelden",
        data={"csrf_token": csrf_of(client), "code": "ZZZZ-ZZZZ-ZZZZ"},
        follow_redirects=False,
    )
    assert wrong.status_code == 404


def test_the_call_display_shows_who_is_called(
    client: TestClient, clock: Clock, session: Session
) -> None:
    clock.set(MONDAY_9)
    board = client.get(f"/standorte/{LOCATION}/aufruf")
    assert board.status_code == 200
    assert f'data-live="/live/standorte/{LOCATION}"' in board.text
    assert "Noch niemand aufgerufen." in board.text
    draw_at_kiosk(client)
    draw_at_kiosk(client)
    queue_service.call_next(
        fresh(session), location_id=LOCATION, counter=2, now=MONDAY_9 + dt.timedelta(minutes=1)
    )
    session.commit()
    partial = client.get(f"/standorte/{LOCATION}/aufruf", params={"partial": "1"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert re.search(r"<td>W001</td><td>2</td>", partial.text)
    assert "1 Person wartet." in partial.text
    assert client.get("/standorte/atlantis/aufruf").status_code == 404


# -- live updates -----------------------------------------------------------------------------
class _StubRequest:
    """What the SSE generator needs of a request: the app, and whether the client left."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def is_disconnected(self) -> bool:
        return False


def _listen(app: FastAPI, ready: threading.Event, got: list[str]) -> None:
    """Read the SSE stream of the location in a thread of its own: the opening `retry`, then
    (once subscribed, signalled by `ready`) the next message; then leave like a browser."""

    async def run() -> None:
        stream = cast(
            AsyncGenerator[str, None],
            queue_pages._events(cast(Request, _StubRequest(app)), f"location:{LOCATION}"),
        )
        got.append(await stream.__anext__())
        pending = asyncio.ensure_future(stream.__anext__())
        hub = app.state.broadcaster
        assert isinstance(hub, MemoryBroadcaster)
        for _ in range(5000):
            if hub._queues.get(f"location:{LOCATION}") or pending.done():
                break
            await asyncio.sleep(0.002)
        ready.set()
        got.append(await asyncio.wait_for(pending, timeout=10))
        await stream.aclose()

    try:
        asyncio.run(run())
    except BaseException as exc:  # reported to the test through `got`
        got.append(f"error: {exc!r}")
    finally:
        ready.set()


def test_the_live_stream_announces_a_console_call(
    client: TestClient, app: FastAPI, session: Session, clock: Clock
) -> None:
    clock.set(MONDAY_9)
    make_user(session, "clerk", "staff")
    login(client, "clerk")
    draw_at_kiosk(client)
    ready, got = threading.Event(), list[str]()
    listener = threading.Thread(target=_listen, args=(app, ready, got))
    listener.start()
    assert ready.wait(timeout=10)
    resp = client.post(
        f"/mitarbeiter/schalter/{LOCATION}/1",
        data={"csrf_token": csrf_of(client), "action": "next"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    listener.join(timeout=15)
    assert not listener.is_alive()
    assert got == ["retry: 3000\n\n", "event: changed\ndata: changed\n\n"]
    hub = app.state.broadcaster
    assert isinstance(hub, MemoryBroadcaster) and not hub._queues.get(f"location:{LOCATION}")


def test_the_live_stream_keeps_the_connection_alive_and_closes_cleanly(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_pages, "KEEPALIVE_SECONDS", 0.01)
    ready, got = threading.Event(), list[str]()
    listener = threading.Thread(target=_listen, args=(app, ready, got))
    listener.start()
    listener.join(timeout=15)
    # leaving while a read waits inside the subscription must not raise, and unsubscribes
    assert got == ["retry: 3000\n\n", ": keepalive\n\n"]
    hub = app.state.broadcaster
    assert isinstance(hub, MemoryBroadcaster) and not hub._queues.get(f"location:{LOCATION}")


class _BrokenHub:
    """A broadcaster whose connection fails (Redis restarted): each subscription dies at once."""

    def publish(self, channel: str, message: str) -> None:
        return None

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        raise ConnectionError("hub gone")
        yield ""  # pragma: no cover - makes this an async generator


def test_the_live_stream_ends_when_the_hub_fails(app: FastAPI) -> None:
    """The browser reconnects after `retry`; the stream must not spin out `changed` events."""
    app.state.broadcaster = _BrokenHub()

    async def read_all() -> list[str]:
        stream = queue_pages._events(cast(Request, _StubRequest(app)), f"location:{LOCATION}")
        return [item async for item in stream][:10]

    assert asyncio.run(asyncio.wait_for(read_all(), timeout=10)) == ["retry: 3000\n\n"]


def test_the_live_stream_of_an_unknown_location_is_a_404(client: TestClient) -> None:
    assert client.get("/live/standorte/atlantis").status_code == 404


# -- counter console --------------------------------------------------------------------------
def act(client: TestClient, action: str, counter: int = 1, **fields: Any) -> Any:
    return client.post(
        f"/mitarbeiter/schalter/{LOCATION}/{counter}",
        data={"csrf_token": csrf_of(client), "action": action, **fields},
        follow_redirects=False,
    )


def ticket(session: Session, label: str) -> Ticket:
    found = fresh(session).scalar(
        select(Ticket).where(Ticket.label == label, Ticket.location_id == LOCATION)
    )
    assert found is not None
    return found


def audited(session: Session, action: str) -> list[AuditEntry]:
    return list(fresh(session).scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_console_needs_a_staff_login(client: TestClient, session: Session) -> None:
    resp = client.get(f"/mitarbeiter/schalter/{LOCATION}/1", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/mitarbeiter/login")
    assert act(client, "next").status_code == 303  # to the login, calling nobody
    make_user(session, "planner", "planner")
    login(client, "planner")
    assert client.get(f"/mitarbeiter/schalter/{LOCATION}/1").status_code == 403
    assert act(client, "next").status_code == 403
    assert audited(session, "queue.next") == []


def test_console_actions_work_and_are_audited(
    client: TestClient, session: Session, clock: Clock
) -> None:
    code = book_via_api(client, start=berlin(2026, 12, 14, 10, 0).isoformat())["code"]
    clock.set(MONDAY_9)
    make_user(session, "clerk", "staff")
    login(client, "clerk")
    draw_at_kiosk(client)
    draw_at_kiosk(client)
    page = client.get(f"/mitarbeiter/schalter/{LOCATION}/1")
    assert page.status_code == 200 and "Schalter 1" in page.text
    assert code[:4] in page.text  # today's schedule

    resp = act(client, "next")
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/mitarbeiter/schalter/{LOCATION}/1"
    first = ticket(session, "W001")
    assert (first.status, first.counter) == ("called", 1)
    assert "W001" in client.get(f"/mitarbeiter/schalter/{LOCATION}/1").text

    assert act(client, "transfer", ticket_id=first.id, target_counter=3).status_code == 303
    assert ticket(session, "W001").counter == 3
    clock.set(MONDAY_9 + dt.timedelta(minutes=12))
    assert act(client, "done", counter=3, ticket_id=first.id).status_code == 303
    assert ticket(session, "W001").status == "done"

    assert act(client, "next").status_code == 303
    second = ticket(session, "W002")
    assert second.status == "called"
    assert act(client, "no_show", ticket_id=second.id).status_code == 303
    assert ticket(session, "W002").status == "no_show"

    clock.set(berlin(2026, 12, 14, 9, 55))
    assert act(client, "present", code=code).status_code == 303
    arrived = fresh(session).scalar(select(Ticket).where(Ticket.kind == "appointment"))
    assert arrived is not None and arrived.label.startswith("T")
    assert booking_by_code(session, code).status == "arrived"

    assert act(client, "dance").status_code == 422
    assert act(client, "done", ticket_id=first.id).status_code == 409  # already closed

    for action in ("queue.next", "queue.transfer", "queue.done", "queue.no_show", "queue.present"):
        entries = audited(session, action)
        assert entries and all(e.username == "clerk" and e.target == LOCATION for e in entries)
    assert audited(session, "queue.dance") == []
    assert [e.detail["counter"] for e in audited(session, "queue.done")] == [3]


def test_no_show_for_a_booking_from_the_console(
    client: TestClient, session: Session, clock: Clock
) -> None:
    code = book_via_api(client, start=berlin(2026, 12, 14, 10, 0).isoformat())["code"]
    clock.set(berlin(2026, 12, 14, 10, 30))
    make_user(session, "clerk", "staff")
    login(client, "clerk")
    assert act(client, "no_show_booking", code=code).status_code == 303
    assert booking_by_code(session, code).status == "no_show"
    assert audited(session, "queue.no_show_booking")


# -- capacity ---------------------------------------------------------------------------------
def capacity_form(client: TestClient, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": csrf_of(client),
        "hours": "Mo-Fr 09:00-13:00",
        "counters": "4",
        "walkin_percent": "25",
        "grid_minutes": "10",
        "service": [PASS, PASSPORT],
    }
    data.update(values)
    return data


def cap_values(session: Session) -> tuple[Any, ...]:
    cap = capacity_of(session)
    return (cap.hours, cap.counters, cap.walkin_share, cap.grid_minutes, cap.service_ids)


def test_the_capacity_page_is_for_admins(client: TestClient, session: Session) -> None:
    make_user(session, "clerk", "staff")
    login(client, "clerk")
    assert client.get(f"/verwaltung/kapazitaet/{LOCATION}").status_code == 403
    before = cap_values(session)
    resp = client.post(
        f"/verwaltung/kapazitaet/{LOCATION}", data=capacity_form(client), follow_redirects=False
    )
    assert resp.status_code == 403
    assert cap_values(session) == before


def test_the_capacity_page_shows_the_settings(admin: TestClient, session: Session) -> None:
    appointment_service.add_closure(
        session, location_id=LOCATION, day=dt.date(2026, 12, 16), reason="Personalversammlung"
    )
    session.commit()
    page = admin.get(f"/verwaltung/kapazitaet/{LOCATION}")
    assert page.status_code == 200, page.status_code
    assert "Mo 08:00-12:00" in page.text and "Personalversammlung" in page.text


def test_bad_hours_show_the_form_again_with_a_400(admin: TestClient, session: Session) -> None:
    resp = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}",
        data=capacity_form(admin, hours="Mo-Fr 13:00-09:00"),
        follow_redirects=False,
    )
    assert resp.status_code == 400, resp.status_code
    assert "Bitte korrigieren Sie" in resp.text


def test_capacity_settings_are_saved(admin: TestClient, session: Session) -> None:
    resp = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}", data=capacity_form(admin), follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/verwaltung/kapazitaet/{LOCATION}?gespeichert=1"
    hours, counters, share, grid, services = cap_values(session)
    assert hours["mo"] == [["09:00", "13:00"]] and "sa" not in hours
    assert (counters, share, grid, services) == (4, 0.25, 10, [PASS, PASSPORT])
    assert appointment_service.appointment_counters(capacity_of(session)) == 3
    entry = audited(session, "capacity.update")
    assert entry and entry[0].username == "boss" and entry[0].detail["counters"] == 4
    # the new settings take effect at once
    slots = admin.get(
        "/api/appointments/slots", params={"service": PASS, "location": LOCATION}
    ).json()
    assert dt.datetime.fromisoformat(slots[0]["start"]) == berlin(2026, 12, 14, 9, 0)
    assert slots[0]["capacity_left"] == 3
    assert any(dt.datetime.fromisoformat(s["start"]).astimezone(BERLIN).hour == 12 for s in slots)
    not_offered = admin.get(
        "/api/appointments/slots", params={"service": "meldebescheinigung", "location": LOCATION}
    )
    assert not_offered.json() == []
    every = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}",
        data=capacity_form(admin, all_services="1"),
        follow_redirects=False,
    )
    assert every.status_code == 303 and capacity_of(session).service_ids is None


@pytest.mark.parametrize(
    "bad",
    [
        {"hours": "Mo-Fr 13:00-09:00"},  # closes before it opens
        {"hours": "Montags immer"},
        {"hours": "Mo-Fr 08:00-12:00, 11:00-14:00"},  # overlapping spans
        {"counters": "-1"},
        {"counters": "viele"},
        {"walkin_percent": "abc"},
        {"walkin_percent": "150"},
        {"grid_minutes": "2"},
    ],
)
def test_bad_capacity_settings_change_nothing(
    admin: TestClient, session: Session, bad: dict[str, str]
) -> None:
    before = cap_values(session)
    resp = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}",
        data=capacity_form(admin, **bad),
        follow_redirects=False,
    )
    assert resp.status_code == 400, resp.text
    assert cap_values(session) == before
    assert audited(session, "capacity.update") == []


def test_the_grid_is_locked_while_bookings_wait(admin: TestClient, session: Session) -> None:
    book_via_api(admin, start=TUESDAY_9.isoformat())
    before = cap_values(session)
    resp = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}",
        data=capacity_form(admin, grid_minutes="15"),
        follow_redirects=False,
    )
    assert resp.status_code == 422
    assert cap_values(session) == before


def test_closures_are_added_and_removed(admin: TestClient, session: Session) -> None:
    def slot_days() -> set[str]:
        found = admin.get(
            "/api/appointments/slots",
            params={
                "service": PASS,
                "location": LOCATION,
                "date_from": "2026-12-16",
                "date_to": "2026-12-17",
            },
        ).json()
        return {
            dt.datetime.fromisoformat(s["start"]).astimezone(BERLIN).date().isoformat()
            for s in found
        }

    assert slot_days() == {"2026-12-16", "2026-12-17"}
    resp = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}/schliessung",
        data={"csrf_token": csrf_of(admin), "day": "2026-12-16", "reason": "Personalversammlung"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    closure = fresh(session).scalar(select(Closure).where(Closure.location_id == LOCATION))
    assert closure is not None and closure.day == dt.date(2026, 12, 16)
    assert closure.reason == "Personalversammlung"
    closure_id = closure.id
    assert slot_days() == {"2026-12-17"}
    assert audited(session, "closure.add")

    gone = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}/schliessung/{closure_id}/loeschen",
        data={"csrf_token": csrf_of(admin)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert fresh(session).scalar(select(Closure).where(Closure.location_id == LOCATION)) is None
    assert slot_days() == {"2026-12-16", "2026-12-17"}
    assert audited(session, "closure.remove")
    missing = admin.post(
        f"/verwaltung/kapazitaet/{LOCATION}/schliessung/{closure_id}/loeschen",
        data={"csrf_token": csrf_of(admin)},
        follow_redirects=False,
    )
    assert missing.status_code == 404


def test_a_fixed_clock_is_what_the_pages_use(client: TestClient) -> None:
    """The booking pages read the same clock as the services (not the machine's date)."""
    assert NOW.astimezone(BERLIN).date() == dt.date(2026, 12, 14)
    page = client.get("/termine", params={"service": PASS, "location": LOCATION})
    assert "Montag, 14.12.2026" in page.text or "14.12.2026" in page.text
