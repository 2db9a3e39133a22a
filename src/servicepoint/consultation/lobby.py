"""The video waiting room: who waits now (appointment order), who is in a call, today's video
appointments, and a citizen's own place with an honest estimate (consultation.waiting).

An entry waits only while its page is open: its tab's last sign of life (`seen_at`) must be
younger than `video_presence_seconds`. A call counts while it is going on (timing.call_until),
so a call nobody ended neither blocks its clerk's place in the lists nor anyone's estimate.
The bookings are read through the appointment service (never its tables) and joined here.
Reads only; importable from consultation.service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.consultation import timing, waiting
from servicepoint.consultation.errors import BookingCancelled
from servicepoint.consultation.models import Consultation
from servicepoint.consultation.schemas import CallEntry, Place, TodayEntry, WaitingEntry
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.i18n import N_

DEFAULTS = Settings.model_construct()  # the configured defaults, when a caller has no settings
PRESENCE_SECONDS: int = Settings.model_fields["video_presence_seconds"].default
NOWHERE = Place(position=None, estimate_minutes=None, late=False)
CANCELLED = N_("Dieser Termin wurde abgesagt. Der Link gilt nicht mehr.")

Pair = tuple[Consultation, Booking]


def present_since(settings: Settings | None, now: dt.datetime) -> dt.datetime:
    """The oldest sign of life that still counts as an open page."""
    seconds = settings.video_presence_seconds if settings else PRESENCE_SECONDS
    return now - dt.timedelta(seconds=seconds)


def _pairs(session: Session, *where: ColumnElement[bool]) -> list[Pair]:
    """Consultations (as the database holds them now) beside their bookings, in appointment
    order; only the booking's current call, of a booking not cancelled."""
    stmt = select(Consultation).where(*where).execution_options(populate_existing=True)
    rows = list(session.scalars(stmt))
    found = appointment_service.bookings_by_ids(session, ids=[c.booking_id for c in rows])
    pairs = [
        (c, b)
        for c in rows
        if (b := found.get(c.booking_id)) is not None
        and b.status == "booked"
        and timing.is_current(c, b)
    ]
    return sorted(pairs, key=lambda pair: (pair[1].start, pair[1].id))


def _waiting(session: Session, settings: Settings | None, now: dt.datetime) -> list[Pair]:
    present = Consultation.seen_at >= present_since(settings, now)
    return _pairs(session, Consultation.state == "waiting", present)


def _calls(session: Session, settings: Settings | None, now: dt.datetime) -> list[Pair]:
    rules = settings or DEFAULTS
    return [
        (c, b)
        for c, b in _pairs(session, Consultation.state == "admitted")
        if now < timing.call_until(b, c.admitted_at, rules)
    ]


def _minutes(booking: Booking) -> int:
    return max(1, round((booking.end - booking.start).total_seconds() / 60))


def _names(session: Session, bookings: Sequence[Booking], lang: str) -> dict[str, str]:
    ids = sorted({sid for b in bookings for sid in b.service_ids})
    found = catalog_service.services_by_ids(session, ids=ids)
    return {sid: (s.name_en if lang == "en" else s.name_de) for sid, s in found.items()}


def _services(names: dict[str, str], booking: Booking) -> list[str]:
    return [names.get(sid, sid) for sid in booking.service_ids]


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
            services=_services(names, b),
        )
        for c, b in rows
    ]


def in_call(
    session: Session,
    *,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
    lang: str = "de",
) -> list[CallEntry]:
    """The calls going on now (admitted, not ended, not forgotten past their time)."""
    now = now or utcnow()
    rows = _calls(session, settings, now)
    names = _names(session, [b for _, b in rows], lang)
    return [
        CallEntry(
            code=b.code,
            name=b.name or "",
            start=b.start,
            admitted_at=c.admitted_at or now,
            clerk_id=c.clerk_id,
            seconds=max(0, int((now - (c.admitted_at or now)).total_seconds())),
            services=_services(names, b),
        )
        for c, b in rows
    ]


def today(
    session: Session, *, now: dt.datetime | None = None, lang: str = "de"
) -> list[TodayEntry]:
    """Today's video appointments (Berlin day), cancelled ones left out, with the call's state
    (`booked` while the link was not opened for this time)."""
    now = now or utcnow()
    bookings = appointment_service.video_bookings_on(session, day=now.astimezone(BERLIN).date())
    ids = [b.id for b in bookings]
    calls = {
        c.booking_id: c
        for c in session.scalars(select(Consultation).where(Consultation.booking_id.in_(ids)))
    }
    names = _names(session, bookings, lang)

    def state(booking: Booking) -> str:
        call = calls.get(booking.id)
        return call.state if call is not None and timing.is_current(call, booking) else "booked"

    return [
        TodayEntry(
            code=b.code,
            start=b.start,
            name=b.name or "",
            state=state(b),
            services=_services(names, b),
        )
        for b in bookings
    ]


def place(
    session: Session,
    *,
    consultation_id: int,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Place:
    """The citizen's own position among those waiting now and the estimated wait; nothing
    about anybody else. Not waiting (not yet knocked, admitted, ended): no place. A cancelled
    booking: 410 `cancelled` (the signalling closes the citizen's page with it)."""
    now = now or utcnow()
    consultation = session.get(Consultation, consultation_id, populate_existing=True)
    if consultation is None:
        return NOWHERE
    own = appointment_service.bookings_by_ids(session, ids=[consultation.booking_id]).get(
        consultation.booking_id
    )
    if own is not None and own.status == "cancelled":
        raise BookingCancelled(CANCELLED)
    if own is None or consultation.state != "waiting" or not timing.is_current(consultation, own):
        return NOWHERE
    ahead = [
        b
        for c, b in _waiting(session, settings, now)
        if c.id != consultation_id
        and b.location_id == own.location_id
        and (b.start, b.id) < (own.start, own.id)
    ]
    running = [
        (c, b) for c, b in _calls(session, settings, now) if b.location_id == own.location_id
    ]
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
