"""Between the stored stops and the pure solver: stops and van → StopSpec and Van, the
solver's PlanResult → the plan's result JSON (what the pages, the publication and exports read).

Result JSON of a mobile plan:
    {"van": {...VanParams}, "seconds": float, "visits": int, "notes": [str],
     "stops": [{"id", "name", "kind", "lat", "lon", "approximate", "address", "frequency_weeks",
                "fingerprint"}],
     "days": [{"date": iso, "leave": "HH:MM", "back": "HH:MM", "break_start": "HH:MM"|None,
               "km": float, "visits": [{"stop_id", "name", "arrive", "start", "end"}]}],
     "unplanned": [{"stop_id", "name", "reason"}],
     "violations": [{"kind", "day": iso|None, "stop_id", "detail"}],
     "publication": {...} (written when the plan is published: mobile_publish.Publication)}

A stop's fingerprint covers what the route and the publication depend on (point, address,
hours, frequency, spacing, visit length); publishing compares it with the stop as it is now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from servicepoint.catalog.hours import DAYS
from servicepoint.planning import mobile_model
from servicepoint.planning.mobile_model import PlanResult, Progress, StopSpec, Van

if TYPE_CHECKING:
    from servicepoint.planning.mobile_service import VanParams
    from servicepoint.planning.models import MobileStop


def to_minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def windows(
    opening: Mapping[str, list[list[str]]] | None,
) -> dict[int, tuple[tuple[int, int], ...]]:
    """{"mo": [["09:00", "12:00"]]} → {0: ((540, 720),)}; days without hours are closed."""
    return {
        DAYS.index(day): tuple((to_minutes(a), to_minutes(b)) for a, b in spans)
        for day, spans in (opening or {}).items()
        if day in DAYS and spans
    }


def spec(stop: MobileStop) -> StopSpec:
    known = stop.opening_hours is not None  # None: the host's hours are unknown
    return StopSpec(
        id=stop.id,
        lat=stop.lat,
        lon=stop.lon,
        service_minutes=stop.service_minutes,
        frequency_weeks=stop.frequency_weeks,
        min_spacing_days=stop.min_spacing_days,
        windows=windows(stop.opening_hours) if known else None,
    )


def van_of(params: VanParams) -> Van:
    return Van(
        depot_lat=params.depot_lat,
        depot_lon=params.depot_lon,
        workdays=tuple(params.workdays),
        day_start=params.day_start,
        day_end=params.day_end,
        speed_kmh=params.speed_kmh,
        detour=params.detour,
    )


def solve(
    stops: Sequence[MobileStop],
    params: VanParams,
    *,
    start: dt.date,
    weeks: int,
    time_limit: float,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Plan the weeks with the two-level solver and describe the result as JSON."""
    from servicepoint.planning.mobile_periodic import plan_weeks

    van = van_of(params)
    holidays = mobile_model.public_holidays(start, weeks)
    result = plan_weeks(
        [spec(s) for s in stops],
        van,
        start=start,
        weeks=weeks,
        holidays=holidays,
        time_limit=time_limit,
        progress=progress,
    )
    return describe(result, stops, params, van)


def _day_km(
    route: mobile_model.DayRoute, van: Van, where: Mapping[str, tuple[float, float]]
) -> float:
    depot = (van.depot_lat, van.depot_lon)
    legs = [depot, *(where[v.stop_id] for v in route.visits if v.stop_id in where), depot]
    return sum(
        mobile_model.haversine_km(a[0], a[1], b[0], b[1]) * van.detour
        for a, b in itertools.pairwise(legs)
    )


def describe(
    result: PlanResult, stops: Sequence[MobileStop], params: VanParams, van: Van
) -> dict[str, Any]:
    names = {s.id: s.name for s in stops}
    where = {s.id: (s.lat, s.lon) for s in stops}
    days: list[dict[str, Any]] = [
        {
            "date": route.day.isoformat(),
            "leave": hhmm(route.leave),
            "back": hhmm(route.back),
            "break_start": None if route.break_start is None else hhmm(route.break_start),
            "km": round(_day_km(route, van, where), 1),
            "visits": [
                {
                    "stop_id": v.stop_id,
                    "name": names.get(v.stop_id, v.stop_id),
                    "arrive": hhmm(v.arrive),
                    "start": hhmm(v.start),
                    "end": hhmm(v.end),
                }
                for v in route.visits
            ],
        }
        for route in sorted(result.plan.days, key=lambda r: r.day)
        if route.visits
    ]
    return {
        "van": params.model_dump(mode="json"),
        "seconds": round(result.seconds, 2),
        "visits": sum(len(r.visits) for r in result.plan.days),
        "notes": list(result.notes),
        "stops": [_stop_json(s) for s in stops],
        "days": days,
        "unplanned": [
            {"stop_id": sid, "name": names.get(sid, sid), "reason": reason}
            for sid, reason in result.unplanned
        ],
        "violations": [
            {
                "kind": v.kind,
                "day": None if v.day is None else v.day.isoformat(),
                "stop_id": v.stop_id,
                "detail": v.detail,
                # msgid and parameters, so a page in English can say it in English
                "message": v.message,
                "params": {k: str(x) for k, x in v.params.items()},
            }
            for v in result.violations
        ],
    }


def _stop_json(stop: MobileStop) -> dict[str, Any]:
    return {
        "id": stop.id,
        "name": stop.name,
        "kind": stop.kind,
        "lat": stop.lat,
        "lon": stop.lon,
        "approximate": stop.approximate,
        "address": stop.address,
        "frequency_weeks": stop.frequency_weeks,
        "fingerprint": fingerprint(stop),
    }


def fingerprint(stop: MobileStop) -> str:
    """A digest of the stop's data the plan depends on; any change means the plan is stale."""
    data = [
        stop.lat,
        stop.lon,
        stop.address,
        stop.approximate,
        stop.opening_hours,
        stop.frequency_weeks,
        stop.min_spacing_days,
        stop.service_minutes,
    ]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def visits_by_stop(result: Mapping[str, Any]) -> dict[str, dict[dt.date, list[tuple[str, str]]]]:
    """Per stop, the plan's visit days and service spans (what citizens can book)."""
    found: dict[str, dict[dt.date, list[tuple[str, str]]]] = {}
    for day in result.get("days", []):
        date = dt.date.fromisoformat(day["date"])
        for visit in day["visits"]:
            spans = found.setdefault(visit["stop_id"], {}).setdefault(date, [])
            spans.append((visit["start"], visit["end"]))
    return found
