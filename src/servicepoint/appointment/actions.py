"""What the API and the pages share: a booking with its e-mails, live pushes, rate limits.

The rules live in `service.py`, `queue.py` and `mail.py`; this module wires them to a request
(its settings, base URL, rate limiter and broadcaster) so routes stay one call long.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import BackgroundTasks, Request
from sqlalchemy.orm import Session

from servicepoint.appointment import mail
from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import BookingCancelled, BookingRateLimited
from servicepoint.appointment.models import Booking
from servicepoint.appointment.schemas import BookingCreate, TicketRead, WaitingRead
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core import clock
from servicepoint.core.clock import today_local
from servicepoint.core.i18n import N_
from servicepoint.core.security import within_rate


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def links(booking: Booking, request: Request) -> dict[str, str]:
    return mail.booking_links(booking, base_url(request))


def join_url(booking: Booking, request: Request) -> str | None:
    """A video booking's join link, built on the same base as its other links."""
    secret = _settings(request).secret_key
    return appointment_service.join_url(booking, base_url=base_url(request), secret=secret)


def booking_view(booking: Booking, request: Request) -> dict[str, Any]:
    """The contract's booking keys; a video booking adds its channel and join link."""
    url = links(booking, request)
    view: dict[str, Any] = {
        "id": booking.id,
        "code": booking.code,
        "location_id": booking.location_id,
        "start": booking.start,
        "end": booking.end,
        "cancel_url": url["cancel"],
        "ics_url": url["ics"],
    }
    join = join_url(booking, request)
    if join:
        view.update(channel=booking.channel, join_url=join)
    return view


def _limited(request: Request, key: str, limit: int, window: int) -> None:
    if not within_rate(request, key, limit=limit, window=window):
        raise BookingRateLimited(
            N_("Zu viele Anfragen von Ihrem Anschluss. Bitte versuchen Sie es später noch einmal."),
            retry_after=window,
        )


def check_booking_rate(request: Request) -> None:
    _limited(request, "book", _settings(request).booking_rate_limit, 3600)


def check_ticket_rate(request: Request) -> None:
    _limited(request, "ticket", _settings(request).api_rate_limit, 60)


def _mail_settings(request: Request) -> Settings:
    """Links in e-mails point at the address the citizen used, unless BASE_URL is configured."""
    settings = _settings(request)
    if "base_url" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"base_url": base_url(request)})


def book(session: Session, request: Request, body: BookingCreate) -> Booking:
    settings = _mail_settings(request)
    return appointment_service.book(
        session,
        service_ids=body.service_ids,
        location_id=body.location_id,
        start=body.start,
        name=body.name,
        email=str(body.email),
        lang=body.lang,
        mails=lambda booking: mail.booking_mail_rows(booking, settings=settings),
        channel=body.channel,
    )


def cancel(session: Session, request: Request, code: str) -> Booking:
    booking = appointment_service.cancel(session, code=code)
    mail.drop_pending(session, booking=booking, kinds=("confirmation", "reminder"))
    mail.queue_mail(session, booking=booking, kind="cancellation", settings=_mail_settings(request))
    return booking


def reschedule(
    session: Session, request: Request, code: str, start: dt.datetime, location_id: str | None
) -> Booking:
    booking = appointment_service.reschedule(
        session, code=code, start=start, location_id=location_id
    )
    mail.drop_pending(session, booking=booking, kinds=("confirmation", "reminder"))
    mail.queue_booking_mails(session, booking=booking, settings=_mail_settings(request))
    return booking


RESEND_PER_BOOKING = 3  # a day: enough for a lost or deleted mail, too few to flood a mailbox
RESEND_PER_CLIENT = 10  # an hour, over all bookings


def resend_confirmation(session: Session, request: Request, code: str) -> Booking:
    """Queue the confirmation once more, to the address given when booking (never shown)."""
    _limited(request, "resend", RESEND_PER_CLIENT, 3600)
    booking = appointment_service.get_booking(session, code=code)
    if booking.status != "booked" or not booking.email or booking.start <= clock.utcnow():
        raise BookingCancelled(
            N_("Für diesen Termin kann keine Bestätigung mehr verschickt werden."),
            code="booking_closed",
        )
    # Per booking, also with bot protection off: it guards the citizen's mailbox.
    limiter = request.app.state.rate_limiter
    if not limiter.hit(f"resend:{booking.id}", limit=RESEND_PER_BOOKING, window=86400):
        raise BookingRateLimited(
            N_(
                "Die Bestätigung wurde heute schon mehrmals verschickt. Bitte sehen Sie auch "
                "im Spam-Ordner nach oder versuchen Sie es morgen noch einmal."
            ),
            retry_after=86400,
        )
    mail.drop_pending(session, booking=booking, kinds=("confirmation",))
    mail.queue_mail(session, booking=booking, kind="confirmation", settings=_mail_settings(request))
    return booking


def ics(session: Session, request: Request, code: str) -> bytes:
    booking = appointment_service.get_booking(session, code=code)
    loc = location_service.get_location(session, location_id=booking.location_id)
    services = list(catalog_service.services_by_ids(session, ids=booking.service_ids).values())
    settings = _settings(request)
    return mail.booking_ics(
        booking,
        services=services,
        location_name=loc.name,
        address=present.address(loc),
        base_url=base_url(request),
        site_name=settings.site_name,
        join_url=join_url(booking, request),
    )


# -- queue ------------------------------------------------------------------------------------
def ticket_read(session: Session, request: Request, token: str) -> TicketRead:
    status = queue_service.ticket_status(session, token=token)
    t = status.ticket
    return TicketRead(
        token=t.token,
        label=t.label,
        location_id=t.location_id,
        kind=t.kind,
        status=t.status,
        counter=t.counter,
        issued_at=t.issued_at,
        position=status.position,
        estimate_low_minutes=status.estimate.low_minutes if status.estimate else None,
        estimate_high_minutes=status.estimate.high_minutes if status.estimate else None,
        url=f"{base_url(request)}/wartenummer/{t.token}",
    )


def waiting_read(session: Session, location_id: str) -> WaitingRead:
    location_service.get_office(session, location_id=location_id)  # no queue at the video one
    estimate = queue_service.estimate_now(session, location_id=location_id)
    queue = queue_service.waiting_tickets(session, location_id=location_id, day=today_local())
    nxt = appointment_service.next_free_slot(session, location_id=location_id)
    return WaitingRead(
        location_id=location_id,
        open_now=estimate is not None,
        waiting=len(queue),
        estimate_low_minutes=estimate.low_minutes if estimate else None,
        estimate_high_minutes=estimate.high_minutes if estimate else None,
        next_free_slot=nxt.start if nxt else None,
    )


def display_state(session: Session, location_id: str) -> dict[str, Any]:
    """What a call display shows: the latest calls and the queue length."""
    called = queue_service.called_today(session, location_id=location_id)
    waiting = queue_service.waiting_tickets(session, location_id=location_id, day=today_local())
    return {
        "called": [
            {
                "label": t.label,
                "counter": t.counter,
                "status": t.status,
                "at": t.called_at.isoformat() if t.called_at else None,
            }
            for t in called
        ],
        "waiting": len(waiting),
    }


def notify_location(background: BackgroundTasks, request: Request, location_id: str) -> None:
    """After the commit, tell open displays and ticket pages of the location to refresh.

    Runs as a background task, i.e. after the response and so after the request's commit:
    listeners re-read the state themselves and never see a change that was rolled back.
    """
    broadcaster = request.app.state.broadcaster
    background.add_task(broadcaster.publish, f"location:{location_id}", "changed")
