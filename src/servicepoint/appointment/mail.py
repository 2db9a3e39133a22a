"""Booking e-mails: composed into an outbox at booking time, sent over SMTP by the worker."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from servicepoint.appointment import video
from servicepoint.appointment.models import Booking, OutboxMail
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.hours import DAY_NAMES
from servicepoint.catalog.models import Service
from servicepoint.config import Settings
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.db import table
from servicepoint.core.i18n import N_, pick, translate

MAX_ATTEMPTS = 5
log = logging.getLogger("servicepoint.mail")


def booking_links(booking: Booking, base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "page": f"{base}/termine/{booking.code}",
        "cancel": f"{base}/termine/{booking.code}/absagen",
        "move": f"{base}/termine/{booking.code}/verschieben",
        "ics": f"{base}/api/appointments/{booking.code}/ics",
    }


def booking_ics(
    booking: Booking,
    *,
    services: Sequence[Service],
    location_name: str,
    address: str | None,
    base_url: str,
    site_name: str,
    join_url: str | None = None,
) -> bytes:
    """An RFC 5545 calendar with one event; times in UTC so every client shows them right.
    A video booking's place is its join link (LOCATION, URL and description), while it holds."""
    cal = Calendar()
    cal.add("prodid", f"-//{site_name}//servicepoint//DE")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.code}@servicepoint")
    # Each move or cancellation counts it up, so clients update the event of this UID.
    event.add("sequence", booking.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", booking.start.astimezone(dt.UTC))
    event.add("dtend", booking.end.astimezone(dt.UTC))
    event.add("summary", _summary(booking.lang, services, location_name))
    links = booking_links(booking, base_url)
    join = join_url if booking.status != "cancelled" else None
    event.add("location", join or ", ".join(p for p in (location_name, address) if p))
    lines = [f"Code: {booking.code}"]
    if join:
        lines.append(f"{translate(booking.lang, 'Ihr persönlicher Zugangslink')}: {join}")
    event.add("description", "\n".join([*lines, links["page"]]))
    event.add("url", join or links["page"])
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    return bytes(cal.to_ical())


def _names(services: Sequence[Service], lang: str) -> str:
    return ", ".join(s.name_de if lang == "de" else s.name_en for s in services)


def _summary(lang: str, services: Sequence[Service], location_name: str) -> str:
    """The calendar entry's title, in the language the citizen booked in."""
    return translate(lang, "Termin: %(services)s – %(place)s") % {
        "services": _names(services, lang),
        "place": location_name,
    }


def _when(booking: Booking) -> str:
    """Weekday, date and time as the citizen reads them ("Mittwoch, 16.12.2026, 09:00 Uhr")."""
    local = booking.start.astimezone(BERLIN)
    lang = booking.lang if booking.lang in DAY_NAMES else "de"
    return translate(lang, "%(weekday)s, %(date)s, %(time)s Uhr") % {
        "weekday": DAY_NAMES[lang][local.weekday()],
        "date": local.strftime("%d.%m.%Y"),
        "time": local.strftime("%H:%M"),
    }


def _video_lines(booking: Booking, settings: Settings) -> list[str]:
    """The join link of a video booking, when it opens and that it is the citizen's own."""
    lang = booking.lang
    url = video.join_url(booking, base_url=settings.base_url, secret=settings.secret_key)
    opens = video.join_window(booking, settings=settings).opens_at.astimezone(BERLIN)
    return [
        f"{translate(lang, 'Ihr persönlicher Zugangslink')}: {url}",
        translate(
            lang, "Der Link öffnet sich am %(day)s um %(time)s Uhr (%(n)d Minuten vor Beginn)."
        )
        % {
            "day": opens.strftime("%d.%m.%Y"),
            "time": opens.strftime("%H:%M"),
            "n": settings.video_early_join_minutes,
        },
        translate(lang, "Der Link gilt nur für Sie: Bitte geben Sie ihn nicht weiter."),
        translate(
            lang,
            "Sie brauchen einen Browser mit Kamera und Mikrofon, am Computer oder am Smartphone.",
        ),
        "",
    ]


_SUBJECTS = {
    ("in_person", "confirmation"): N_("Ihr Termin am %(when)s"),
    ("in_person", "reminder"): N_("Erinnerung: Ihr Termin morgen, %(when)s"),
    ("in_person", "cancellation"): N_("Ihr Termin am %(when)s wurde abgesagt"),
    ("video", "confirmation"): N_("Ihre Videoberatung am %(when)s"),
    ("video", "reminder"): N_("Erinnerung: Ihre Videoberatung morgen, %(when)s"),
    ("video", "cancellation"): N_("Ihre Videoberatung am %(when)s wurde abgesagt"),
}


def _where(location_name: str, address: str | None, lang: str) -> str:
    """The office with its address, or a plain word that the address is not known."""
    known = address or translate(lang, "Adresse unbekannt")
    return f"{location_name}, {known}" if address else f"{location_name} ({known})"


def _checklist(services: Sequence[Service], lang: str) -> list[str]:
    items: list[str] = []
    for svc in services:
        for doc in svc.data.get("documents", []):
            text = pick(doc["text"], lang)
            cond = pick(doc.get("condition"), lang)
            line = f"{text} ({cond})" if cond else text
            if line not in items:
                items.append(line)
    return items


def compose(
    booking: Booking,
    *,
    kind: str,
    services: Sequence[Service],
    location_name: str,
    settings: Settings,
    address: str | None = None,
) -> tuple[str, str]:
    """Subject and plain-text body in the booking's language."""
    lang = booking.lang

    def t(text: str) -> str:
        return translate(lang, text)

    links = booking_links(booking, settings.base_url)
    on_video = video.is_video(booking)
    subject = t(_SUBJECTS[video.VIDEO if on_video else "in_person", kind]) % {
        "when": _when(booking)
    }
    names = _names(services, lang)
    where = (
        f"{t('Wie')}: {t('Videoberatung im Browser – Sie müssen nicht ins Bürgeramt kommen.')}"
        if on_video
        else f"{t('Wo')}: {_where(location_name, address, lang)}"
    )
    lines = [
        t("Guten Tag %(name)s,") % {"name": booking.name or ""},
        "",
        f"{t('Leistung')}: {names}",
        f"{t('Wann')}: {_when(booking)}",
        where,
        f"{t('Buchungscode')}: {booking.code}",
        "",
    ]
    if kind != "cancellation":
        if on_video:
            lines += _video_lines(booking, settings)
        checklist = _checklist(services, lang)
        bring = t("Bitte halten Sie bereit:") if on_video else t("Bitte bringen Sie mit:")
        if checklist:
            lines += [bring, *[f"- {item}" for item in checklist], ""]
        lines += [
            f"{t('Termin ansehen, verschieben oder absagen')}: {links['page']}",
            f"{t('Kalenderdatei')}: {links['ics']}",
            "",
        ]
    lines.append(settings.site_name)
    return subject, "\n".join(lines)


def _mail_row(
    booking: Booking, *, kind: str, settings: Settings, send_after: dt.datetime
) -> dict[str, Any]:
    """One outbox row. Its text is written when it is sent (see `render`): that keeps booking
    requests short, and the text always matches the booking as it is then."""
    return {
        "booking_id": booking.id,
        "kind": kind,
        "recipient": booking.email,
        "subject": "",
        "body": "",
        "ics": None,
        "send_after": send_after,
        "attempts": 0,
        "meta": {"base_url": settings.base_url},
    }


def _insert_mails(session: Session, rows: list[dict[str, Any]]) -> None:
    # A core INSERT, one statement for all rows: no unit-of-work bookkeeping on the hot path.
    if rows:
        session.execute(insert(table(OutboxMail)), rows)


def queue_mail(
    session: Session,
    *,
    booking: Booking,
    kind: str,
    settings: Settings,
    send_after: dt.datetime | None = None,
) -> None:
    """Queue one mail about a stored booking (nothing if its address is already gone)."""
    if booking.email:
        row = _mail_row(booking, kind=kind, settings=settings, send_after=send_after or utcnow())
        _insert_mails(session, [row])


def queue_text_mail(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    send_after: dt.datetime | None = None,
) -> None:
    """Queue a finished mail of another domain (an application's status): the worker sends it
    as it is, and deletes it on the outbox's schedule like every other."""
    row: dict[str, Any] = {
        "booking_id": None,
        "kind": kind[:24],
        "recipient": recipient,
        "subject": subject[:300],
        "body": body,
        "ics": None,
        "send_after": send_after or utcnow(),
        "attempts": 0,
        "meta": {},
    }
    _insert_mails(session, [row])


def render(session: Session, *, mail: OutboxMail, settings: Settings) -> bool:
    """Write subject, text and calendar file from the booking; False if it is gone."""
    booking = mail.booking
    if booking is None:
        return False
    services = list(catalog_service.services_by_ids(session, ids=booking.service_ids).values())
    location = location_service.get_location(session, location_id=booking.location_id)
    local = settings.model_copy(update={"base_url": mail.meta.get("base_url", settings.base_url)})
    mail.subject, mail.body = compose(
        booking,
        kind=mail.kind,
        services=services,
        location_name=location.name,
        settings=local,
        address=present.address(location),
    )
    mail.ics = booking_ics(
        booking,
        services=services,
        location_name=location.name,
        address=present.address(location),
        base_url=local.base_url,
        site_name=settings.site_name,
        join_url=video.join_url(booking, base_url=local.base_url, secret=settings.secret_key),
    ).decode()
    return True


def reminder_time(booking: Booking) -> dt.datetime:
    """18:00 local on the day before; right away if that moment has already passed."""
    day_before = booking.start.astimezone(BERLIN).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day_before, dt.time(18, 0), BERLIN).astimezone(dt.UTC)


