"""Appointments: capacity, slot search, booking, cancelling and rescheduling.

A slot's capacity is enforced by the database: each grid cell is a `slot_usage` row, and a
booking claims its cells with conditional updates (`used < capacity`) inside the request's
transaction, in ascending order. A lost race updates no row and becomes 409 `slot_taken`.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, Table, and_, bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from servicepoint.appointment.errors import (
    BookingCancelled,
    BookingNotFound,
    InvalidBooking,
    SlotTaken,
)
from servicepoint.appointment.models import Booking, Capacity, Closure, OutboxMail, SlotUsage
from servicepoint.appointment.slots import (
    Schedule,
    Slot,
    SlotProblem,
    check_start,
    day_slots,
    epoch,
    free_slots,
)
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.hours import HoursError, parse_hours
from servicepoint.catalog.models import Service
from servicepoint.core import events
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.db import table
from servicepoint.core.i18n import N_

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 12  # 60 bits: the code is the only key to a booking
MAX_SERVICES = 5
DEFAULT_MINUTES = 15  # a service whose record names no appointment length


def new_code() -> str:
    # One read from the OS's random source: 256 is a multiple of 32, so `byte % 32` is uniform.
    return "".join(CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(CODE_LENGTH))


def normalise_code(code: str) -> str:
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# -- capacity ---------------------------------------------------------------------------------
def load_capacity_defaults(folder: Path) -> dict[str, Any]:
    path = folder / "capacity.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data or {}


def seed_capacity(session: Session, *, folder: Path) -> int:
    """Give every location a capacity row from the city's defaults; existing rows stay."""
    config = load_capacity_defaults(folder)
    defaults: dict[str, Any] = config.get("defaults") or {}
    overrides: dict[str, dict[str, Any]] = config.get("locations") or {}
    created = 0
    for loc in location_service.list_locations(session):
        if session.get(Capacity, loc.id) is not None:
            continue
        values = {**defaults, **overrides.get(loc.id, {})}
        session.add(_capacity_row(loc.id, values))
        created += 1
    session.flush()
    return created


def _capacity_row(location_id: str, values: dict[str, Any]) -> Capacity:
    return Capacity(
        location_id=location_id,
        hours=parse_hours(values.get("hours") or "Mo-Fr 08:00-12:00"),
        hours_source=str(values.get("hours_source") or "configuration"),
        counters=int(values.get("counters", 3)),
        walkin_share=float(values.get("walkin_share", 0.3)),
        grid_minutes=int(values.get("grid_minutes", 10)),
        lead_minutes=int(values.get("lead_minutes", 60)),
        horizon_days=int(values.get("horizon_days", 60)),
        service_ids=values.get("service_ids"),
    )


def appointment_counters(cap: Capacity) -> int:
    """Counters left for appointments once the walk-in share is set aside."""
    return max(0, round(cap.counters * (1 - cap.walkin_share)))


def get_capacity(session: Session, *, location_id: str) -> Capacity:
    cap = session.get(Capacity, location_id)
    if cap is None:
        location_service.get_location(session, location_id=location_id)  # 404 if unknown

        raise InvalidBooking(
            N_("An diesem Standort werden keine Termine vergeben."), code="no_appointments_here"
        )
    return cap


def all_capacities(session: Session) -> list[Capacity]:
    return list(session.scalars(select(Capacity).order_by(Capacity.location_id)))


def closures(session: Session, *, location_id: str, since: dt.date) -> list[Closure]:
    stmt = select(Closure).where(Closure.location_id == location_id, Closure.day >= since)
    return list(session.scalars(stmt.order_by(Closure.day)))


def closed_days(
    session: Session, *, location_ids: Sequence[str], since: dt.date
) -> dict[str, frozenset[dt.date]]:
    """Ad-hoc closures of several locations in one query."""
    stmt = select(Closure.location_id, Closure.day).where(
        Closure.location_id.in_(location_ids), Closure.day >= since
    )
    days: dict[str, set[dt.date]] = defaultdict(set)
    for loc_id, day in session.execute(stmt):
        days[loc_id].add(day)
    return {loc_id: frozenset(days.get(loc_id, ())) for loc_id in location_ids}


def schedule_for(
    session: Session, cap: Capacity, *, since: dt.date, closed: frozenset[dt.date] | None = None
) -> Schedule:
    if closed is None:
        closed = closed_days(session, location_ids=[cap.location_id], since=since)[cap.location_id]
    return Schedule.from_hours(
        cap.hours, grid=cap.grid_minutes, capacity=appointment_counters(cap), closed=closed
    )


