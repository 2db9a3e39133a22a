"""Appointments: slot search, booking, cancelling and rescheduling.

A slot's capacity is enforced by the database (see `storage`); the hours come from the
office's one source of opening hours (see `capacity`), so no slot lies outside them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from servicepoint.appointment import capacity, facts, reads, storage, video
from servicepoint.appointment.errors import (
    BookingCancelled,
    BookingNotFound,
    InvalidBooking,
)
from servicepoint.appointment.models import Booking, Capacity, SlotUsage
from servicepoint.appointment.slots import (
    Schedule,
    Slot,
    SlotProblem,
    check_start,
    day_slots,
    epoch,
    free_slots,
)
from servicepoint.catalog import service as catalog_service
from servicepoint.core import events
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.i18n import N_

# Capacity and office hours have a module of their own; their staff functions keep these names.
CapacityChange = capacity.CapacityChange
update_capacity = capacity.update_capacity
seed_capacity = capacity.seed_capacity
closures = capacity.closures
add_closure = capacity.add_closure
remove_closure = capacity.remove_closure
all_capacities = capacity.all_capacities
appointment_counters = capacity.appointment_counters
get_capacity = capacity.get_capacity
schedule_for = capacity.schedule_for
BookingFacts = facts.BookingFacts
bookable_services = facts.bookable_services
booking_facts = facts.booking_facts
duration_of = facts.duration_of
offers = facts.offers
CHANNELS = facts.CHANNELS
video_capacity = capacity.video_capacity
video_location = capacity.video_location
channel_at = capacity.channel_at
# The join link of a video booking and when it opens (see `video`); other domains ask here.
join_url = video.join_url
join_path = video.join_path
join_window = video.join_window
JoinWindow = video.JoinWindow

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 12  # 60 bits: the code is the only key to a booking


def new_code() -> str:
    # One read from the OS's random source: 256 is a multiple of 32, so `byte % 32` is uniform.
    return "".join(CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(CODE_LENGTH))


def normalise_code(code: str) -> str:
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# -- slot search ------------------------------------------------------------------------------


def _usage(
    session: Session, *, location_ids: Sequence[str], start: dt.datetime, end: dt.datetime
) -> dict[str, dict[int, int]]:
    stmt = select(SlotUsage.location_id, SlotUsage.start, SlotUsage.used).where(
        SlotUsage.location_id.in_(location_ids),
        SlotUsage.start >= start,
        SlotUsage.start < end,
        SlotUsage.used > 0,
    )
    usage: dict[str, dict[int, int]] = defaultdict(dict)
    for loc_id, cell, used in session.execute(stmt):
        usage[loc_id][epoch(cell)] = used
    return usage


# By start; the sort is stable and the runs come in location order, so equal starts stay
# ordered by location (a key of datetimes alone compares much faster than tuples).
_slot_order = itemgetter(0)


def _window(cap: Capacity, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now + dt.timedelta(minutes=cap.lead_minutes), now + dt.timedelta(days=cap.horizon_days)


def find_slots(
    session: Session,
    *,
    service_ids: Sequence[str],
    location_id: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    channel: str = "in_person",
) -> list[Slot]:
    """Free slots for the chosen services across locations, earliest first: at the offices
    (`in_person`) or in the video consultations (`video`)."""
    now = now or utcnow()
    today = now.astimezone(BERLIN).date()
    first = max(date_from or today, today)
    services, caps, closed, offices = reads.reads(
        session, service_ids, location_id, since=first, channel=channel
    )
    duration = duration_of(services)
    caps = [
        c for c in caps if facts.channel_of(c) == channel and all(offers(c, s) for s in services)
    ]
    if not caps:
        return []
    last_possible = max(_window(c, now)[1] for c in caps).astimezone(BERLIN).date()
    last = min(date_to or first + dt.timedelta(days=13), last_possible)
    usage = _usage(
        session,
        location_ids=[c.location_id for c in caps],
        start=dt.datetime.combine(first, dt.time(), BERLIN),
        end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), BERLIN),
    )
    runs = [
        _Run(
            cap,
            *_window(cap, now),
            schedule_for(
                session,
                cap,
                since=first,
                closed=closed.get(cap.location_id),
                office=offices.get(cap.location_id),
            ),
        )
        for cap in caps
    ]
    if limit:
        return _earliest(runs, first, last, duration, usage, limit)
    found: list[Slot] = []
    for run in runs:
        found.extend(
            free_slots(
                run.schedule,
                date_from=first,
                date_to=min(last, run.latest.astimezone(BERLIN).date()),
                duration=duration,
                usage=usage.get(run.cap.location_id, {}),
                not_before=run.not_before,
                location_id=run.cap.location_id,
            )
        )
    # Concatenated runs already in time order: timsort merges them in linear time.
    found.sort(key=_slot_order)
    return found


@dataclass(frozen=True)
class _Run:
    """One location's part of a slot search."""

    cap: Capacity
    not_before: dt.datetime
    latest: dt.datetime
    schedule: Schedule