def booking_mail_rows(
    booking: Booking, *, settings: Settings, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Confirmation now, reminder at 18:00 the day before (if that is still ahead)."""
    if not booking.email:
        return []
    now = now or utcnow()
    plan = [("confirmation", now)]
    if reminder_time(booking) > now:
        plan.append(("reminder", reminder_time(booking)))
    return [_mail_row(booking, kind=k, settings=settings, send_after=at) for k, at in plan]


def queue_booking_mails(
    session: Session, *, booking: Booking, settings: Settings, now: dt.datetime | None = None
) -> None:
    """Queue a stored booking's confirmation and reminder (see `booking_mail_rows`)."""
    _insert_mails(session, booking_mail_rows(booking, settings=settings, now=now))


def drop_pending(session: Session, *, booking: Booking, kinds: Sequence[str]) -> None:
    """Unsent mails of a cancelled or moved booking must not go out."""
    session.execute(
        delete(OutboxMail).where(
            OutboxMail.booking_id == booking.id,
            OutboxMail.kind.in_(kinds),
            OutboxMail.sent_at.is_(None),
        )
    )


def _message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = mail.recipient
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain="servicepoint")
    msg.set_content(mail.body)
    if mail.ics:
        msg.add_attachment(
            mail.ics.encode(), maintype="text", subtype="calendar", filename="termin.ics"
        )
    return msg