MINUTES_KEY = "appointment_minutes"
_FACT_COLUMNS = (Service.id, Service.name_de, Service.channels, Service.data[MINUTES_KEY])


def _minutes(value: object) -> int:
    return int(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MINUTES


@dataclass(frozen=True)
class BookingFacts:
    """What the booking rules need of a service, without its (large) catalog record."""

    id: str
    name_de: str
    channels: tuple[str, ...]
    minutes: int

    @classmethod
    def of(cls, svc: Service) -> BookingFacts:
        return cls(svc.id, svc.name_de, tuple(svc.channels), _minutes(svc.data.get(MINUTES_KEY)))


def offers(cap: Capacity, service: Service | BookingFacts) -> bool:
    return "appointment" in service.channels and (
        cap.service_ids is None or service.id in cap.service_ids
    )


# -- services and duration --------------------------------------------------------------------
_Chosen = TypeVar("_Chosen", Service, BookingFacts)


def _chosen_ids(service_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        raise InvalidBooking(N_("Bitte wählen Sie mindestens eine Leistung."), code="no_service")
    if len(ids) > MAX_SERVICES:
        raise InvalidBooking(N_("Höchstens fünf Leistungen pro Termin."), code="too_many_services")
    return ids


def _all_bookable(ids: Sequence[str], found: Mapping[str, _Chosen]) -> list[_Chosen]:
    """Each chosen service, in the order chosen; unknown or non-bookable ones are a clear 422."""
    for sid in ids:
        if sid not in found:
            raise InvalidBooking(N_("Unbekannte Leistung: %(id)s"), code="unknown_service", id=sid)
        if "appointment" not in found[sid].channels:
            raise InvalidBooking(
                N_("Für „%(name)s“ gibt es keine Termine."),
                code="service_not_bookable",
                name=found[sid].name_de,
            )
    return [found[sid] for sid in ids]


def bookable_services(session: Session, *, service_ids: Sequence[str]) -> list[Service]:
    """The chosen services with their whole catalog record (for pages)."""
    ids = _chosen_ids(service_ids)
    return _all_bookable(ids, catalog_service.services_by_ids(session, ids=ids))


def booking_facts(session: Session, *, service_ids: Sequence[str]) -> list[BookingFacts]:
    """The chosen services as the booking rules need them: one light query, since the catalog
    record (texts, checklists, tutorials) is large and a booking needs none of it."""
    ids = _chosen_ids(service_ids)
    stmt = select(*_FACT_COLUMNS).where(Service.id.in_(ids))
    found = {row[0]: _facts(*row) for row in session.execute(stmt)}
    return _all_bookable(ids, found)


def _facts(sid: str, name: str, channels: Sequence[str], minutes: object) -> BookingFacts:
    return BookingFacts(sid, name, tuple(channels), _minutes(minutes))


def _check_offered(cap: Capacity, services: Sequence[BookingFacts]) -> None:
    for svc in services:
        if not offers(cap, svc):
            raise InvalidBooking(
                N_("„%(name)s“ wird an diesem Standort nicht angeboten."),
                code="service_not_offered",
                name=svc.name_de,
            )


def duration_of(services: Sequence[BookingFacts]) -> int:
    return sum(s.minutes for s in services)


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
) -> list[Slot]:
    """Free slots for the chosen services across locations, earliest first."""
    now = now or utcnow()
    today = now.astimezone(BERLIN).date()
    first = max(date_from or today, today)
    services, caps, closed = _reads(session, service_ids, location_id, since=first)
    duration = duration_of(services)
    caps = [c for c in caps if all(offers(c, s) for s in services)]
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
            schedule_for(session, cap, since=first, closed=closed.get(cap.location_id)),
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
    )
    return slots[0] if slots else None


# -- claiming cells ---------------------------------------------------------------------------
def _take_one(session: Session, *, location_id: str, cell: dt.datetime, capacity: int) -> bool:
    """One statement per cell: create it with one place taken, or take a place if one is
    left. The conflict clause locks the existing row, so racing clients queue up on it."""
    stmt = _claim_statement(session.get_bind().dialect.name)
    values = {"location_id": location_id, "start": cell, "used": 1, "capacity": capacity}
    # RETURNING, not rowcount: drivers disagree on rowcount for INSERT … ON CONFLICT.
    return session.connection().execute(stmt, values).scalar_one_or_none() is not None


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """Built once per dialect: a booking's hot path should not rebuild statements."""
    usage = table(SlotUsage)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(usage)
        .on_conflict_do_update(
            index_elements=["location_id", "start"],
            set_={"used": usage.c.used + 1},
            where=usage.c.used < usage.c.capacity,
        )
        .returning(usage.c.used)
    )


