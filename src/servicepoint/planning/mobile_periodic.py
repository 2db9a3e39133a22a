"""The multi-week plan for one van: CP-SAT assigns visits to days, then each day is routed.

    plan_weeks(stops, van, *, start, weeks=4, holidays, time_limit=30.0, progress) -> PlanResult

Level 1 (OR-Tools CP-SAT): x[stop, day] for the days a stop can be served alone (its host is open
and the van reaches it within its hours, tested with the exact day solver). Exactly one visit in
each frequency block, at most one visit in any `min_spacing_days` window, pairs that cannot share
a day (windows, hours) never do, and a day's service plus an estimate of its driving fits the van's
working time. The objective keeps a day's stops close together (pairwise driving minutes of stops
on the same day) and each stop on one weekday (citizens remember "every other Tuesday").
Level 2: each day's stops are ordered and timed, exactly (mobile_exact) up to 12 stops, by
OR-Tools routing beyond. A day that fails becomes a cut for every day of that weekday (that set
of stops never again together) and level 1 solves again, warm-started. If time runs out first,
the failing day drops stops until it works, and the checker reports what is missing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from servicepoint.core.i18n import N_
from servicepoint.errors import Unprocessable
from servicepoint.planning.mobile_check import check_plan
from servicepoint.planning.mobile_exact import MAX_EXACT_STOPS, solve_day_exact
from servicepoint.planning.mobile_model import (
    DayRoute,
    Plan,
    PlanResult,
    Progress,
    StopSpec,
    Van,
    block_of,
    required_visits,
    travel_minutes,
    workdays,
)
from servicepoint.planning.mobile_routing import route_day

MAX_STOPS = 100  # one van manages about 100 visits in four weeks; the model grows with stops²
MAX_WEEKS = 12
FREQUENCIES = (1, 2, 4)
WEEKDAY_PENALTY = 30  # minutes of driving a stop's change of weekday is worth
CP_WORKERS = 4
OVERLOAD_PENALTY = 20  # per minute a day's estimate exceeds the van's working time
FIRST_ROUND_S, LATER_ROUND_S = 6.0, 3.0  # CP-SAT seconds per round (warm-started later)


Hint = dict[str, list[dt.date]]  # stop id -> its days in the last assignment
Cache = dict[tuple[int, frozenset[str]], DayRoute | None]  # (weekday, stops) -> route


class InvalidMobileProblem(Unprocessable):
    code = "invalid_mobile_plan"


@dataclass
class Instance:
    stops: list[StopSpec]
    van: Van
    start: dt.date
    weeks: int
    days: list[dt.date]
    allowed: dict[str, list[dt.date]]  # stop id -> days it can be served on
    unplanned: list[tuple[str, str]] = field(default_factory=list)
    apart: set[tuple[str, str, int]] = field(default_factory=set)  # never on this weekday together
    cuts: list[tuple[int, frozenset[str]]] = field(default_factory=list)  # weekday, stop ids
    deadline: float = float("inf")  # time.perf_counter() by which repairs stop

    def late(self) -> bool:
        return time.perf_counter() > self.deadline


def validate(stops: Sequence[StopSpec], van: Van, weeks: int) -> None:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidMobileProblem(N_("Der Plan umfasst 1 bis %(max)s Wochen."), max=MAX_WEEKS)
    if len(stops) > MAX_STOPS:
        raise InvalidMobileProblem(N_("Höchstens %(max)s Haltepunkte."), max=MAX_STOPS)
    if len({s.id for s in stops}) != len(stops):
        raise InvalidMobileProblem(N_("Haltepunkte sind doppelt angegeben."))
    if not 0 <= van.day_start < van.day_end <= 24 * 60 or van.speed_kmh <= 0 or van.detour < 1:
        raise InvalidMobileProblem(N_("Die Fahrzeugzeiten oder -werte sind ungültig."))
    for stop in stops:
        if stop.frequency_weeks not in FREQUENCIES:
            raise InvalidMobileProblem(
                N_("Rhythmus von %(stop)s: 1, 2 oder 4 Wochen."), stop=stop.id
            )
        if (
            not 1 <= stop.service_minutes <= van.day_end - van.day_start
            or stop.min_spacing_days < 0
        ):
            raise InvalidMobileProblem(
                N_("Besuchsdauer oder Mindestabstand von %(stop)s ist ungültig."), stop=stop.id
            )


def prepare(
    stops: Sequence[StopSpec], van: Van, start: dt.date, weeks: int, holidays: frozenset[dt.date]
) -> Instance:
    """Which days each stop can have at all; stops with an impossible block are left out."""
    days = workdays(van, start, weeks, holidays)
    alone: dict[tuple[str, int], bool] = {}
    inst = Instance([], van, start, weeks, days, {})
    for stop in stops:
        need = required_visits(stop, weeks)
        if need == 0:
            inst.unplanned.append(
                (stop.id, N_("Der Rhythmus ist länger als der Planungszeitraum."))
            )
            continue
        ok = []
        for day in days:
            key = (stop.id, day.weekday())
            if key not in alone:
                alone[key] = solve_day_exact([stop], van, day) is not None
            if alone[key] and block_of(stop, start, day) < need:
                ok.append(day)
        blocks = {block_of(stop, start, d) for d in ok}
        if len(blocks) < need:
            reason = N_("In mindestens einem Zeitraum passt kein Tag (Öffnungszeiten, Fahrzeit).")
            inst.unplanned.append((stop.id, reason))
            continue
        inst.stops.append(stop)
        inst.allowed[stop.id] = ok
    _pairs(inst)
    return inst


def _pairs(inst: Instance) -> None:
    """Pairs of stops that cannot share a day of a given weekday."""
    weekdays = sorted({d.weekday() for d in inst.days})
    some_day = {w: next(d for d in inst.days if d.weekday() == w) for w in weekdays}
    open_on = {s.id: {d.weekday() for d in inst.allowed[s.id]} for s in inst.stops}
    for i, a in enumerate(inst.stops):
        for b in inst.stops[i + 1 :]:
            for w in open_on[a.id] & open_on[b.id]:
                if solve_day_exact([a, b], inst.van, some_day[w]) is None:
                    inst.apart.add((a.id, b.id, w))


def _estimate(inst: Instance) -> dict[str, int]:
    """A stop's share of a day: its service plus the mean of its two shortest legs."""
    van = inst.van
    points = {s.id: (s.lat, s.lon) for s in inst.stops}
    depot = (van.depot_lat, van.depot_lon)
    load = {}
    for stop in inst.stops:
        legs = sorted(
            [travel_minutes(van, points[stop.id], p) for k, p in points.items() if k != stop.id]
            + [travel_minutes(van, points[stop.id], depot)]
        )
        load[stop.id] = stop.service_minutes + sum(legs[:2]) // max(1, len(legs[:2]))
    return load


