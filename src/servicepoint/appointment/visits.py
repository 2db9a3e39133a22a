"""A location's visits (its dated hours, e.g. a mobile ServicePoint's stop) as citizens see
them: the coming ones on the location pages, and all of them as an .ics subscription."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment import dated
from servicepoint.appointment.capacity import OfficeHours, closed_days, schedule_for
from servicepoint.appointment.dated import Visit
from servicepoint.appointment.models import Capacity
from servicepoint.appointment.slots import to_minutes, to_utc
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog.models import Location
from servicepoint.core.i18n import N_, translate
from servicepoint.errors import NotFound

# SEQUENCE (RFC 5545) must grow whenever a visit changes. Every change of a location's dated
# hours or closures stamps its capacity's `updated_at` (and of its name or address the
# location's), so the seconds since this instant grow with them (a 32-bit integer until 2094).
SEQUENCE_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
REFRESH = dt.timedelta(hours=12)  # X-PUBLISHED-TTL below says the same
_CANCELLED = {
    "holiday": N_("Fällt aus: gesetzlicher Feiertag."),
    "closed": N_("Fällt aus: Der Standort ist an diesem Tag geschlossen."),
}


def visits(session: Session, *, location_id: str, since: dt.date) -> list[Visit]:
    """A location's dated days from `since` on, with whether each takes place (public
    holidays and closures do not); [] for a location without dated hours."""
    return upcoming(
        session,
        locations=[location_service.get_location(session, location_id=location_id)],
        since=since,
    ).get(location_id, [])


def stop_service_ids(session: Session, *, location_id: str) -> list[str] | None:
    """The services a location's capacity takes (None = every service with appointments): a
    mobile stop offers what its published plan says, not what an office records."""
    cap = session.get(Capacity, location_id)
    return None if cap is None else cap.service_ids


def upcoming(
    session: Session, *, locations: Sequence[Location], since: dt.date, limit: int | None = None
) -> dict[str, list[Visit]]:
    """The coming visits (at most `limit` each) of those `locations` that have dated hours,
    by location id; three queries whatever the number of locations."""
    by_id = {loc.id: loc for loc in locations}
    if not by_id:
        return {}
    caps = session.scalars(select(Capacity).where(Capacity.location_id.in_(list(by_id))))
    dated_caps = [cap for cap in caps if cap.dates]
    closed = closed_days(session, location_ids=[c.location_id for c in dated_caps], since=since)
    found: dict[str, list[Visit]] = {}
    for cap in dated_caps:
        office = OfficeHours.of(by_id[cap.location_id])
        schedule = schedule_for(
            session, cap, since=since, closed=closed[cap.location_id], office=office
        )
        found[cap.location_id] = dated.visits(schedule, cap.dates, since=since)[:limit]
    return found


def stop_calendar(
    session: Session,
    *,
    location_id: str,
    today: dt.date,
    base_url: str,
    site_name: str,
    lang: str,
) -> bytes:
    """An RFC 5545 calendar of a location's visits (recent past and all to come): one event
    per visit and span, UID stable per day and span, SEQUENCE from the last change; a
    visit that does not take place stays in it as CANCELLED, so subscribed clients update."""
    loc = location_service.get_office(session, location_id=location_id)
    cap = session.get(Capacity, loc.id)
    if cap is None or not cap.dates:
        raise NotFound(N_("Für diesen Standort gibt es keine Besuchstermine."), code="no_visits")
    since = today - dt.timedelta(days=dated.KEEP_PAST_DAYS)
    schedule = schedule_for(session, cap, since=since, office=OfficeHours.of(loc))
    cal = Calendar()
    cal.add("prodid", f"-//{site_name}//servicepoint//DE")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", loc.name)
    # How often subscribed clients should look again (RFC 7986, and its older X- name).
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT12H")
    # The stop's name or address shows in every event too.
    changed = max(cap.updated_at, loc.updated_at).astimezone(dt.UTC)
    base = base_url.rstrip("/")
    for visit in dated.visits(schedule, cap.dates, since=since):
        for n, span in enumerate(visit.spans, start=1):
            cal.add_component(_event(loc, visit, n, span, changed, base, lang))
    return bytes(cal.to_ical())


def _event(
    loc: Location,
    visit: Visit,
    n: int,
    span: tuple[str, str],
    changed: dt.datetime,
    base: str,
    lang: str,
) -> Event:
    event = Event()
    event.add("uid", f"{loc.id}-{visit.day.isoformat()}-{n}@servicepoint")
    event.add("sequence", max(0, int((changed - SEQUENCE_EPOCH).total_seconds())))
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("dtstart", to_utc(visit.day, to_minutes(span[0])))
    event.add("dtend", to_utc(visit.day, to_minutes(span[1])))
    event.add("summary", loc.name)
    place = present.address(loc)
    if place:
        event.add("location", place)
    if loc.lat is not None and loc.lon is not None:
        event.add("geo", (loc.lat, loc.lon))
    lines = [f"{translate(lang, 'Termin buchen')}: {base}/termine?location={loc.id}"]
    if not visit.open:
        lines.insert(0, translate(lang, _CANCELLED[visit.status]))
    event.add("description", "\n".join(lines))
    event.add("url", f"{base}/standorte/{loc.id}")
    event.add("status", "CONFIRMED" if visit.open else "CANCELLED")
    return event