def _claim(
    session: Session, *, location_id: str, cells: Sequence[dt.datetime], capacity: int
) -> None:
    """Take one place in every cell, in ascending order (no deadlocks); all or nothing: a
    failure raises, and the request's rollback returns the places already taken."""
    for cell in sorted(cells):
        if capacity < 1 or not _take_one(
            session, location_id=location_id, cell=cell, capacity=capacity
        ):
            raise SlotTaken(
                N_("Dieser Termin ist gerade vergeben worden. Bitte wählen Sie einen anderen.")
            )


def _release(session: Session, *, location_id: str, cells: Sequence[dt.datetime]) -> None:
    for cell in sorted(cells):
        session.execute(
            update(SlotUsage)
            .where(
                SlotUsage.location_id == location_id, SlotUsage.start == cell, SlotUsage.used > 0
            )
            .values(used=SlotUsage.used - 1)
            .execution_options(synchronize_session=False)
        )


def _move(
    session: Session,
    *,
    old: tuple[str, Sequence[dt.datetime]],
    new: tuple[str, Sequence[dt.datetime]],
    capacity: int,
) -> None:
    """Free the old cells and take the new ones in one ascending pass: two bookings moving
    into each other's times would otherwise each hold a cell the other waits for (deadlock)."""
    freed = {(old[0], cell) for cell in old[1]}
    taken = {(new[0], cell) for cell in new[1]}
    for location_id, cell in sorted(freed ^ taken):  # cells in both keep their place
        if (location_id, cell) in taken:
            _claim(session, location_id=location_id, cells=[cell], capacity=capacity)
        else:
            _release(session, location_id=location_id, cells=[cell])


def _cells_of(booking: Booking, grid: int) -> list[dt.datetime]:
    cells = []
    cell = booking.start
    while cell < booking.end:
        cells.append(cell)
        cell += dt.timedelta(minutes=grid)
    return cells


def _bookable_at(
    session: Session, service_ids: Sequence[str], location_id: str, now: dt.datetime
) -> tuple[list[BookingFacts], Capacity, Schedule]:
    """The services, the location's capacity and its schedule, from one read; 4xx if the
    location does not offer every service."""
    today = now.astimezone(BERLIN).date()
    services, (cap,), closed = _reads(session, service_ids, location_id, since=today)
    _check_offered(cap, services)
    schedule = schedule_for(session, cap, since=today, closed=closed.get(location_id, frozenset()))
    return services, cap, schedule


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
) -> Booking:
    """Validate, claim the cells and store the booking with its e-mails (the outbox rows that
    `mails` plans for it, before it has an id) and its event; the caller's transaction commits."""
    now = now or utcnow()
    services, cap, schedule = _bookable_at(session, service_ids, location_id, now)
    duration = duration_of(services)
    cells = _checked_cells(cap, schedule, start, duration, now)
    _claim(session, location_id=location_id, cells=cells, capacity=appointment_counters(cap))
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
        "created_at": now,
    }
    booking = Booking(cancelled_at=None, purged_at=None, **values)
    booked = events.rows(
        kind="appointment.booked",
        location_id=location_id,
        service_ids=booking.service_ids,
        at=now,
        minutes=duration,
        lead_days=(booking.start - now).days,
    )
    booking.id = _store_booking(session, values, mails(booking) if mails else [], booked)
    make_transient_to_detached(booking)  # the row as stored: tracked like a loaded one
    session.add(booking)
    return booking


def _reads(
    session: Session, service_ids: Sequence[str], location_id: str | None, *, since: dt.date
) -> tuple[list[BookingFacts], list[Capacity], dict[str, frozenset[dt.date]]]:
    """What bookings and slot searches read – the services' facts, the capacity of one
    location (or all, by id) and their closed days from `since` – in one query: each read is
    a round trip while the citizen waits. Unknown services or location raise the usual 4xx."""
    ids = _chosen_ids(service_ids)
    params = {"ids": ids, "location_id": location_id, "since": since}
    rows = session.connection().execute(_reads_statement(location_id is not None), params).all()
    if not rows:  # unknown services or location, or no capacity at all: the plain reads say
        services = booking_facts(session, service_ids=ids)
        if location_id is not None:
            return services, [get_capacity(session, location_id=location_id)], {}
        return services, all_capacities(session), {}
    width = len(_CAPACITY_COLUMNS)
    found = {row[width + 1]: _facts(*row[width + 1 :]) for row in rows}
    caps: dict[str, Capacity] = {}
    closed: dict[str, set[dt.date]] = defaultdict(set)
    for row in rows:
        cap_id = row[0]
        if cap_id not in caps:
            caps[cap_id] = Capacity(**dict(zip(_CAPACITY_COLUMNS, row[:width], strict=True)))
        if row[width] is not None:
            closed[cap_id].add(row[width])
    days = {cap_id: frozenset(closed[cap_id]) for cap_id in caps}
    return _all_bookable(ids, found), [caps[k] for k in sorted(caps)], days


