"""The mobile ServicePoint's planning model: stops, van, routes, plans and the checker's findings.

Plain data shared by the solvers (mobile_periodic, mobile_routing, mobile_exact) and the
independent checker (mobile_check); nothing here solves anything.

Conventions (the checker relies on them, and so do the pages):
- Times are whole minutes after midnight of the day; dates are calendar dates.
- Travel: great-circle km × van.detour at van.speed_kmh. The solvers round each leg UP to whole
  minutes (`travel_minutes`), so a plan is never faster than the van; the checker recomputes the
  exact minutes on its own and only demands that a leg is not shorter than that.
- A weekly stop is visited once in every week of the horizon, a two-weekly one once in each
  two-week block from `start`, a four-weekly one once in each four-week block; consecutive visits
  lie at least `min_spacing_days` calendar days apart.
- Each visit is `service_minutes` long and lies inside one of the host's windows for that weekday
  (`windows` None = any time within the van's hours; a weekday missing from `windows` = closed).
- Duty begins when the van leaves the depot and ends when it is back. ArbZG §4: nobody works more
  than 6 hours without a break, so a day longer than `break_after_minutes` has one break of
  `break_minutes` and neither part before or after it is longer than `break_after_minutes`;
  the break lies between two services (travel goes around it), never inside one. ArbZG §3: work
  (duty minus break) at most `max_work_minutes`; more than 9 hours of work need 45 minutes of break.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import holidays as holidays_lib

Window = tuple[int, int]  # (start minute, end minute) after midnight
Progress = Callable[[int, str], None]  # percent 0–100, a short note (German)

EARTH_RADIUS_KM = 6371.0088
LONG_WORK_MINUTES = 540  # ArbZG §4: more than 9 hours of work need 45 minutes of break
LONG_BREAK_MINUTES = 45


@dataclass(frozen=True, eq=False)
class StopSpec:
    id: str
    lat: float
    lon: float
    service_minutes: int
    frequency_weeks: int = 2  # 1, 2 or 4
    min_spacing_days: int = 5
    windows: Mapping[int, tuple[Window, ...]] | None = None  # weekday 0 = Monday … 6 = Sunday


@dataclass(frozen=True)
class Van:
    depot_lat: float
    depot_lon: float
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    day_start: int = 8 * 60
    day_end: int = 17 * 60
    speed_kmh: float = 25.0
    detour: float = 1.3
    break_after_minutes: int = 360  # ArbZG §4: 30 minutes after 6 hours
    break_minutes: int = 30
    max_work_minutes: int = 600  # ArbZG §3: 10 hours at most


@dataclass(frozen=True)
class Visit:
    stop_id: str
    arrive: int  # the van is there
    start: int  # the service begins (after waiting for the window, if any)
    end: int  # start + service_minutes


@dataclass(frozen=True)
class DayRoute:
    day: dt.date
    visits: tuple[Visit, ...]
    leave: int  # leaves the depot
    back: int  # back at the depot
    break_start: int | None = None  # the break lasts van.break_minutes


@dataclass(frozen=True)
class Plan:
    days: tuple[DayRoute, ...] = ()


@dataclass(frozen=True)
class Violation:
    # frequency, spacing, window, van_hours, break, work_time, travel, double_visit, unknown_stop,
    # workday, service, order
    kind: str
    day: dt.date | None
    stop_id: str | None
    detail: str  # German, with the numbers
    message: str = ""  # the N_-marked German msgid behind `detail`
    params: Mapping[str, str] = field(default_factory=dict)

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The detail in the language of `gettext` (the German text where it has none)."""
        if not self.message:
            return self.detail
        return gettext(self.message) % self.params if self.params else gettext(self.message)


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    violations: tuple[Violation, ...]  # the checker's verdict on the planned stops
    # (stop id, reason): left out of the plan; the reason is an N_-marked German msgid, so a
    # page shows it translated with _(reason)
    unplanned: tuple[tuple[str, str], ...]
    seconds: float
    notes: tuple[str, ...] = field(default=())  # how the solver got there (cuts, repairs)


