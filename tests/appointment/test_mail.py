"""Booking e-mails over real SMTP on loopback (aiosmtpd): confirmation, reminder, cancellation,
and an SMTP server that is away."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment.mail import MAX_ATTEMPTS
from servicepoint.appointment.models import OutboxMail
from servicepoint.config import Settings
from servicepoint.worker import run_once
from tests.appointment.conftest import NOW, Clock, berlin, book_via_api, fresh
from tests.mail_support import Collector, free_port

pytestmark = pytest.mark.usefixtures("clock")

WEDNESDAY_9 = berlin(2026, 12, 16, 9, 0)
REMINDER_AT = berlin(2026, 12, 15, 18, 0)  # 18:00 the day before


@pytest.fixture
def mail_settings(smtp_server: tuple[Collector, int]) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        smtp_timeout=5,
        secret_key="test-secret",
        redis_url=None,
    )


def run(session: Session, settings: Settings, now: dt.datetime) -> int:
    report = run_once(fresh(session), settings=settings, now=now.astimezone(dt.UTC))
    session.commit()
    return report.mails_sent


def outbox(session: Session) -> list[OutboxMail]:
    return list(fresh(session).scalars(select(OutboxMail).order_by(OutboxMail.id)))


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def calendar_of(message: EmailMessage) -> Calendar:
    attachments = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    assert len(attachments) == 1
    assert attachments[0].get_filename() == "termin.ics"
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Calendar.from_ical(payload)


def test_the_confirmation_is_sent_with_code_checklist_and_calendar(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    code = book_via_api(client, start=WEDNESDAY_9.isoformat())["code"]
    assert run(session, mail_settings, NOW + dt.timedelta(minutes=1)) == 1
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["erika@example.org"]
    assert message["To"] == "erika@example.org"
    assert "HannoverServicePoint" in message["From"]
    assert message["Subject"] == "Ihr Termin am Mittwoch, 16.12.2026, 09:00 Uhr"
    body = text_of(message)
    assert "Guten Tag Erika Mustermann," in body
    assert "Wann: Mittwoch, 16.12.2026, 09:00 Uhr" in body  # weekday and "Uhr"
    assert "Wo: Bürgeramt Aegi, Aegidientorplatz 1" in body  # with the known address
    assert code in body
    assert "Bitte bringen Sie mit:" in body
    assert "- Bisheriger Personalausweis oder Reisepass (falls vorhanden)" in body
    assert f"http://testserver/termine/{code}" in body  # the address the citizen used
    event = next(c for c in calendar_of(message).walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == WEDNESDAY_9
    assert code in str(event["uid"])
    # sent once: the next pass has nothing to do
    assert run(session, mail_settings, NOW + dt.timedelta(minutes=2)) == 0
    assert len(smtp.messages) == 1


def test_english_bookings_get_english_mail(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    resp = client.post(
        "/api/appointments",
        json={
            "service_ids": ["personalausweis"],
            "location_id": "aegi",
            "start": WEDNESDAY_9.isoformat(),
            "name": "Jane Doe",
            "email": "jane@example.org",
            "lang": "en",
        },
    )
    assert resp.status_code == 201
    run(session, mail_settings, NOW + dt.timedelta(minutes=1))
    _, message = smtp.messages[0]
    assert message["Subject"] == "Your appointment on Wednesday, 16.12.2026, 09:00"
    body = text_of(message)
    assert "Your current identity card or passport" in body
    assert "When: Wednesday, 16.12.2026, 09:00" in body and "Uhr" not in body
    assert "Where: Bürgeramt Aegi, Aegidientorplatz 1" in body
    event = next(c for c in calendar_of(message).walk() if c.name == "VEVENT")
    assert str(event["summary"]) == "Appointment: Apply for an identity card – Bürgeramt Aegi"


def test_the_reminder_goes_out_at_six_pm_the_day_before(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    code = book_via_api(client, start=WEDNESDAY_9.isoformat())["code"]
    assert run(session, mail_settings, NOW + dt.timedelta(minutes=1)) == 1  # confirmation
    assert run(session, mail_settings, REMINDER_AT - dt.timedelta(minutes=1)) == 0
    assert run(session, mail_settings, REMINDER_AT) == 1
    _, reminder = smtp.messages[-1]
    assert reminder["Subject"] == "Erinnerung: Ihr Termin morgen, Mittwoch, 16.12.2026, 09:00 Uhr"
    assert code in text_of(reminder)
    assert "Bitte bringen Sie mit:" in text_of(reminder)
    assert run(session, mail_settings, REMINDER_AT + dt.timedelta(hours=1)) == 0
    assert [m["Subject"].split(":")[0] for _, m in smtp.messages] == [
        "Ihr Termin am Mittwoch, 16.12.2026, 09",
        "Erinnerung",
    ]


def test_a_booking_made_after_six_the_day_before_gets_no_reminder(
    client: TestClient, session: Session, clock: Clock, smtp: Collector, mail_settings: Settings
) -> None:
    clock.set(berlin(2026, 12, 15, 19, 0))
    book_via_api(client, start=WEDNESDAY_9.isoformat())
    assert [m.kind for m in outbox(session)] == ["confirmation"]
    assert run(session, mail_settings, berlin(2026, 12, 15, 19, 1)) == 1


def test_a_cancelled_booking_gets_a_cancellation_and_no_reminder(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    code = book_via_api(client, start=WEDNESDAY_9.isoformat())["code"]
    assert run(session, mail_settings, NOW + dt.timedelta(minutes=1)) == 1
    assert client.delete(f"/api/appointments/{code}").status_code == 204
    assert run(session, mail_settings, REMINDER_AT + dt.timedelta(minutes=5)) == 1
    assert run(session, mail_settings, WEDNESDAY_9) == 0
    subjects = [m["Subject"] for _, m in smtp.messages]
    assert subjects == [
        "Ihr Termin am Mittwoch, 16.12.2026, 09:00 Uhr",
        "Ihr Termin am Mittwoch, 16.12.2026, 09:00 Uhr wurde abgesagt",
    ]
    cancellation = smtp.messages[-1][1]
    assert code in text_of(cancellation)
    assert "Bitte bringen Sie mit:" not in text_of(cancellation)
    event = next(c for c in calendar_of(cancellation).walk() if c.name == "VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("sequence") == 1  # replaces the confirmed event in calendars
    assert "reminder" not in [m.kind for m in outbox(session)]


def test_cancelling_before_the_confirmation_went_out_sends_only_the_cancellation(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    code = book_via_api(client, start=WEDNESDAY_9.isoformat())["code"]
    client.delete(f"/api/appointments/{code}")
    assert run(session, mail_settings, WEDNESDAY_9) == 1
    assert [m["Subject"] for _, m in smtp.messages] == [
        "Ihr Termin am Mittwoch, 16.12.2026, 09:00 Uhr wurde abgesagt"
    ]


def test_a_moved_booking_is_confirmed_and_reminded_for_the_new_time(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    code = book_via_api(client, start=WEDNESDAY_9.isoformat())["code"]
    run(session, mail_settings, NOW + dt.timedelta(minutes=1))
    new = berlin(2026, 12, 18, 10, 0)
    assert (
        client.post(
            f"/api/appointments/{code}/reschedule", json={"start": new.isoformat()}
        ).status_code
        == 200
    )
    run(session, mail_settings, REMINDER_AT + dt.timedelta(minutes=1))  # old reminder: gone
    run(session, mail_settings, berlin(2026, 12, 17, 18, 0))
    assert [m["Subject"] for _, m in smtp.messages] == [
        "Ihr Termin am Mittwoch, 16.12.2026, 09:00 Uhr",
        "Ihr Termin am Freitag, 18.12.2026, 10:00 Uhr",
        "Erinnerung: Ihr Termin morgen, Freitag, 18.12.2026, 10:00 Uhr",
    ]


def test_an_unreachable_smtp_server_leaves_mails_queued(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    book_via_api(client, start=WEDNESDAY_9.isoformat())
    away = mail_settings.model_copy(update={"smtp_port": free_port(), "smtp_timeout": 2})
    assert run(session, away, NOW + dt.timedelta(minutes=1)) == 0  # no exception
    queued = [m for m in outbox(session) if m.kind == "confirmation"]
    assert len(queued) == 1 and queued[0].sent_at is None
    # once the server is back, the next pass delivers it
    assert run(session, mail_settings, NOW + dt.timedelta(minutes=2)) == 1
    assert len(smtp.messages) == 1
    assert all(m.sent_at is not None for m in outbox(session) if m.kind == "confirmation")


def test_without_an_smtp_host_mails_wait_in_the_outbox(
    client: TestClient, session: Session, smtp: Collector
) -> None:
    book_via_api(client, start=WEDNESDAY_9.isoformat())
    assert run(session, Settings(smtp_host=None, secret_key="x"), WEDNESDAY_9) == 0
    assert {m.kind for m in outbox(session)} == {"confirmation", "reminder"}
    assert all(m.sent_at is None for m in outbox(session))
    assert smtp.messages == []


def test_a_refused_recipient_is_retried_a_few_times_then_left(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    book_via_api(client, start=WEDNESDAY_9.isoformat())
    smtp.refuse = True
    for minute in range(1, MAX_ATTEMPTS + 3):
        assert run(session, mail_settings, NOW + dt.timedelta(minutes=minute)) == 0
    confirmation = next(m for m in outbox(session) if m.kind == "confirmation")
    assert confirmation.sent_at is None
    assert confirmation.attempts == MAX_ATTEMPTS
    assert confirmation.last_error and "550" in confirmation.last_error
    assert smtp.messages == []


def test_a_moved_booking_s_calendar_file_keeps_its_uid_and_counts_up_its_sequence(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    code = book_via_api(client, start=WEDNESDAY_9.isoformat())["code"]

    def event() -> Any:
        resp = client.get(f"/api/appointments/{code}/ics")
        assert resp.status_code == 200
        return next(c for c in Calendar.from_ical(resp.content).walk() if c.name == "VEVENT")

    first = event()
    assert first.decoded("sequence") == 0
    for n, day in enumerate((17, 18), start=1):
        new = berlin(2026, 12, day, 10, 0)
        moved = client.post(f"/api/appointments/{code}/reschedule", json={"start": new.isoformat()})
        assert moved.status_code == 200, moved.text
        assert event().decoded("sequence") == n
        assert str(event()["uid"]) == str(first["uid"])
        assert event().decoded("dtstart") == new
    run(session, mail_settings, NOW + dt.timedelta(minutes=1))
    confirmation = smtp.messages[-1][1]
    mailed = next(c for c in calendar_of(confirmation).walk() if c.name == "VEVENT")
    assert mailed.decoded("sequence") == 2 and str(mailed["uid"]) == str(first["uid"])
    assert str(mailed["summary"]) == "Termin: Personalausweis beantragen – Bürgeramt Aegi"


def test_the_mail_says_when_the_address_is_unknown(
    client: TestClient, session: Session, smtp: Collector, mail_settings: Settings
) -> None:
    book_via_api(client, location="bemerode")
    run(session, mail_settings, NOW + dt.timedelta(minutes=1))
    assert "Wo: Bürgeramt Bemerode (Adresse unbekannt)" in text_of(smtp.messages[-1][1])