_CAPACITY_COLUMNS = tuple(column.name for column in table(Capacity).c)
assert _CAPACITY_COLUMNS[0] == "location_id"  # `_reads` keys rows by it


@functools.cache
def _reads_statement(one_location: bool) -> Select[Any]:
    """Built once; core columns, since ORM loading costs more than the query on this path."""
    capacity, closure, service = table(Capacity), table(Closure), table(Service)
    stmt = (
        select(*(capacity.c[name] for name in _CAPACITY_COLUMNS), closure.c.day, *_FACT_COLUMNS)
        .select_from(capacity)
        .join(service, service.c.id.in_(bindparam("ids", expanding=True)))
        .outerjoin(
            closure,
            and_(
                closure.c.location_id == capacity.c.location_id,
                closure.c.day >= bindparam("since"),
            ),
        )
    )
    if one_location:
        stmt = stmt.where(capacity.c.location_id == bindparam("location_id"))
    return stmt


def _store_booking(
    session: Session,
    values: dict[str, Any],
    mail_rows: list[dict[str, Any]],
    event_rows: list[dict[str, Any]],
) -> int:
    """Insert the booking, its outbox mails and its event rows; returns the booking's id.

    PostgreSQL gets all three as one statement (data-modifying CTEs), since every statement
    is a round trip; SQLite runs in-process and takes them one by one."""
    mail_rows = [{k: v for k, v in row.items() if k != "booking_id"} for row in mail_rows]
    if session.get_bind().dialect.name == "postgresql":
        shapes = tuple(tuple(rows[0]) if rows else () for rows in ([values], mail_rows, event_rows))
        stmt = _one_statement_store(shapes, len(mail_rows), len(event_rows))
        params = {f"b0_{key}": value for key, value in values.items()}
        for prefix, rows in (("m", mail_rows), ("e", event_rows)):
            for n, row in enumerate(rows):
                params.update({f"{prefix}{n}_{key}": value for key, value in row.items()})
        return int(session.connection().execute(stmt, params).scalar_one())
    bookings = table(Booking)
    connection = session.connection()
    new_id = connection.execute(insert(bookings).returning(bookings.c.id), values).scalar_one()
    booking_id = int(new_id)
    if mail_rows:
        rows = [{**row, "booking_id": booking_id} for row in mail_rows]
        connection.execute(insert(table(OutboxMail)), rows)
    connection.execute(insert(table(events.Event)), event_rows)
    return booking_id


@functools.cache
def _one_statement_store(
    shapes: tuple[tuple[str, ...], ...], mails: int, event_rows: int
) -> Select[Any]:
    """The PostgreSQL statement for `_store_booking`, built once per shape (column names and
    row counts) from named bind parameters, so that SQLAlchemy caches its compiled form."""
    bookings, outbox, event_table = table(Booking), table(OutboxMail), table(events.Event)
    booking_columns, mail_columns, event_columns = shapes

    def row(target: Table, prefix: str, names: Sequence[str]) -> dict[str, Any]:
        return {name: bindparam(f"{prefix}_{name}", type_=target.c[name].type) for name in names}

    new = insert(bookings).values(row(bookings, "b0", booking_columns))
    new_booking = new.returning(bookings.c.id).cte("new_booking")
    ref = select(new_booking.c.id).scalar_subquery()
    stmt = select(new_booking.c.id)
    # One CTE per row: SQLAlchemy does not cache multi-row VALUES.
    for n in range(event_rows):
        event = insert(event_table).values(row(event_table, f"e{n}", event_columns))
        stmt = stmt.add_cte(event.cte(f"new_event_{n}"))
    for n in range(mails):
        mail = insert(outbox).values({**row(outbox, f"m{n}", mail_columns), "booking_id": ref})
        stmt = stmt.add_cte(mail.cte(f"new_mail_{n}"))
    return stmt


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
    _release(session, location_id=booking.location_id, cells=_cells_of(booking, cap.grid_minutes))
    booking.status = "cancelled"
    booking.cancelled_at = now
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
    """Move a booking in one transaction: if the new cells cannot be claimed, nothing changes."""
    now = now or utcnow()
    booking = _active(session, code)
    target = location_id or booking.location_id
    services, new_cap, schedule = _bookable_at(session, booking.service_ids, target, now)
    duration = duration_of(services)
    old_cap = get_capacity(session, location_id=booking.location_id)
    old_cells = _cells_of(booking, old_cap.grid_minutes)
    cells = _checked_cells(new_cap, schedule, start, duration, now)
    _move(
        session,
        old=(booking.location_id, old_cells),
        new=(target, cells),
        capacity=appointment_counters(new_cap),
    )
    booking.location_id, booking.start = target, cells[0]
    booking.end = cells[0] + dt.timedelta(minutes=duration)
    events.record(
        session,
        kind="appointment.rescheduled",
        location_id=target,
        service_ids=booking.service_ids,
        at=now,
    )
    return booking