class Assignment:
    """Level 1: the CP-SAT model, rebuilt with the cuts found so far."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.model = cp_model.CpModel()
        self.x: dict[tuple[str, dt.date], cp_model.IntVar] = {}
        self.overload: list[cp_model.IntVar] = []  # soft capacity: an overfull day is repaired
        for stop in inst.stops:
            for day in inst.allowed[stop.id]:
                self.x[stop.id, day] = self.model.new_bool_var(f"x_{stop.id}_{day}")
        self._rhythm()
        self._days()
        self._objective()

    def _rhythm(self) -> None:
        inst, model = self.inst, self.model
        for stop in inst.stops:
            mine = inst.allowed[stop.id]
            for block in range(required_visits(stop, inst.weeks)):
                in_block = [
                    self.x[stop.id, d] for d in mine if block_of(stop, inst.start, d) == block
                ]
                model.add_exactly_one(in_block)
            if stop.min_spacing_days > 1:
                for day in mine:
                    near = [d for d in mine if 0 <= (d - day).days < stop.min_spacing_days]
                    if len(near) > 1:
                        model.add_at_most_one(self.x[stop.id, d] for d in near)

    def _days(self) -> None:
        inst, model, van = self.inst, self.model, self.inst.van
        load = _estimate(inst)
        depot = (van.depot_lat, van.depot_lon)
        legs = [travel_minutes(van, (s.lat, s.lon), depot) for s in inst.stops]
        span = min(van.day_end - van.day_start - van.break_minutes, van.max_work_minutes)
        # The estimate counts one leg per stop; the way back to the depot comes on top.
        capacity = span - sum(legs) // max(1, len(legs))
        for day in inst.days:
            here = [(s.id, self.x[s.id, day]) for s in inst.stops if (s.id, day) in self.x]
            over = model.new_int_var(0, capacity, "")
            model.add(sum(load[sid] * var for sid, var in here) <= capacity + over)
            self.overload.append(over)
            for a, b, w in inst.apart:
                if w == day.weekday() and (a, day) in self.x and (b, day) in self.x:
                    model.add_bool_or([self.x[a, day].negated(), self.x[b, day].negated()])
            for w, group in inst.cuts:
                members = [self.x[sid, day] for sid in group if (sid, day) in self.x]
                if w == day.weekday() and len(members) == len(group):
                    model.add(sum(members) <= len(group) - 1)

    def _objective(self) -> None:
        inst, model = self.inst, self.model
        points = {s.id: (s.lat, s.lon) for s in inst.stops}
        terms = []
        for day in inst.days:
            here = [s.id for s in inst.stops if (s.id, day) in self.x]
            for i, a in enumerate(here):
                for b in here[i + 1 :]:
                    both = model.new_bool_var("")
                    model.add(both >= self.x[a, day] + self.x[b, day] - 1)
                    terms.append(travel_minutes(inst.van, points[a], points[b]) * both)
        for stop in inst.stops:
            if required_visits(stop, inst.weeks) < 2:
                continue
            weekdays = sorted({d.weekday() for d in inst.allowed[stop.id]})
            pick = {w: model.new_bool_var("") for w in weekdays}
            model.add_exactly_one(pick.values())
            for day in inst.allowed[stop.id]:
                off = model.new_bool_var("")
                model.add(self.x[stop.id, day] <= pick[day.weekday()] + off)
                terms.append(WEEKDAY_PENALTY * off)
        model.minimize(sum(terms) + OVERLOAD_PENALTY * sum(self.overload))

    def solve(self, seconds: float, hint: Hint | None) -> dict[dt.date, list[str]] | None:
        """The days' stops; {} when time ran out before any solution, None when there is none."""
        if hint:
            for (sid, day), var in self.x.items():
                self.model.add_hint(var, day in hint.get(sid, ()))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.5, seconds)
        solver.parameters.num_workers = CP_WORKERS
        status = solver.solve(self.model)
        if status == cp_model.UNKNOWN:
            return {}
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        plan: dict[dt.date, list[str]] = {d: [] for d in self.inst.days}
        for (sid, day), var in self.x.items():
            if solver.value(var):
                plan[day].append(sid)
        return plan


