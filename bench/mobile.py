"""Mobile ServicePoint: daily tours against the exact optimum, and the 4-week plan for 40 stops.

Targets (issue 17): on 200 random daily instances of up to 12 stops, route_day (OR-Tools
routing) reaches the exact optimum (solve_day_exact, dynamic programming over subsets); the
4-week plan for 40 stops is found in ≤ 30 s with 0 violations by the independent checker.

Instances are synthetic and seeded (not Hannover's real stops): a depot at the centre of a
rectangle of about 15 × 15 km, stops uniform in it, half of them with host windows. Baselines in
the same run: a nearest-neighbour tour (timed by the same rules) for the daily instances, and a
greedy plan (each visit on the least-loaded possible day of its block, days routed exactly,
visits that do not fit dropped) for the 4-week plan.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence

from rich.table import Table

from bench.common import console, percentile
from servicepoint.planning.mobile_check import check_plan
from servicepoint.planning.mobile_exact import schedule_order, solve_day_exact
from servicepoint.planning.mobile_model import (
    DayRoute,
    Plan,
    StopSpec,
    Van,
    block_of,
    public_holidays,
    required_visits,
    travel_minutes,
    workdays,
)
from servicepoint.planning.mobile_periodic import plan_weeks
from servicepoint.planning.mobile_routing import route_day

CENTRE = (52.3745, 9.7386)  # a reference point only; the stops around it are random
DAILY_INSTANCES, DAILY_SEED = 200, 17
PLAN_SEEDS = (1, 2, 3)
PLAN_STOPS, PLAN_LIMIT_S = 40, 30.0
PLAN_START = dt.date(2027, 3, 1)  # four weeks with Good Friday (26 March) in them
MONDAY = dt.date(2027, 3, 1)


def day_instance(rng: random.Random) -> list[StopSpec]:
    """4–12 stops, 10–30 minutes each; half have a 2–4 hour window on Monday."""
    stops = []
    for i in range(rng.randint(4, 12)):
        windows = None
        if rng.random() < 0.5:
            begin = rng.choice([8, 9, 10, 13, 14]) * 60
            windows = {0: ((begin, begin + rng.choice([120, 180, 240])),)}
        lat = CENTRE[0] + rng.uniform(-0.07, 0.07)
        lon = CENTRE[1] + rng.uniform(-0.11, 0.11)
        stops.append(StopSpec(f"d{i}", lat, lon, rng.choice([10, 15, 20, 30]), 1, 0, windows))
    return stops


def plan_instance(seed: int, count: int = PLAN_STOPS) -> list[StopSpec]:
    """A quarter weekly, a quarter two-weekly, half four-weekly; care homes open 9–12 and 14–17,
    libraries 10–18 on three weekdays, district stops any time."""
    rng = random.Random(seed)
    stops = []
    for i in range(count):
        frequency = (1, 2, 4, 4)[i % 4]
        spacing = {1: 4, 2: 10, 4: 0}[frequency]
        kind = rng.random()
        windows: dict[int, tuple[tuple[int, int], ...]] | None = None
        if kind < 0.3:
            windows = {d: ((9 * 60, 12 * 60), (14 * 60, 17 * 60)) for d in range(5)}
        elif kind < 0.5:
            windows = {d: ((10 * 60, 18 * 60),) for d in rng.sample(range(5), 3)}
        lat = CENTRE[0] + rng.uniform(-0.07, 0.07)
        lon = CENTRE[1] + rng.uniform(-0.11, 0.11)
        service = rng.choice([45, 60, 90])
        stops.append(StopSpec(f"h{i:02d}", lat, lon, service, frequency, spacing, windows))
    return stops


def driving(stops: Sequence[StopSpec], van: Van, route: DayRoute) -> int:
    where = {s.id: (s.lat, s.lon) for s in stops}
    depot = (van.depot_lat, van.depot_lon)
    path = [depot, *(where[v.stop_id] for v in route.visits), depot]
    return sum(travel_minutes(van, a, b) for a, b in itertools.pairwise(path))


def nearest_neighbour(stops: Sequence[StopSpec], van: Van, day: dt.date) -> DayRoute | None:
    here, left, order = (van.depot_lat, van.depot_lon), set(range(len(stops))), []
    while left:
        nxt = min(left, key=lambda k: travel_minutes(van, here, (stops[k].lat, stops[k].lon)))
        order.append(nxt)
        left.remove(nxt)
        here = (stops[nxt].lat, stops[nxt].lon)
    return schedule_order(stops, van, day, order)


def _daily() -> bool:
    rng, van = random.Random(DAILY_SEED), Van(*CENTRE)
    same = feasible = nn_found = 0
    t_exact, t_route, nn_gap = [], [], []
    for _ in range(DAILY_INSTANCES):
        stops = day_instance(rng)
        t0 = time.perf_counter()
        exact = solve_day_exact(stops, van, MONDAY)
        t1 = time.perf_counter()
        routed = route_day(stops, van, MONDAY)
        t2 = time.perf_counter()
        t_exact.append(t1 - t0)
        t_route.append(t2 - t1)
        best = None if exact is None else driving(stops, van, exact)
        got = None if routed is None else driving(stops, van, routed)
        same += best == got
        if exact is None:
            continue
        feasible += 1
        nn = nearest_neighbour(stops, van, MONDAY)
        if nn is not None and best:
            nn_found += 1
            nn_gap.append(100.0 * (driving(stops, van, nn) - best) / best)
    table = Table(title=f"daily tours: {DAILY_INSTANCES} random instances of 4–12 stops")
    for column in ("method", "= exact optimum", "median s", "p95 s", "median gap"):
        table.add_column(column)
    table.add_row("exact DP", f"{DAILY_INSTANCES}", *_secs(t_exact), "0 %")
    table.add_row("route_day (OR-Tools)", f"{same}", *_secs(t_route), "")
    nn_median = f"{statistics.median(nn_gap):.1f} %" if nn_gap else "–"
    table.add_row("nearest neighbour", f"{sum(g == 0 for g in nn_gap)}", "", "", nn_median)
    console.print(table)
    console.print(
        f"{feasible} instances feasible; route_day equal to the exact optimum (or both "
        f"infeasible) on {same}/{DAILY_INSTANCES}; nearest neighbour found a feasible tour on "
        f"{nn_found}/{feasible}"
    )
    ok = same == DAILY_INSTANCES
    console.print(f"target all {DAILY_INSTANCES} at the exact optimum: {_verdict(ok)}")
    return ok


def _secs(samples: list[float]) -> tuple[str, str]:
    return f"{statistics.median(samples):.3f}", f"{percentile(samples, 0.95):.3f}"


def greedy_plan(stops: Sequence[StopSpec], van: Van, holidays: frozenset[dt.date]) -> Plan:
    """The baseline: least-loaded possible day per visit, each day routed exactly."""
    days = workdays(van, PLAN_START, 4, holidays)
    load: dict[dt.date, list[StopSpec]] = defaultdict(list)
    for stop in sorted(stops, key=lambda s: s.frequency_weeks):
        taken: list[dt.date] = []
        for block in range(required_visits(stop, 4)):
            options = [
                d
                for d in days
                if block_of(stop, PLAN_START, d) == block
                and all(abs((d - o).days) >= stop.min_spacing_days for o in taken)
                and solve_day_exact([stop], van, d) is not None
            ]
            if options:
                day = min(options, key=lambda d: sum(s.service_minutes for s in load[d]))
                load[day].append(stop)
                taken.append(day)
    routes = []
    for day in sorted(load):
        keep = list(load[day])
        while keep and (route := solve_day_exact(keep, van, day)) is None:
            keep.pop()
        if keep and route is not None:
            routes.append(route)
    return Plan(tuple(routes))


def _weekday_share(plan: Plan) -> float:
    """Share of stops with several visits that keep one weekday."""
    weekdays: dict[str, set[int]] = defaultdict(set)
    visits: dict[str, int] = defaultdict(int)
    for route in plan.days:
        for visit in route.visits:
            weekdays[visit.stop_id].add(route.day.weekday())
            visits[visit.stop_id] += 1
    several = [sid for sid, n in visits.items() if n > 1]
    return sum(len(weekdays[sid]) == 1 for sid in several) / max(1, len(several))


def _plan_row(
    table: Table, name: str, stops: Sequence[StopSpec], van: Van, plan: Plan, s: float
) -> int:
    holidays = public_holidays(PLAN_START, 4)
    found = check_plan(plan, stops, van, start=PLAN_START, weeks=4, holidays=holidays)
    minutes = sum(driving(stops, van, route) for route in plan.days)
    visits = sum(len(route.visits) for route in plan.days)
    share = f"{100 * _weekday_share(plan):.0f} %"
    table.add_row(name, f"{s:.1f}", str(visits), str(len(found)), str(minutes), share)
    return len(found)


def _plans() -> bool:
    van = Van(*CENTRE)
    holidays = public_holidays(PLAN_START, 4)
    table = Table(title=f"4-week plans, {PLAN_STOPS} stops (synthetic, seeded)")
    for column in ("plan", "s", "visits", "violations", "driving min", "same weekday"):
        table.add_column(column)
    ok, seconds = True, []
    for seed in PLAN_SEEDS:
        stops = plan_instance(seed)
        result = plan_weeks(
            stops, van, start=PLAN_START, holidays=holidays, time_limit=PLAN_LIMIT_S
        )
        seconds.append(result.seconds)
        bad = _plan_row(table, f"seed {seed}: plan_weeks", stops, van, result.plan, result.seconds)
        ok = ok and bad == 0 and not result.unplanned and result.seconds <= PLAN_LIMIT_S
        t0 = time.perf_counter()
        baseline = greedy_plan(stops, van, holidays)
        _plan_row(table, f"seed {seed}: greedy", stops, van, baseline, time.perf_counter() - t0)
    console.print(table)
    console.print(f"plan_weeks median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s")
    console.print(f"target <= {PLAN_LIMIT_S:.0f} s with 0 violations: {_verdict(ok)}")
    return ok


def _verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def run() -> bool:
    console.rule("mobile ServicePoint: daily tours vs exact optimum, 4-week plans")
    return all([_daily(), _plans()])
