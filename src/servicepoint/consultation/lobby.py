"""The video waiting room: who waits now (appointment order), who is in a call, today's video
appointments, and a citizen's own place with an honest estimate (consultation.waiting).

An entry waits only while its page is open: its tab's last sign of life (`seen_at`) must be
younger than `video_presence_seconds`. Reads only; importable from consultation.service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.consultation import waiting
from servicepoint.consultation.models import Consultation
from servicepoint.consultation.schemas import CallEntry, Place, TodayEntry, WaitingEntry
from servicepoint.core.clock import BERLIN, utcnow

PRESENCE_SECONDS: int = Settings.model_fields["video_presence_seconds"].default
NOWHERE = Place(position=None, estimate_minutes=None, late=False)

Pair = tuple[Consultation, Booking]


def present_since(settings: Settings | None, now: dt.datetime) -> dt.datetime:
    """The oldest sign of life that still counts as an open page."""
    seconds = settings.video_presence_seconds if settings else PRESENCE_SECONDS
    return now - dt.timedelta(seconds=seconds)


def _pairs(*where: ColumnElement[bool]) -> Select[Consultation, Booking]:
    # The booking is read beside its consultation (time, services, name): one query per list.
    return (
        select(Consultation, Booking)
        .join(Booking, Booking.id == Consultation.booking_id)
        .where(*where)
        .order_by(Booking.start, Booking.id)
        .execution_options(populate_existing=True)  # what the database holds now
    )


def _waiting(session: Session, settings: Settings | None, now: dt.datetime) -> list[Pair]:
    present = Consultation.seen_at >= present_since(settings, now)
    # A booking cancelled while its citizen waits leaves the room with the cancellation.
    booked = Booking.status == "booked"
    rows = session.execute(_pairs(Consultation.state == "waiting", present, booked))
    return [(c, b) for c, b in rows]


def _calls(session: Session) -> list[Pair]:
    return [(c, b) for c, b in session.execute(_pairs(Consultation.state == "admitted"))]


def _minutes(booking: Booking) -> int:
    return max(1, round((booking.end - booking.start).total_seconds() / 60))


def _names(session: Session, bookings: Sequence[Booking], lang: str) -> dict[str, str]:
    ids = sorted({sid for b in bookings for sid in b.service_ids})
    found = catalog_service.services_by_ids(session, ids=ids)
    return {sid: (s.name_en if lang == "en" else s.name_de) for sid, s in found.items()}


def waiting_room(
    session: Session, *, settings: Settings, now: dt.datetime | None = None, lang: str = "de"
) -> list[WaitingEntry]:
    """Everyone waiting now with their page open, in appointment order (staff only: names)."""
    now = now or utcnow()
    rows = _waiting(session, settings, now)
    names = _names(session, [b for _, b in rows], lang)
    return [
        WaitingEntry(
            code=b.code,
            name=b.name or "",
            start=b.start,
            waited_seconds=max(0, int((now - (c.knocked_at or now)).total_seconds())),
            services=[names.get(sid, sid) for sid in b.service_ids],
        )
        for c, b in rows
    ]


def in_call(session: Session, *, now: dt.datetime | None = None) -> list[CallEntry]:
    """The calls going on now (admitted, not ended)."""
    now = now or utcnow()
    return [
        CallEntry(
            code=b.code,
            name=b.name or "",
            start=b.start,
            admitted_at=c.admitted_at or now,
            clerk_id=c.clerk_id,
            seconds=max(0, int((now - (c.admitted_at or now)).total_seconds())),
        )
        for c, b in _calls(session)
    ]


def today(session: Session, *, now: dt.datetime | None = None) -> list[TodayEntry]:
    """Today's video appointments (Berlin day), cancelled ones left out, with the call's state."""
    now = now or utcnow()
    day = dt.datetime.combine(now.astimezone(BERLIN).date(), dt.time(), BERLIN)
    stmt = (
        select(Booking.code, Booking.start, Booking.name, Consultation.state)
        .outerjoin(Consultation, Consultation.booking_id == Booking.id)
        .where(
            Booking.channel == "video",
            Booking.status != "cancelled",
            Booking.start >= day,
            Booking.start < day + dt.timedelta(days=1),
        )
        .order_by(Booking.start, Booking.id)
    )
    return [
        TodayEntry(code=code, start=start, name=name or "", state=state or "booked")
        for code, start, name, state in session.execute(stmt)
    ]


def place(
    session: Session,
    *,
    consultation_id: int,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Place:
    """The citizen's own position among those waiting now and the estimated wait; nothing
    about anybody else. Not waiting (not yet knocked, admitted, ended): no place."""
    now = now or utcnow()
    row = session.execute(_pairs(Consultation.id == consultation_id)).first()
    if row is None or row[0].state != "waiting":
        return NOWHERE
    own = row[1]
    ahead = [
        b
        for c, b in _waiting(session, settings, now)
        if c.id != consultation_id
        and b.location_id == own.location_id
        and (b.start, b.id) < (own.start, own.id)
    ]
    running = [(c, b) for c, b in _calls(session) if b.location_id == own.location_id]
    found = waiting.estimate(
        own_start=own.start,
        ahead=[waiting.Ahead(b.start, _minutes(b)) for b in ahead],
        running=[waiting.Running(c.admitted_at or now, _minutes(b)) for c, b in running],
        clerks=_clerks(session, own.location_id),
        now=now,
    )
    return Place(position=len(ahead) + 1, estimate_minutes=found.minutes, late=found.late)


def _clerks(session: Session, location_id: str) -> int:
    """The video capacity's counters: how many clerks take video calls at once."""
    cap = appointment_service.get_capacity(session, location_id=location_id)
    return appointment_service.appointment_counters(cap)