def _route(inst: Instance, day: dt.date, ids: Sequence[str], cache: Cache) -> DayRoute | None:
    key = (day.weekday(), frozenset(ids))
    if key not in cache:
        stops = [s for s in inst.stops if s.id in key[1]]
        if len(stops) <= MAX_EXACT_STOPS:
            cache[key] = solve_day_exact(stops, inst.van, day)
        else:
            cache[key] = route_day(stops, inst.van, day)
    found = cache[key]
    return (
        None
        if found is None
        else DayRoute(day, found.visits, found.leave, found.back, found.break_start)
    )


def _core(inst: Instance, day: dt.date, ids: Sequence[str], cache: Cache) -> frozenset[str]:
    """A smallest-by-deletion set of these stops that still cannot share the day: a strong cut."""
    core = list(ids)
    for sid in list(core):
        if inst.late():
            break
        trial = [k for k in core if k != sid]
        if len(trial) >= 2 and _route(inst, day, trial, cache) is None:
            core = trial
    return frozenset(core)


def _repair(inst: Instance, day: dt.date, ids: list[str], cache: Cache) -> DayRoute:
    """Out of time: build the day up from its shortest visits while it still works; the visits
    left out are missing, and the checker says so."""
    service = {s.id: s.service_minutes for s in inst.stops}
    keep: list[str] = []
    best = DayRoute(day, (), inst.van.day_start, inst.van.day_start, None)
    for sid in sorted(ids, key=lambda k: service[k]):
        found = _route(inst, day, [*keep, sid], cache)
        if found is not None:
            keep.append(sid)
            best = found
    return best


