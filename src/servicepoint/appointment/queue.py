"""Walk-in queue and counter console: tickets, fair calling, live state and wait estimates.

Fairness: every waiting ticket carries the time it was promised (`due_at`): an appointment its
start, a walk-in its issue time plus the upper end of the wait we showed. The next call goes
to the earliest promise, so appointments are served on time and walk-ins as estimated.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import InvalidBooking, QueueConflict, TicketNotFound
from servicepoint.appointment.models import Booking, Capacity, Ticket
from servicepoint.appointment.queueing import WaitEstimate, estimate_for_position, observed_mean
from servicepoint.appointment.slots import Schedule
from servicepoint.core import events
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.i18n import N_

WAITING = ("waiting",)
OPEN_STATES = ("waiting", "called")
DEFAULT_SERVICE_MINUTES = 12.0


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(BERLIN).date()


def walkin_counters(cap: Capacity) -> int:
    """Counters that serve walk-ins; at least one while any share is kept for them."""
    return max(
        1 if cap.walkin_share > 0 else 0,
        cap.counters - appointment_service.appointment_counters(cap),
    )


def is_open_now(session: Session, cap: Capacity, now: dt.datetime) -> bool:
    schedule: Schedule = appointment_service.schedule_for(session, cap, since=_today(now))
    local = now.astimezone(BERLIN)
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in schedule.spans(local.date()))


# -- estimates --------------------------------------------------------------------------------
def mean_service_minutes(session: Session, *, location_id: str, now: dt.datetime) -> float:
    """Observed service times of the last 30 days, shrunk toward a default for few samples."""
    since = now - dt.timedelta(days=30)
    samples = [
        float(e.data.get("minutes", 0))
        for e in events.events(session, kind="queue.served", location_id=location_id, since=since)
    ]
    return observed_mean(samples, prior_mean=DEFAULT_SERVICE_MINUTES)


def waiting_tickets(session: Session, *, location_id: str, day: dt.date) -> list[Ticket]:
    stmt = select(Ticket).where(
        Ticket.location_id == location_id, Ticket.day == day, Ticket.status == "waiting"
    )
    return list(session.scalars(stmt.order_by(Ticket.due_at, Ticket.id)))


def estimate_now(
    session: Session, *, location_id: str, now: dt.datetime | None = None
) -> WaitEstimate | None:
    """What someone who takes a number now should expect; None when walk-ins are not served."""
    now = now or utcnow()
    cap = session.get(Capacity, location_id)
    if cap is None or walkin_counters(cap) == 0 or not is_open_now(session, cap, now):
        return None
    queue = waiting_tickets(session, location_id=location_id, day=_today(now))
    return estimate_for_position(
        len(queue),
        walkin_counters(cap),
        mean_service_minutes(session, location_id=location_id, now=now),
    )


# -- tickets ----------------------------------------------------------------------------------
def _next_number(session: Session, location_id: str, day: dt.date) -> int:
    stmt = select(func.max(Ticket.number)).where(
        Ticket.location_id == location_id, Ticket.day == day
    )
    return int(session.scalar(stmt) or 0) + 1


def _insert_ticket(session: Session, **fields: object) -> Ticket:
    """Insert with the next free number; a concurrent kiosk taking it makes us retry."""
    location_id, day, prefix = fields["location_id"], fields["day"], fields.pop("prefix")
    assert isinstance(location_id, str) and isinstance(day, dt.date)
    for _ in range(10):
        number = _next_number(session, location_id, day)
        ticket = Ticket(
            number=number, label=f"{prefix}{number:03d}", token=secrets.token_urlsafe(16), **fields
        )
        try:
            with session.begin_nested():
                session.add(ticket)
            return ticket
        except IntegrityError:
            continue
    raise QueueConflict(N_("Die Wartenummer konnte nicht vergeben werden. Bitte erneut versuchen."))


def issue_ticket(
    session: Session,
    *,
    location_id: str,
    service_id: str | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """A walk-in takes a number; its promise is now plus the upper end of the estimate."""
    now = now or utcnow()
    cap = appointment_service.get_capacity(session, location_id=location_id)
    if walkin_counters(cap) == 0 or not is_open_now(session, cap, now):
        raise InvalidBooking(
            N_("Wartenummern gibt es nur während der Öffnungszeiten."), code="closed_now"
        )
    if service_id is not None:
        appointment_service.booking_facts(session, service_ids=[service_id])
    estimate = estimate_now(session, location_id=location_id, now=now)
    promise = now + dt.timedelta(minutes=estimate.high_minutes if estimate else 0)
    ticket = _insert_ticket(
        session,
        location_id=location_id,
        day=_today(now),
        prefix="W",
        kind="walkin",
        service_id=service_id,
        issued_at=now,
        due_at=promise,
        status="waiting",
    )
    events.record(
        session,
        kind="queue.ticket_issued",
        location_id=location_id,
        service_ids=[service_id] if service_id else (),
        at=now,
        estimate_low=estimate.low_minutes if estimate else 0,
        estimate_high=estimate.high_minutes if estimate else 0,
    )
    return ticket


def check_in(
    session: Session, *, code: str, location_id: str, now: dt.datetime | None = None
) -> Ticket:
    """An appointment citizen has arrived: they join the queue, due at their start time."""
    now = now or utcnow()
    booking = appointment_service.get_booking(session, code=code)
    if booking.channel == "video":  # its citizen knocks through the join link instead
        raise InvalidBooking(
            N_("Eine Videoberatung braucht keine Anmeldung vor Ort."), code="video_booking"
        )
    if booking.location_id != location_id:
        raise InvalidBooking(
            N_("Dieser Termin ist an einem anderen Standort."), code="other_location"
        )
    if booking.status == "arrived":  # checked in twice (kiosk, then counter): same ticket
        existing = session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
        if existing is not None:
            return existing
    if booking.status != "booked" or booking.start.astimezone(BERLIN).date() != _today(now):
        raise InvalidBooking(
            N_("Dieser Termin ist nicht heute oder nicht mehr gültig."), code="not_today"
        )
    booking.status = "arrived"
    ticket = _insert_ticket(
        session,
        location_id=location_id,
        day=_today(now),
        prefix="T",
        kind="appointment",
        booking_id=booking.id,
        service_id=booking.service_ids[0],
        issued_at=now,
        due_at=booking.start,
        status="waiting",
    )
    events.record(
        session,
        kind="queue.checked_in",
        location_id=location_id,
        service_ids=booking.service_ids,
        at=now,
        early_minutes=round((booking.start - now).total_seconds() / 60),
    )
    return ticket


def get_ticket(session: Session, *, token: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.token == token))
    if ticket is None:
        raise TicketNotFound(N_("Diese Wartenummer gibt es nicht."))
    return ticket


def _ticket_by_id(session: Session, ticket_id: int, location_id: str) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.location_id != location_id:
        raise TicketNotFound(N_("Diese Wartenummer gibt es nicht."))
    return ticket


@dataclass(frozen=True)
class TicketStatus:
    ticket: Ticket
    position: int | None  # people before this ticket; None once called
    estimate: WaitEstimate | None


def ticket_status(session: Session, *, token: str, now: dt.datetime | None = None) -> TicketStatus:
    now = now or utcnow()
    ticket = get_ticket(session, token=token)
    if ticket.status != "waiting":
        return TicketStatus(ticket, None, None)
    queue = waiting_tickets(session, location_id=ticket.location_id, day=ticket.day)
    position = next(i for i, t in enumerate(queue) if t.id == ticket.id)
    cap = session.get(Capacity, ticket.location_id)
    servers = walkin_counters(cap) if cap else 1
    mean = mean_service_minutes(session, location_id=ticket.location_id, now=now)
    return TicketStatus(ticket, position, estimate_for_position(position, max(servers, 1), mean))


# -- counter console --------------------------------------------------------------------------
def call_next(
    session: Session, *, location_id: str, counter: int, now: dt.datetime | None = None
) -> Ticket | None:
    """Call the ticket with the earliest promise; a clerk racing us makes us take the next."""
    now = now or utcnow()
    for candidate in waiting_tickets(session, location_id=location_id, day=_today(now)):
        result = session.execute(
            update(Ticket)
            .where(Ticket.id == candidate.id, Ticket.status == "waiting")
            .values(status="called", counter=counter, called_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            session.refresh(candidate)
            waited = (now - candidate.issued_at).total_seconds() / 60
            events.record(
                session,
                kind="queue.called",
                location_id=location_id,
                service_ids=[candidate.service_id] if candidate.service_id else (),
                at=now,
                ticket_kind=candidate.kind,
                wait_minutes=round(waited, 1),
            )
            return candidate
    return None


def _open_ticket(session: Session, ticket_id: int, location_id: str) -> Ticket:
    """A ticket of this location that is still waiting or called (not done or no-show)."""
    ticket = _ticket_by_id(session, ticket_id, location_id)
    if ticket.status not in OPEN_STATES:
        raise QueueConflict(N_("Diese Wartenummer ist bereits abgeschlossen."))
    return ticket


def recall(
    session: Session,
    *,
    location_id: str,
    ticket_id: int,
    counter: int,
    now: dt.datetime | None = None,
) -> Ticket:
    """Call again, or send the citizen to another counter (transfer)."""
    ticket = _open_ticket(session, ticket_id, location_id)
    ticket.status, ticket.counter, ticket.called_at = "called", counter, now or utcnow()
    return ticket


def finish(
    session: Session,
    *,
    location_id: str,
    ticket_id: int,
    outcome: str,
    now: dt.datetime | None = None,
) -> Ticket:
    """Close a called ticket as served (`done`) or `no_show`; served times feed the estimate."""
    now = now or utcnow()
    if outcome not in ("done", "no_show"):
        raise InvalidBooking(N_("Unbekanntes Ergebnis."), code="invalid_outcome")
    ticket = _open_ticket(session, ticket_id, location_id)
    ticket.status, ticket.done_at = outcome, now
    if ticket.booking_id:
        booking = session.get(Booking, ticket.booking_id)
        if booking is not None:
            booking.status = outcome
    minutes = (now - (ticket.called_at or now)).total_seconds() / 60
    kind = "queue.served" if outcome == "done" else "queue.no_show"
    events.record(
        session,
        kind=kind,
        location_id=location_id,
        service_ids=[ticket.service_id] if ticket.service_id else (),
        at=now,
        ticket_kind=ticket.kind,
        minutes=round(minutes, 1),
    )
    return ticket


def booking_no_show(
    session: Session, *, location_id: str, code: str, now: dt.datetime | None = None
) -> Booking:
    """An appointment nobody came to (no ticket was ever drawn)."""
    booking = appointment_service.get_booking(session, code=code)
    if booking.location_id != location_id or booking.status != "booked":
        raise QueueConflict(N_("Dieser Termin kann nicht als nicht erschienen markiert werden."))
    booking.status = "no_show"
    events.record(
        session,
        kind="appointment.no_show",
        location_id=location_id,
        service_ids=booking.service_ids,
        at=now or utcnow(),
    )
    return booking


def called_today(
    session: Session, *, location_id: str, now: dt.datetime | None = None, limit: int = 8
) -> list[Ticket]:
    stmt = select(Ticket).where(
        Ticket.location_id == location_id,
        Ticket.day == _today(now or utcnow()),
        Ticket.called_at.is_not(None),
    )
    return list(session.scalars(stmt.order_by(Ticket.called_at.desc()).limit(limit)))


def tickets_today(
    session: Session, *, location_id: str, now: dt.datetime | None = None
) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.location_id == location_id, Ticket.day == _today(now or utcnow())
    )
    return session.scalars(stmt.order_by(Ticket.id)).all()


def purge_tickets(session: Session, *, retention_days: int, now: dt.datetime) -> int:
    """Delete waiting numbers `retention_days` after their day; a number only serves its day,
    and its times and booking link would otherwise tell who came when."""
    cutoff = _today(now) - dt.timedelta(days=retention_days)
    result = session.execute(delete(Ticket).where(Ticket.day < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