def bookings_on(session: Session, *, location_id: str, day: dt.date) -> list[Booking]:
    start = dt.datetime.combine(day, dt.time(), BERLIN)
    stmt = select(Booking).where(
        Booking.location_id == location_id,
        Booking.start >= start,
        Booking.start < start + dt.timedelta(days=1),
        Booking.status != "cancelled",
    )
    return list(session.scalars(stmt.order_by(Booking.start)))


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


# -- capacity management (staff) --------------------------------------------------------------
class CapacityChange(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    hours: str = Field(min_length=5, max_length=500)
    counters: int = Field(ge=0, le=50)
    walkin_share: float = Field(ge=0, le=1)
    grid_minutes: int = Field(ge=5, le=60)
    service_ids: list[str] | None = None

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        try:
            parse_hours(value)
        except HoursError as exc:
            raise ValueError(str(exc)) from exc
        return value


def _future_bookings(session: Session, location_id: str, now: dt.datetime) -> int:
    stmt = select(func.count(Booking.id)).where(
        Booking.location_id == location_id, Booking.end > now, Booking.status == "booked"
    )
    return int(session.scalar(stmt) or 0)


def update_capacity(
    session: Session,
    *,
    location_id: str,
    change: CapacityChange,
    source: str,
    now: dt.datetime | None = None,
) -> Capacity:
    """Apply staff's settings; existing bookings always keep their place."""
    now = now or utcnow()
    cap = get_capacity(session, location_id=location_id)
    if change.grid_minutes != cap.grid_minutes and _future_bookings(session, location_id, now):
        raise InvalidBooking(
            N_(
                "Das Zeitraster lässt sich nur ändern, solange keine künftigen "
                "Termine gebucht sind."
            ),
            code="grid_locked",
        )
    if change.service_ids is not None:
        catalog_ids = {s.id for s in catalog_service.list_services(session)}
        unknown = sorted(set(change.service_ids) - catalog_ids)
        if unknown:
            raise InvalidBooking(
                N_("Unbekannte Leistung: %(id)s"), code="unknown_service", id=", ".join(unknown)
            )
    cap.hours = parse_hours(change.hours)
    cap.hours_source = source
    cap.counters, cap.walkin_share = change.counters, change.walkin_share
    cap.grid_minutes, cap.service_ids = change.grid_minutes, change.service_ids
    new_capacity = appointment_counters(cap)
    # Cells already claimed keep at least their bookings (the CHECK would refuse less).
    session.execute(
        update(SlotUsage)
        .where(SlotUsage.location_id == location_id, SlotUsage.start >= now)
        .values(capacity=case((SlotUsage.used > new_capacity, SlotUsage.used), else_=new_capacity))
        .execution_options(synchronize_session=False)
    )
    return cap


def add_closure(session: Session, *, location_id: str, day: dt.date, reason: str) -> Closure:
    """Close a location for a day; bookings already made that day stay and are listed to staff."""
    get_capacity(session, location_id=location_id)
    existing = session.scalar(
        select(Closure).where(Closure.location_id == location_id, Closure.day == day)
    )
    if existing:
        existing.reason = reason
        return existing
    closure = Closure(location_id=location_id, day=day, reason=reason[:200])
    session.add(closure)
    session.flush()
    return closure


def remove_closure(session: Session, *, location_id: str, closure_id: int) -> None:
    closure = session.get(Closure, closure_id)
    if closure is None or closure.location_id != location_id:
        raise BookingNotFound(N_("Diese Schließung gibt es nicht."), code="closure_not_found")
    session.delete(closure)