def plan_weeks(
    stops: Sequence[StopSpec],
    van: Van,
    *,
    start: dt.date,
    weeks: int = 4,
    holidays: frozenset[dt.date] = frozenset(),
    time_limit: float = 30.0,
    progress: Progress | None = None,
) -> PlanResult:
    """A checked plan: every stop in its rhythm, each day routed and timed."""
    began = time.perf_counter()
    validate(stops, van, weeks)
    report = progress or (lambda percent, note: None)
    report(2, "Prüfe, welche Tage für jeden Haltepunkt möglich sind")
    inst = prepare(stops, van, start, weeks, holidays)
    # Moves and cuts stop here, so that the final repair and the check fit into the limit
    # (measured: 100 stops, twice what one van can serve, end at 25 s of 30).
    inst.deadline = began + 0.75 * time_limit
    notes: list[str] = []
    routes = _search(inst, began, time_limit, report, notes)
    report(95, "Prüfe den Plan")
    plan = Plan(tuple(routes[d] for d in sorted(routes) if routes[d].visits))
    planned = [s for s in stops if s.id in inst.allowed]
    found = check_plan(plan, planned, van, start=start, weeks=weeks, holidays=holidays)
    report(100, "Fertig")
    seconds = time.perf_counter() - began
    return PlanResult(plan, tuple(found), tuple(inst.unplanned), seconds, tuple(notes))


def _route_all(
    inst: Instance, assignment: dict[dt.date, list[str]], cache: Cache
) -> tuple[dict[dt.date, DayRoute], list[tuple[dt.date, list[str]]]]:
    """Routes every day; a day that fails first tries to hand visits to other days."""
    routes: dict[dt.date, DayRoute] = {}
    for day, ids in assignment.items():
        found = _route(inst, day, ids, cache) if ids else None
        if found is not None:
            routes[day] = found
    failed = []
    for day in sorted(assignment):
        while assignment[day] and day not in routes and not inst.late():
            if not _move(inst, assignment, routes, day, cache):
                break
        if assignment[day] and day not in routes:
            failed.append((day, assignment[day]))
    return routes, failed


