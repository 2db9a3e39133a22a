"""Video bookings in mails, the calendar file and the pages: the join link, when it opens,
that no office visit is needed; the service page's "Videoberatung buchen"; the capacity page."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking, Capacity
from servicepoint.config import Settings
from servicepoint.core import challenge
from servicepoint.worker import run_once
from tests.appointment.conftest import NOW, PASS, berlin, fresh
from tests.appointment.video_support import (
    MONDAY_9,
    RESIDENCE,
    SECRET,
    TUESDAY_10,
    VIDEO,
    book_video,
    video_slots,
    when,
)
from tests.conftest import csrf_in
from tests.mail_support import Collector

pytestmark = pytest.mark.usefixtures("clock")


# -- calendar file and mails ------------------------------------------------------------------
def event_of(client: TestClient, code: str) -> Any:
    resp = client.get(f"/api/appointments/{code}/ics")
    assert resp.status_code == 200
    return next(c for c in Calendar.from_ical(resp.content).walk() if c.name == "VEVENT")


def test_the_calendar_file_carries_the_join_link(client: TestClient) -> None:
    body = book_video(client)
    event = event_of(client, body["code"])
    assert str(event["location"]) == body["join_url"]
    assert str(event["url"]) == body["join_url"]
    assert body["join_url"] in str(event["description"])
    assert event.decoded("dtstart") == TUESDAY_10
    client.delete(f"/api/appointments/{body['code']}")
    cancelled = event_of(client, body["code"])
    assert str(cancelled["status"]) == "CANCELLED"
    assert body["join_url"] not in cancelled.to_ical().decode()


@pytest.fixture
def mail_settings(smtp_server: tuple[Collector, int]) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        smtp_timeout=5,
        secret_key=SECRET,
        redis_url=None,
    )


def send(session: Session, settings: Settings, now: dt.datetime) -> int:
    report = run_once(fresh(session), settings=settings, now=now.astimezone(dt.UTC))
    session.commit()
    return report.mails_sent


def text_of(message: Any) -> str:
    content: str = message.get_body(preferencelist=("plain",)).get_content()
    return content


def mailed_event(message: Any) -> Any:
    part = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    return next(c for c in calendar.walk() if c.name == "VEVENT")


def test_confirmation_and_reminder_carry_the_join_link(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    body = book_video(client)
    assert send(session, mail_settings, NOW + dt.timedelta(minutes=1)) == 1
    _, confirmation = smtp.messages[-1]
    assert confirmation["Subject"] == "Ihre Videoberatung am Dienstag, 15.12.2026, 10:00 Uhr"
    text = text_of(confirmation)
    assert f"Ihr persönlicher Zugangslink: {body['join_url']}" in text
    assert "Der Link öffnet sich am 15.12.2026 um 09:50 Uhr (10 Minuten vor Beginn)." in text
    assert "nicht weiter" in text and "nicht ins Bürgeramt" in text
    assert "Wo:" not in text and "Adresse unbekannt" not in text
    assert "Bitte halten Sie bereit:" in text
    assert str(mailed_event(confirmation)["location"]) == body["join_url"]
    assert send(session, mail_settings, berlin(2026, 12, 14, 18, 0)) == 1
    _, reminder = smtp.messages[-1]
    subject = " ".join(str(reminder["Subject"]).split())  # a long subject is folded
    assert subject == "Erinnerung: Ihre Videoberatung morgen, Dienstag, 15.12.2026, 10:00 Uhr"
    assert body["join_url"] in text_of(reminder) and "09:50" in text_of(reminder)


def test_english_video_mail(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    body = book_video(client, lang="en", name="Jane Doe", email="jane@example.org")
    send(session, mail_settings, NOW + dt.timedelta(minutes=1))
    _, message = smtp.messages[-1]
    assert message["Subject"] == "Your video consultation on Tuesday, 15.12.2026, 10:00"
    text = text_of(message)
    assert f"Your personal link: {body['join_url']}" in text
    assert "The link opens on 15.12.2026 at 09:50 (10 minutes before the start)." in text
    assert "Uhr" not in text and "Bitte" not in text


def test_the_cancellation_mail_carries_no_link(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    body = book_video(client)
    client.delete(f"/api/appointments/{body['code']}")
    send(session, mail_settings, NOW + dt.timedelta(minutes=1))
    cancellation = smtp.messages[-1][1]
    assert cancellation["Subject"].startswith("Ihre Videoberatung am")
    assert "abgesagt" in cancellation["Subject"]
    assert body["join_url"] not in text_of(cancellation)


# -- pages ------------------------------------------------------------------------------------
def found_in(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, pattern
    return match.group(1)


def test_the_service_page_offers_a_video_consultation(client: TestClient) -> None:
    for slug in ("aufenthaltstitel-beantragen-verlaengern", "gewerbe-anmelden-ummelden-abmelden"):
        page = client.get(f"/leistungen/{slug}")
        assert page.status_code == 200
        section = page.text[page.text.index('id="video"') :]
        assert "Videoberatung buchen" in section[: section.index("</li>")]
        assert "channel=video" in section[: section.index("</li>")]
    passport = client.get("/leistungen/personalausweis-beantragen").text
    assert "Videoberatung buchen" not in passport


def test_booking_a_video_consultation_through_the_pages(
    client: TestClient, session: Session
) -> None:
    found = client.get("/termine", params={"service": RESIDENCE, "channel": "video"})
    assert found.status_code == 200
    assert "Videoberatung buchen" in found.text
    assert 'name="location"' not in found.text  # no office to choose
    assert f'value="{RESIDENCE}"' in found.text and f'value="{PASS}"' not in found.text
    links = re.findall(r'href="(/termine/buchen\?[^"]+)"', found.text)
    assert links
    query = parse_qs(urlparse(html.unescape(links[0])).query)
    assert query["location"] == [VIDEO] and when(query["start"][0]) == MONDAY_9
    form = client.get(html.unescape(links[0]))
    assert form.status_code == 200 and "Videoberatung bestätigen" in form.text
    assert "/standorte/" + VIDEO not in form.text
    token = html.unescape(found_in(r'data-challenge="([^"]+)"', form.text))
    resp = client.post(
        "/termine/buchen",
        data={
            "csrf_token": csrf_in(form.text),
            "service": [RESIDENCE],
            "location": VIDEO,
            "start": query["start"][0],
            "name": "Erika Mustermann",
            "email": "erika@example.org",
            "pow_challenge": token,
            "pow_nonce": challenge.solve(token),
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    code = found_in(r"^/termine/([0-9A-Z]{12})\?neu=1$", resp.headers["location"])
    booking = fresh(session).scalars(select(Booking).where(Booking.code == code)).one()
    assert booking.channel == "video" and booking.location_id == VIDEO


def test_the_booking_page_shows_the_join_link(client: TestClient) -> None:
    body = book_video(client)
    page = client.get(f"/termine/{body['code']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f'href="{body["join_url"]}"' in text
    assert "Der Link öffnet sich am 15.12.2026 um 09:50 Uhr" in text
    assert "nicht ins Bürgeramt" in text and "nicht weiter" in text
    assert "/standorte/" + VIDEO not in text
    english = client.get(f"/termine/{body['code']}?lang=en")
    assert "Your personal link" in html.unescape(english.text)
    client.delete(f"/api/appointments/{body['code']}")
    assert body["join_url"] not in html.unescape(client.get(f"/termine/{body['code']}").text)


def test_the_move_page_offers_video_slots_only(client: TestClient) -> None:
    code = book_video(client)["code"]
    page = client.get(f"/termine/{code}/verschieben")
    assert page.status_code == 200
    locations = set(re.findall(r'name="location" value="([^"]+)"', page.text))
    assert locations == {VIDEO}
    assert 'id="m-location"' not in page.text
    cancel = client.get(f"/termine/{code}/absagen")
    assert "Videoberatung" in cancel.text


def test_admins_set_the_video_capacity_on_its_page(admin: TestClient, session: Session) -> None:
    page = admin.get(f"/verwaltung/kapazitaet/{VIDEO}")
    assert page.status_code == 200
    assert 'name="opening_hours"' not in page.text  # no office facts to publish
    assert f'value="{RESIDENCE}"' in page.text and f'value="{PASS}"' not in page.text
    assert f"/verwaltung/kapazitaet/{VIDEO}" in admin.get("/mitarbeiter/schalter").text
    resp = admin.post(
        f"/verwaltung/kapazitaet/{VIDEO}",
        data={
            "csrf_token": csrf_in(page.text),
            "hours": "Mo-Fr 09:00-12:00",
            "counters": "3",
            "walkin_percent": "0",
            "grid_minutes": "15",
            "all_services": "1",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    cap = fresh(session).get(Capacity, VIDEO)
    assert cap is not None and (cap.counters, cap.walkin_share, cap.channel) == (3, 0.0, "video")
    assert {s["capacity_left"] for s in video_slots(admin)} == {3}