def _smtp(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host
    client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    if settings.smtp_starttls:
        client.starttls(context=ssl.create_default_context())
    if settings.smtp_user and settings.smtp_password:
        client.login(settings.smtp_user, settings.smtp_password)
    return client


def due_mails(session: Session, *, now: dt.datetime, limit: int = 100) -> list[OutboxMail]:
    stmt = select(OutboxMail).where(
        OutboxMail.sent_at.is_(None),
        OutboxMail.send_after <= now,
        OutboxMail.attempts < MAX_ATTEMPTS,
    )
    return list(session.scalars(stmt.order_by(OutboxMail.send_after).limit(limit)))


def send_due(session: Session, *, settings: Settings, now: dt.datetime | None = None) -> int:
    """Send what is due; failures are counted and retried on the next run."""
    now = now or utcnow()
    mails = due_mails(session, now=now)
    if not mails or not settings.smtp_host:
        return 0
    sent = 0
    try:
        with _smtp(settings) as client:
            for mail in mails:
                if not mail.body and not render(session, mail=mail, settings=settings):
                    mail.attempts, mail.last_error = MAX_ATTEMPTS, "booking no longer exists"
                    continue
                sent += _send_one(client, mail, settings, now)
    except (OSError, smtplib.SMTPException) as exc:  # server away: everything unsent is retried
        log.warning("SMTP unavailable: %s", exc)
    return sent


def _send_one(client: smtplib.SMTP, mail: OutboxMail, settings: Settings, now: dt.datetime) -> int:
    mail.attempts += 1
    try:
        client.send_message(_message(mail, settings))
    except smtplib.SMTPRecipientsRefused as exc:
        mail.last_error = str(exc)[:500]
        return 0
    mail.sent_at = now
    return 1


def purge_sent(session: Session, *, before: dt.datetime) -> int:
    """Mails hold names and addresses too: delete them with the booking's personal data, sent
    ones and those that never could be (refused, or the server away all along) alike."""
    result = session.execute(
        delete(OutboxMail).where(
            or_(
                OutboxMail.sent_at < before,
                and_(OutboxMail.sent_at.is_(None), OutboxMail.send_after < before),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