def _move(
    inst: Instance,
    assignment: dict[dt.date, list[str]],
    routes: dict[dt.date, DayRoute],
    day: dt.date,
    cache: Cache,
) -> bool:
    """Moves one visit of an overfull day to another day of its block (cheapest insertion)."""
    by_id = {s.id: s for s in inst.stops}
    best: tuple[int, str, dt.date, DayRoute] | None = None
    for sid in assignment[day]:
        if inst.late():
            return False
        stop = by_id[sid]
        rest = [k for k in assignment[day] if k != sid]
        if rest and _route(inst, day, rest, cache) is None:
            continue
        others = [d for d, ids in assignment.items() if sid in ids and d != day]
        for target in inst.allowed[sid]:
            if target == day or sid in assignment[target]:
                continue
            if block_of(stop, inst.start, target) != block_of(stop, inst.start, day):
                continue
            if any(abs((target - o).days) < stop.min_spacing_days for o in others):
                continue
            found = _route(inst, target, [*assignment[target], sid], cache)
            if found is None:
                continue
            before = _driving(inst, routes[target]) if target in routes else 0
            added = _driving(inst, found) - before
            if best is None or added < best[0]:
                best = (added, sid, target, found)
    if best is None:
        return False
    _, sid, target, found = best
    assignment[day].remove(sid)
    assignment[target].append(sid)
    routes[target] = found
    if assignment[day]:
        rest_route = _route(inst, day, assignment[day], cache)
        if rest_route is not None:
            routes[day] = rest_route
    return True


def _driving(inst: Instance, route: DayRoute) -> int:
    where = {s.id: (s.lat, s.lon) for s in inst.stops}
    depot = (inst.van.depot_lat, inst.van.depot_lon)
    path = [depot, *(where[v.stop_id] for v in route.visits), depot]
    return sum(travel_minutes(inst.van, a, b) for a, b in itertools.pairwise(path))


def _search(
    inst: Instance,
    began: float,
    time_limit: float,
    report: Progress,
    notes: list[str],
) -> dict[dt.date, DayRoute]:
    """Level 1 and level 2 in turns; cuts from failed days until all work or time runs out."""
    cache: Cache = {}
    hint: Hint = {}
    last: tuple[dict[dt.date, DayRoute], list[tuple[dt.date, list[str]]]] | None = None
    rounds, budget = 0, FIRST_ROUND_S
    while True:
        rounds += 1
        left = time_limit - (time.perf_counter() - began)
        report(min(90, 5 + 10 * rounds), f"Verteile die Besuche auf die Tage (Runde {rounds})")
        assignment = Assignment(inst).solve(min(budget, 0.3 * left), hint) if inst.stops else {}
        if assignment == {} and inst.stops and left > 3 * budget:
            budget *= 2  # a busy machine: no solution yet, the same model gets more time
            continue
        if inst.stops and not assignment:
            if last is None:
                _give_up(inst, notes)
                return {}
            notes.append("Keine bessere Verteilung mehr gefunden.")
            return _finish(inst, *last, cache, notes)
        assignment = assignment or {}
        budget = LATER_ROUND_S
        hint = {}
        for day, ids in assignment.items():
            for sid in ids:
                hint.setdefault(sid, []).append(day)
        routes, failed = _route_all(inst, assignment, cache)
        if not failed:
            notes.append(f"{rounds} Runde(n), {len(inst.cuts)} Schnitt(e).")
            return routes
        last = (routes, failed)
        if time.perf_counter() - began > 0.7 * time_limit:
            notes.append("Zeit abgelaufen.")
            return _finish(inst, routes, failed, cache, notes)
        for day, ids in failed:
            inst.cuts.append((day.weekday(), _core(inst, day, ids, cache)))


def _finish(
    inst: Instance,
    routes: dict[dt.date, DayRoute],
    failed: list[tuple[dt.date, list[str]]],
    cache: Cache,
    notes: list[str],
) -> dict[dt.date, DayRoute]:
    for day, ids in failed:
        routes[day] = _repair(inst, day, ids, cache)
    notes.append(f"{len(failed)} Tag(e) gekürzt; der Prüfbericht nennt die fehlenden Besuche.")
    return routes


def _give_up(inst: Instance, notes: list[str]) -> None:
    notes.append("Keine Verteilung der Besuche auf die Tage gefunden.")
    reason = N_("Keine Verteilung auf die Tage gefunden (Rhythmus, Abstand, Öffnungszeiten).")
    inst.unplanned.extend((s.id, reason) for s in inst.stops)
    inst.allowed.clear()
    inst.stops = []
