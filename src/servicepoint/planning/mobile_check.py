"""Independent checker for mobile ServicePoint plans.

    check_plan(plan, stops, van, *, start, weeks, holidays) -> list[Violation]   # empty = valid

Written apart from the solvers on purpose: it imports only the data classes of mobile_model and
recomputes distances itself (exact minutes, no rounding), so a solver's mistake cannot hide
behind a shared helper. The rules are the ones mobile_model's docstring states: workdays and
public holidays, one route per day, known stops, no stop twice a day, service length, times in
order, host windows, van hours, travel time on every leg (the break does not count as driving),
the ArbZG break (no stretch of work longer than van.break_after_minutes, the break never inside
a service) and work time, and per stop the frequency blocks and the minimum spacing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

from servicepoint.core.i18n import N_
from servicepoint.planning.mobile_model import DayRoute, Plan, StopSpec, Van, Violation

_EARTH_KM = 6371.0088
_SLACK = 1e-6  # minutes; float noise only


def _km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    la, lb = math.radians(a_lat), math.radians(b_lat)
    h = (
        math.sin((lb - la) / 2) ** 2
        + math.cos(la) * math.cos(lb) * math.sin(math.radians(b_lon - a_lon) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _Checker:
    def __init__(self, stops: Sequence[StopSpec], van: Van, start: dt.date, weeks: int) -> None:
        self.stops = {s.id: s for s in stops}
        self.van, self.start, self.weeks = van, start, weeks
        self.found: list[Violation] = []

    def add(
        self, kind: str, day: dt.date | None, stop_id: str | None, message: str, **params: object
    ) -> None:
        """`message` is an N_-marked German msgid; `detail` carries it filled in."""
        values = {key: str(value) for key, value in params.items()}
        detail = message % values if values else message
        self.found.append(Violation(kind, day, stop_id, detail, message, values))

    def minutes(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        return _km(a[0], a[1], b[0], b[1]) * self.van.detour / self.van.speed_kmh * 60.0

    # --- the calendar ------------------------------------------------------------------------
    def days(self, plan: Plan, holidays: frozenset[dt.date]) -> None:
        end = self.start + dt.timedelta(days=7 * self.weeks)
        seen: set[dt.date] = set()
        for route in plan.days:
            day = route.day
            if day in seen:
                self.add("workday", day, None, N_("Zwei Touren am selben Tag."))
            seen.add(day)
            if not self.start <= day < end:
                self.add("workday", day, None, N_("Der Tag liegt außerhalb des Planungszeitraums."))
            elif day.weekday() not in self.van.workdays:
                self.add("workday", day, None, N_("An diesem Wochentag fährt das Fahrzeug nicht."))
            elif day in holidays:
                self.add("workday", day, None, N_("Der Tag ist ein gesetzlicher Feiertag."))

    # --- one day -----------------------------------------------------------------------------
    def route(self, route: DayRoute) -> None:
        day, van = route.day, self.van
        if route.leave < van.day_start or route.back > van.day_end:
            self.add(
                "van_hours",
                day,
                None,
                N_("Tour %(leave)s–%(back)s außerhalb der Fahrzeugzeiten %(start)s–%(end)s."),
                leave=_hhmm(route.leave),
                back=_hhmm(route.back),
                start=_hhmm(van.day_start),
                end=_hhmm(van.day_end),
            )
        known = [v for v in route.visits if v.stop_id in self.stops]
        for visit in route.visits:
            if visit.stop_id not in self.stops:
                self.add("unknown_stop", day, visit.stop_id, N_("Unbekannter Haltepunkt."))
        counts: dict[str, int] = defaultdict(int)
        for visit in known:
            counts[visit.stop_id] += 1
        for stop_id, count in counts.items():
            if count > 1:
                self.add(
                    "double_visit",
                    day,
                    stop_id,
                    N_("%(count)s Besuche am selben Tag."),
                    count=count,
                )
        for visit in known:
            self.visit(day, visit.stop_id, visit.arrive, visit.start, visit.end)
        self.legs(route)
        self.duty(route)

    def visit(self, day: dt.date, stop_id: str, arrive: int, start: int, end: int) -> None:
        stop = self.stops[stop_id]
        if end - start != stop.service_minutes:
            self.add(
                "service",
                day,
                stop_id,
                N_("Besuch dauert %(got)s statt %(want)s Minuten."),
                got=end - start,
                want=stop.service_minutes,
            )
        if arrive > start:
            self.add("order", day, stop_id, N_("Der Besuch beginnt vor der Ankunft."))
        if stop.windows is None:
            return
        windows = stop.windows.get(day.weekday(), ())
        if not any(a <= start and end <= b for a, b in windows):
            self.add(
                "window",
                day,
                stop_id,
                N_("Besuch %(start)s–%(end)s außerhalb der Öffnungszeiten des Gastgebers."),
                start=_hhmm(start),
                end=_hhmm(end),
            )

    def legs(self, route: DayRoute) -> None:
        """Every leg needs at least its driving time; time inside the break is not driving."""
        depot = (self.van.depot_lat, self.van.depot_lon)
        here, ready, last_id = depot, route.leave, None
        for visit in route.visits:
            stop = self.stops.get(visit.stop_id)
            if stop is None:
                continue
            self.leg(route, here, ready, (stop.lat, stop.lon), visit.arrive, visit.stop_id)
            here, ready, last_id = (stop.lat, stop.lon), visit.end, visit.stop_id
        self.leg(route, here, ready, depot, route.back, last_id)

    def leg(
        self,
        route: DayRoute,
        a: tuple[float, float],
        depart: int,
        b: tuple[float, float],
        arrive: int,
        stop_id: str | None,
    ) -> None:
        driving = arrive - depart
        if route.break_start is not None:
            b0, b1 = route.break_start, route.break_start + self.van.break_minutes
            driving -= max(0, min(arrive, b1) - max(depart, b0))
        need = self.minutes(a, b)
        if driving < 0:
            self.add("order", route.day, stop_id, N_("Die Zeiten der Tour laufen rückwärts."))
        elif driving + _SLACK < need:
            self.add(
                "travel",
                route.day,
                stop_id,
                N_("Fahrzeit %(got)s Minuten, nötig sind mindestens %(need)s."),
                got=driving,
                need=math.ceil(need),
            )

    def duty(self, route: DayRoute) -> None:
        """ArbZG: no stretch of work beyond the limit without the break; the break sits between
        services; work time within the daily maximum."""
        van, day = self.van, route.day
        limit, pause = van.break_after_minutes, van.break_minutes
        if route.break_start is None:
            stretches = [route.back - route.leave]
            taken = 0
        else:
            b0, b1 = route.break_start, route.break_start + pause
            stretches = [b0 - route.leave, route.back - b1]
            taken = pause
            if b0 < route.leave or b1 > route.back:
                self.add("break", day, None, N_("Die Pause liegt außerhalb der Tour."))
            for visit in route.visits:
                if visit.start < b1 and b0 < visit.end:
                    self.add("break", day, visit.stop_id, N_("Die Pause fällt in einen Besuch."))
        if max(stretches) > limit:
            self.add(
                "break",
                day,
                None,
                N_("%(got)s Minuten Arbeit ohne Pause; erlaubt sind %(limit)s (ArbZG §4)."),
                got=max(stretches),
                limit=limit,
            )
        work = route.back - route.leave - taken
        if work > van.max_work_minutes:
            message = N_("%(work)s Minuten Arbeitszeit sind zu viel (ArbZG §3).")
            self.add("work_time", day, None, message, work=work)
        elif work > 9 * 60 and taken < 45:
            self.add("break", day, None, N_("Über 9 Stunden Arbeit brauchen 45 Minuten Pause."))

    # --- the rhythm --------------------------------------------------------------------------
    def rhythm(self, plan: Plan) -> None:
        dates: dict[str, list[dt.date]] = defaultdict(list)
        for route in plan.days:
            for visit in route.visits:
                dates[visit.stop_id].append(route.day)
        for stop in self.stops.values():
            self.frequency(stop, sorted(dates.get(stop.id, [])))

    def frequency(self, stop: StopSpec, days: list[dt.date]) -> None:
        blocks = self.weeks // stop.frequency_weeks
        span = 7 * stop.frequency_weeks
        per_block: dict[int, int] = defaultdict(int)
        for day in days:
            per_block[(day - self.start).days // span] += 1
        for block in range(blocks):
            if per_block.get(block, 0) != 1:
                self.add(
                    "frequency",
                    self.start + dt.timedelta(days=block * span),
                    stop.id,
                    N_(
                        "%(count)s Besuche im %(block)s. Zeitraum von %(weeks)s Woche(n); "
                        "verlangt ist genau einer."
                    ),
                    count=per_block.get(block, 0),
                    block=block + 1,
                    weeks=stop.frequency_weeks,
                )
        for block in per_block:
            if not 0 <= block < blocks:
                self.add("frequency", None, stop.id, N_("Besuch außerhalb der Rhythmus-Zeiträume."))
        for first, second in itertools.pairwise(days):
            gap = (second - first).days
            if 0 < gap < stop.min_spacing_days:
                self.add(
                    "spacing",
                    second,
                    stop.id,
                    N_("Nur %(gap)s Tage nach dem letzten Besuch; verlangt sind %(want)s."),
                    gap=gap,
                    want=stop.min_spacing_days,
                )


def check_plan(
    plan: Plan,
    stops: Sequence[StopSpec],
    van: Van,
    *,
    start: dt.date,
    weeks: int,
    holidays: frozenset[dt.date] = frozenset(),
) -> list[Violation]:
    """Every rule the plan breaks; empty = valid."""
    checker = _Checker(stops, van, start, weeks)
    checker.days(plan, holidays)
    for route in plan.days:
        checker.route(route)
    checker.rhythm(plan)
    return checker.found