def _earliest(
    runs: Sequence[_Run],
    first: dt.date,
    last: dt.date,
    duration: int,
    usage: Mapping[str, Mapping[int, int]],
    limit: int,
) -> list[Slot]:
    """The first `limit` slots, day by day across locations: "the next free appointment"
    should not build two months of slots to keep one."""
    found: list[Slot] = []
    day = first
    while day <= last and len(found) < limit:
        today: list[Slot] = []
        for run in runs:
            if day <= run.latest.astimezone(BERLIN).date():
                today += day_slots(
                    run.schedule,
                    day,
                    duration=duration,
                    usage=usage.get(run.cap.location_id, {}),
                    not_before=run.not_before,
                    location_id=run.cap.location_id,
                )
        today.sort(key=_slot_order)
        found += today
        day += dt.timedelta(days=1)
    return found[:limit]


def next_free_slot(
    session: Session, *, location_id: str, now: dt.datetime | None = None
) -> Slot | None:
    """The earliest bookable slot of a location for its shortest bookable service."""
    cap = session.get(Capacity, location_id)
    if cap is None:
        return None
    services = [s for s in catalog_service.list_services(session) if offers(cap, s)]
    if not services:
        return None
    shortest = min(services, key=lambda s: int(s.data.get("appointment_minutes") or 15))
    slots = find_slots(
        session,
        service_ids=[shortest.id],
        location_id=location_id,
        now=now,
        date_to=(now or utcnow()).date() + dt.timedelta(days=cap.horizon_days),
        limit=1,
        channel=facts.channel_of(cap),
    )
    return slots[0] if slots else None


def _bookable_at(
    session: Session,
    service_ids: Sequence[str],
    location_id: str,
    now: dt.datetime,
    channel: str,
) -> tuple[list[BookingFacts], Capacity, Schedule]:
    """The services, the location's capacity and its schedule, from one read; 4xx if the
    location is of another channel or does not offer every service."""
    today = now.astimezone(BERLIN).date()
    _share_capacity(session, location_id)
    services, (cap,), closed, offices = reads.reads(
        session, service_ids, location_id, since=today, channel=channel
    )
    facts.check_channel(cap, channel)
    facts.check_offered(cap, services)
    schedule = schedule_for(
        session,
        cap,
        since=today,
        closed=closed.get(location_id, frozenset()),
        office=offices.get(location_id),
    )
    return services, cap, schedule