def haversine_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel_minutes(van: Van, a: tuple[float, float], b: tuple[float, float]) -> int:
    """Whole minutes for one leg, rounded up (the solvers' convention)."""
    exact = haversine_km(a[0], a[1], b[0], b[1]) * van.detour / van.speed_kmh * 60.0
    return math.ceil(exact - 1e-9)


def stop_windows(stop: StopSpec, van: Van, weekday: int) -> tuple[Window, ...]:
    """The host's windows on a weekday, cut to the van's hours (empty = closed)."""
    if stop.windows is None:
        spans: tuple[Window, ...] = ((van.day_start, van.day_end),)
    else:
        spans = tuple(stop.windows.get(weekday, ()))
    cut = ((max(a, van.day_start), min(b, van.day_end)) for a, b in spans)
    return tuple(sorted((a, b) for a, b in cut if b - a >= stop.service_minutes))


def horizon_days(start: dt.date, weeks: int) -> list[dt.date]:
    return [start + dt.timedelta(days=k) for k in range(7 * weeks)]


def workdays(van: Van, start: dt.date, weeks: int, holidays: frozenset[dt.date]) -> list[dt.date]:
    """The van's working days in the horizon; public holidays are none."""
    days = horizon_days(start, weeks)
    return [d for d in days if d.weekday() in van.workdays and d not in holidays]


def block_of(stop: StopSpec, start: dt.date, day: dt.date) -> int:
    """Which frequency block (0, 1, …) a day falls into for this stop."""
    return (day - start).days // (7 * stop.frequency_weeks)


def required_visits(stop: StopSpec, weeks: int) -> int:
    return weeks // stop.frequency_weeks


def public_holidays(start: dt.date, weeks: int, subdiv: str = "NI") -> frozenset[dt.date]:
    """Lower Saxony's public holidays within the horizon (holidays library)."""
    days = horizon_days(start, weeks)
    calendar = holidays_lib.country_holidays("DE", subdiv=subdiv, years={d.year for d in days})
    return frozenset(d for d in days if d in calendar)


WEEKDAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")  # the catalog's keys (catalog/hours.py)


def windows_from_hours(
    hours: Mapping[str, Sequence[Sequence[str]]] | None,
) -> dict[int, tuple[Window, ...]] | None:
    """The catalog's hours ({"mo": [["09:00", "12:00"]], …}) as windows; None stays None
    (no restriction known), a weekday without spans is closed."""
    if hours is None:
        return None
    out: dict[int, tuple[Window, ...]] = {}
    for weekday, key in enumerate(WEEKDAY_KEYS):
        spans = [(_minute(a), _minute(b)) for a, b in hours.get(key, ())]
        if spans:
            out[weekday] = tuple(sorted(spans))
    return out


def _minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def plan_to_json(plan: Plan, van: Van) -> list[dict[str, Any]]:
    """A plan as JSON: one entry per day, times as minutes and as HH:MM."""
    return [
        {
            "day": route.day.isoformat(),
            "leave": route.leave,
            "back": route.back,
            "break_start": route.break_start,
            "break_end": None
            if route.break_start is None
            else route.break_start + van.break_minutes,
            "visits": [
                {
                    "stop_id": v.stop_id,
                    "arrive": v.arrive,
                    "start": v.start,
                    "end": v.end,
                    "from": hhmm(v.start),
                    "to": hhmm(v.end),
                }
                for v in route.visits
            ],
        }
        for route in plan.days
    ]


def plan_from_json(days: Sequence[Mapping[str, Any]]) -> Plan:
    """The inverse of plan_to_json (extra keys are ignored)."""
    return Plan(
        tuple(
            DayRoute(
                dt.date.fromisoformat(day["day"]),
                tuple(
                    Visit(str(v["stop_id"]), int(v["arrive"]), int(v["start"]), int(v["end"]))
                    for v in day["visits"]
                ),
                int(day["leave"]),
                int(day["back"]),
                None if day.get("break_start") is None else int(day["break_start"]),
            )
            for day in days
        )
    )
