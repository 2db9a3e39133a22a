"""The citizen's slot list: free times in whole days, one page at a time, and the times nearest
to one that was just taken. Pages call these; the slot rules stay in `service.py`."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.slots import Slot
from servicepoint.catalog import locations as location_service
from servicepoint.catalog.models import Location
from servicepoint.core.clock import BERLIN, today_local
from servicepoint.web.geo import district_points

PAGE_SLOTS = 40  # a page shows whole days until it holds at least this many times
SCAN_DAYS = 20  # how far one page looks ahead (and back, for "earlier days")
NEAR = 4  # other times offered beside a taken one, per group
DAYPARTS = {"vormittag": (0, 12 * 60), "nachmittag": (12 * 60, 24 * 60)}
Days = list[tuple[dt.date, list[Slot]]]


@dataclass(frozen=True)
class SlotQuery:
    """What the citizen filters by; the day is the page and comes separately."""

    service_ids: Sequence[str]
    location: str | None = None
    daypart: str | None = None
    district: str | None = None
    sort: str = "zeit"
    channel: str = "in_person"  # or "video": the video consultations' slots


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance; enough to order offices by nearness."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(h))


def has_coordinates(locations: Sequence[Location]) -> bool:
    """Sorting by distance means something only once an office's position is known."""
    return any(loc.lat is not None and loc.lon is not None for loc in locations)


def distances(
    city_dir: Path, locations: Sequence[Location], district: str | None
) -> dict[str, float | None]:
    points = {name: (lat, lon) for name, lat, lon in district_points(city_dir)}
    origin = points.get(district or "")
    return {
        loc.id: round(_km(origin, (loc.lat, loc.lon)), 1)
        if origin and loc.lat is not None and loc.lon is not None
        else None
        for loc in locations
    }


def _in_daypart(start: dt.datetime, daypart: str | None) -> bool:
    if daypart not in DAYPARTS:
        return True
    local = start.astimezone(BERLIN)
    lo, hi = DAYPARTS[daypart]
    return lo <= local.hour * 60 + local.minute < hi


def _days(slots: Sequence[Slot]) -> Days:
    grouped: dict[dt.date, list[Slot]] = defaultdict(list)
    for slot in slots:
        grouped[slot.start.astimezone(BERLIN).date()].append(slot)
    return sorted(grouped.items())


def whole_days(days: Days, minimum: int = PAGE_SLOTS) -> int:
    """How many of `days` a page shows: whole days, until at least `minimum` times."""
    count = 0
    for n, (_, items) in enumerate(days, start=1):
        count += len(items)
        if count >= minimum:
            return n
    return len(days)


def _search(session: Session, q: SlotQuery, first: dt.date, last: dt.date) -> list[Slot]:
    if last < first:
        return []
    slots = appointment_service.find_slots(
        session,
        service_ids=q.service_ids,
        location_id=q.location or None,
        date_from=first,
        date_to=last,
        channel=q.channel,
    )
    return [s for s in slots if _in_daypart(s.start, q.daypart)]


def _last_bookable(session: Session, today: dt.date, channel: str) -> dt.date:
    horizons = [
        cap.horizon_days
        for cap in appointment_service.all_capacities(session)
        if (cap.channel or "in_person") == channel
    ]
    return today + dt.timedelta(days=max(horizons, default=0))


def places(session: Session, channel: str) -> dict[str, Location]:
    """The locations slots of a channel can be at, by id: the offices, or the video
    consultations (which are on no list of offices)."""
    if channel == "in_person":
        return {loc.id: loc for loc in location_service.list_locations(session)}
    found = appointment_service.video_location(session)
    return {found.id: found} if found else {}


def _earlier(session: Session, q: SlotQuery, first: dt.date, today: dt.date) -> dt.date | None:
    """Where the previous page starts: whole days back from `first`, as a page holds them."""
    if first <= today:
        return None
    start = max(today, first - dt.timedelta(days=SCAN_DAYS))
    back = _days(_search(session, q, start, first - dt.timedelta(days=1)))
    if not back:
        return max(today, first - dt.timedelta(days=SCAN_DAYS))
    return back[-whole_days(back[::-1])][0]


def _later(ahead: Days, shown: int, first: dt.date, last_bookable: dt.date) -> dt.date | None:
    if shown < len(ahead):
        return ahead[shown][0]  # straight to the next day that has free times
    after = first + dt.timedelta(days=SCAN_DAYS + 1)
    return after if after <= last_bookable else None


def _by_distance(days: Days, dist: dict[str, float | None]) -> Days:
    def key(s: Slot) -> tuple[bool, float, dt.datetime]:
        km = dist.get(s.location_id)
        return (km is None, km or 0.0, s.start)

    return [(day, sorted(items, key=key)) for day, items in days]


def slot_page(
    session: Session, city_dir: Path, q: SlotQuery, date_from: dt.date | None
) -> dict[str, Any]:
    """Whole days of free times from `date_from` on, with where earlier and later pages start."""
    today = today_local()
    last_bookable = _last_bookable(session, today, q.channel)
    first = min(max(date_from or today, today), last_bookable + dt.timedelta(days=1))
    ahead = _days(_search(session, q, first, first + dt.timedelta(days=SCAN_DAYS)))
    shown = whole_days(ahead)
    locations = places(session, q.channel)
    dist = distances(city_dir, list(locations.values()), q.district)
    page = _by_distance(ahead[:shown], dist) if q.sort == "entfernung" else ahead[:shown]
    return {
        "by_day": dict(page),
        "total": sum(len(items) for _, items in ahead),
        "locations": locations,
        "distances": dist,
        "earlier": _earlier(session, q, first, today),
        "later": _later(ahead, shown, first, last_bookable),
    }


def page_url(request: Request, day: dt.date, anchor: str = "ergebnisse") -> str:
    """The same search from another day on (the day is the page)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "date_from"]
    query = urlencode([*kept, ("date_from", day.isoformat())])
    return f"{request.url.path}?{query}#{anchor}"


def nearest(
    session: Session,
    *,
    service_ids: Sequence[str],
    location_id: str,
    wanted: dt.datetime,
    channel: str = "in_person",
) -> dict[str, list[Slot]]:
    """Free times closest to a taken one: at the same office, and at the others."""
    day = wanted.astimezone(BERLIN).date()
    q = SlotQuery(service_ids, channel=channel)
    slots = _search(session, q, day - dt.timedelta(days=1), day + dt.timedelta(days=7))
    slots = [s for s in slots if s.start != wanted or s.location_id != location_id]
    slots.sort(key=lambda s: (abs((s.start - wanted).total_seconds()), s.start))
    here = [s for s in slots if s.location_id == location_id][:NEAR]
    elsewhere = [s for s in slots if s.location_id != location_id][:NEAR]
    return {"here": sorted(here), "elsewhere": sorted(elsewhere)}