def _share_capacity(session: Session, location_id: str) -> None:
    """Hold the capacity row shared (PostgreSQL) until the booking commits: a publication of
    new dated hours (capacity.set_dated_hours, FOR UPDATE) waits for it and then keeps the
    booked day, or the booking waits and checks the new schedule. Bookings do not wait for
    each other. SQLite has no row locks; its single writer serialises both already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    stmt = select(Capacity.location_id).where(Capacity.location_id == location_id)
    session.execute(stmt.with_for_update(read=True))


def _checked_cells(
    cap: Capacity, schedule: Schedule, start: dt.datetime, duration: int, now: dt.datetime
) -> tuple[dt.datetime, ...]:
    not_before, latest = _window(cap, now)
    try:
        return check_start(schedule, start, duration=duration, not_before=not_before, latest=latest)
    except SlotProblem as exc:
        raise InvalidBooking(str(exc), code=exc.code) from exc


# -- bookings ---------------------------------------------------------------------------------
def book(
    session: Session,
    *,
    service_ids: Sequence[str],
    location_id: str,
    start: dt.datetime,
    name: str,
    email: str,
    lang: str = "de",
    now: dt.datetime | None = None,
    mails: Callable[[Booking], list[dict[str, Any]]] | None = None,
    channel: str = "in_person",
) -> Booking:
    """Validate, claim the cells and store the booking with its e-mails (the outbox rows that
    `mails` plans for it, before it has an id) and its events; the caller's transaction
    commits. A video booking (`channel="video"`) goes to the video consultations only."""
    now = now or utcnow()
    services, cap, schedule = _bookable_at(session, service_ids, location_id, now, channel)
    duration = duration_of(services)
    cells = _checked_cells(cap, schedule, start, duration, now)
    storage.claim(session, location_id=location_id, cells=cells, capacity=appointment_counters(cap))
    # From the claim on, this transaction may hold the write lock (SQLite): only plain
    # INSERTs follow, without unit-of-work bookkeeping.
    values = {
        "code": new_code(),
        "location_id": location_id,
        "start": cells[0],
        "end": cells[0] + dt.timedelta(minutes=duration),
        "service_ids": [s.id for s in services],
        "name": name.strip(),
        "email": email.strip(),
        "lang": lang,
        "status": "booked",
        "channel": channel,
        "sequence": 0,
        "created_at": now,
    }
    booking = Booking(cancelled_at=None, purged_at=None, **values)
    booked = _booked_events(booking, minutes=duration, now=now)
    booking.id = storage.store_booking(session, values, mails(booking) if mails else [], booked)
    make_transient_to_detached(booking)  # the row as stored: tracked like a loaded one
    session.add(booking)
    return booking


def _booked_events(booking: Booking, *, minutes: int, now: dt.datetime) -> list[dict[str, Any]]:
    """`appointment.booked` for every booking, so the booking figures stay whole (the video
    location's id tells video bookings apart); a video booking also opens the consultation
    events (`consultation.booked`, then knocked, admitted, ended) that its domain counts."""
    kinds = ["appointment.booked"] + (["consultation.booked"] if video.is_video(booking) else [])
    return [
        row
        for kind in kinds
        for row in events.rows(
            kind=kind,
            location_id=booking.location_id,
            service_ids=booking.service_ids,
            at=now,
            minutes=minutes,
            lead_days=(booking.start - now).days,
        )
    ]


def get_booking(session: Session, *, code: str) -> Booking:
    booking = session.scalar(select(Booking).where(Booking.code == normalise_code(code)))
    if booking is None:
        raise BookingNotFound(N_("Zu diesem Code gibt es keinen Termin."))
    return booking


def _active(session: Session, code: str) -> Booking:
    booking = get_booking(session, code=code)
    # Take the booking's row (PostgreSQL) or the write lock (SQLite) before its places change,
    # then read it again: a concurrent cancel or move of the same booking has either committed
    # (and we see it) or waits for us, so no place is ever released twice.
    session.execute(
        update(Booking)
        .where(Booking.id == booking.id)
        .values(status=Booking.status)
        .execution_options(synchronize_session=False)
    )
    session.refresh(booking)
    if booking.status == "cancelled":
        raise BookingCancelled(N_("Dieser Termin wurde bereits abgesagt."))
    if booking.status != "booked":
        raise BookingCancelled(
            N_("Dieser Termin ist schon vorbei und kann nicht mehr geändert werden."),
            code="booking_closed",
        )
    return booking


def cancel(session: Session, *, code: str, now: dt.datetime | None = None) -> Booking:
    """Cancel and free the cells at once."""
    now = now or utcnow()
    booking = _active(session, code)
    cap = get_capacity(session, location_id=booking.location_id)
    storage.release(
        session, location_id=booking.location_id, cells=storage.cells_of(booking, cap.grid_minutes)
    )
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.sequence += 1  # calendar clients cancel the event they hold
    events.record(
        session,
        kind="appointment.cancelled",
        location_id=booking.location_id,
        service_ids=booking.service_ids,
        at=now,
    )
    return booking


def reschedule(
    session: Session,
    *,
    code: str,
    start: dt.datetime,
    location_id: str | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Move a booking in one transaction: if the new cells cannot be claimed, nothing changes.
    It keeps its channel: a video booking moves to video slots only."""
    now = now or utcnow()
    booking = _active(session, code)
    target = location_id or booking.location_id
    services, new_cap, schedule = _bookable_at(
        session, booking.service_ids, target, now, booking.channel
    )
    duration = duration_of(services)
    old_cap = get_capacity(session, location_id=booking.location_id)
    old_cells = storage.cells_of(booking, old_cap.grid_minutes)
    cells = _checked_cells(new_cap, schedule, start, duration, now)
    storage.move_places(
        session,
        old=(booking.location_id, old_cells),
        new=(target, cells),
        capacity=appointment_counters(new_cap),
    )
    booking.location_id, booking.start = target, cells[0]
    booking.end = cells[0] + dt.timedelta(minutes=duration)
    booking.sequence += 1  # calendar clients move the event they hold, not add a second
    events.record(
        session,
        kind="appointment.rescheduled",
        location_id=target,
        service_ids=booking.service_ids,
        at=now,
    )
    return booking


def _day(day: dt.date) -> tuple[ColumnElement[bool], ...]:
    start = dt.datetime.combine(day, dt.time(), BERLIN)
    return Booking.start >= start, Booking.start < start + dt.timedelta(days=1)


def bookings_on(session: Session, *, location_id: str, day: dt.date) -> list[Booking]:
    stmt = select(Booking).where(
        Booking.location_id == location_id, *_day(day), Booking.status != "cancelled"
    )
    return list(session.scalars(stmt.order_by(Booking.start)))


def video_bookings_on(session: Session, *, day: dt.date) -> list[Booking]:
    """The video bookings of a (Berlin) day, cancelled ones left out, in time order."""
    stmt = select(Booking).where(
        Booking.channel == video.VIDEO, *_day(day), Booking.status != "cancelled"
    )
    return list(session.scalars(stmt.order_by(Booking.start, Booking.id)))


def bookings_by_ids(session: Session, *, ids: Iterable[int]) -> dict[int, Booking]:
    """The bookings of `ids` (those that exist), as the database holds them now."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(Booking).where(Booking.id.in_(wanted))
    found = session.scalars(stmt.execution_options(populate_existing=True))
    return {booking.id: booking for booking in found}


def purge_personal_data(
    session: Session, *, retention_days: int, now: dt.datetime | None = None
) -> int:
    """Remove names and e-mail addresses `retention_days` after the appointment."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    stmt = select(Booking).where(Booking.end < cutoff, Booking.purged_at.is_(None))
    purged = 0
    for booking in session.scalars(stmt):
        booking.name = None
        booking.email = None
        booking.purged_at = now or utcnow()
        purged += 1
    return purged
