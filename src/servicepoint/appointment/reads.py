"""What bookings and slot searches read, in one query: the services' facts, the capacity of one
location (or all), their opening hours and closed days. Each read is a round trip while the
citizen waits, so `service` asks here once per search or booking."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from servicepoint.appointment import capacity, facts
from servicepoint.appointment.capacity import OfficeHours
from servicepoint.appointment.models import Capacity, Closure
from servicepoint.catalog.hours import SPECIAL_DAYS
from servicepoint.catalog.models import Location, Service
from servicepoint.core.db import table


class Reads(NamedTuple):
    services: list[facts.BookingFacts]
    caps: list[Capacity]
    closed: dict[str, frozenset[dt.date]]
    offices: dict[str, OfficeHours]


def reads(
    session: Session,
    service_ids: Sequence[str],
    location_id: str | None,
    *,
    since: dt.date,
    channel: str = "in_person",
) -> Reads:
    """What bookings and slot searches read – the services' facts, the capacity of one
    location (or all, by id), their opening hours and closed days from `since` – in one query:
    each read is a round trip while the citizen waits. Unknown services or location raise the
    usual 4xx."""
    ids = facts.chosen_ids(service_ids)
    params = {"ids": ids, "location_id": location_id, "since": since}
    rows = session.connection().execute(_reads_statement(location_id is not None), params).all()
    if not rows:  # unknown services or location, or no capacity at all: the plain reads say
        services = facts.booking_facts(session, service_ids=ids, channel=channel)
        if location_id is not None:
            return Reads(
                services, [capacity.get_capacity(session, location_id=location_id)], {}, {}
            )
        return Reads(services, capacity.all_capacities(session), {}, {})
    width = len(_CAPACITY_COLUMNS)
    found = {row[width + 4]: facts.facts_of(*row[width + 4 :]) for row in rows}
    caps: dict[str, Capacity] = {}
    offices: dict[str, OfficeHours] = {}
    closed: dict[str, set[dt.date]] = defaultdict(set)
    for row in rows:
        cap_id = row[0]
        if cap_id not in caps:
            caps[cap_id] = Capacity(**dict(zip(_CAPACITY_COLUMNS, row[:width], strict=True)))
            special = dict(zip(SPECIAL_DAYS, row[width + 2 : width + 4], strict=True))
            offices[cap_id] = OfficeHours(row[width + 1], special)
        if row[width] is not None:
            closed[cap_id].add(row[width])
    days = {cap_id: frozenset(closed[cap_id]) for cap_id in caps}
    services = facts.all_bookable(ids, found, channel)
    return Reads(services, [caps[k] for k in sorted(caps)], days, offices)


_CAPACITY_COLUMNS = tuple(column.name for column in table(Capacity).c)
assert _CAPACITY_COLUMNS[0] == "location_id"  # `reads` keys rows by it


@functools.cache
def _reads_statement(one_location: bool) -> Select[Any]:
    """Built once; core columns, since ORM loading costs more than the query on this path."""
    capacity, closure, service = table(Capacity), table(Closure), table(Service)
    location = table(Location)
    office = (location.c.opening_hours, *(location.c[key] for key in SPECIAL_DAYS))
    stmt = (
        select(
            *(capacity.c[name] for name in _CAPACITY_COLUMNS),
            closure.c.day,
            *office,
            *facts.FACT_COLUMNS,
        )
        .select_from(capacity)
        .join(location, location.c.id == capacity.c.location_id)
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
