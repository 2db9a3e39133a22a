"""Daily tours (exact DP, OR-Tools routing) and the multi-week plan, on small instances."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random

import pytest

from servicepoint.planning.mobile_check import check_plan
from servicepoint.planning.mobile_exact import schedule_order, solve_day_exact
from servicepoint.planning.mobile_model import (
    DayRoute,
    Plan,
    StopSpec,
    Van,
    public_holidays,
    travel_minutes,
)
from servicepoint.planning.mobile_periodic import InvalidMobileProblem, plan_weeks
from servicepoint.planning.mobile_routing import route_day

MON = dt.date(2027, 3, 1)
CENTRE = (52.3745, 9.7386)
VAN = Van(*CENTRE)


def driving(stops: list[StopSpec], route: DayRoute) -> int:
    where = {s.id: (s.lat, s.lon) for s in stops}
    path = [CENTRE, *(where[v.stop_id] for v in route.visits), CENTRE]
    return sum(travel_minutes(VAN, a, b) for a, b in itertools.pairwise(path))


def random_day(
    rng: random.Random, count: int, service: tuple[int, ...] = (10, 20, 30)
) -> list[StopSpec]:
    stops = []
    for i in range(count):
        windows = None
        if rng.random() < 0.5:
            begin = rng.choice([8, 9, 10, 13, 14]) * 60
            windows = {0: ((begin, begin + rng.choice([90, 180])),)}
        lat, lon = CENTRE[0] + rng.uniform(-0.06, 0.06), CENTRE[1] + rng.uniform(-0.1, 0.1)
        stops.append(StopSpec(f"s{i}", lat, lon, rng.choice(service), 1, 0, windows))
    return stops


def checked(stops: list[StopSpec], route: DayRoute) -> None:
    """A day is a one-week plan of weekly stops: the independent checker must accept it."""
    assert check_plan(Plan((route,)), stops, VAN, start=MON, weeks=1) == []


def test_exact_equals_brute_force_over_all_orders() -> None:
    rng = random.Random(5)
    for _ in range(25):
        stops = random_day(rng, rng.randint(1, 6))
        best = None
        for order in itertools.permutations(range(len(stops))):
            route = schedule_order(stops, VAN, MON, order)
            if route is not None and (best is None or driving(stops, route) < best):
                best = driving(stops, route)
        exact = solve_day_exact(stops, VAN, MON)
        assert (exact is None) == (best is None)
        if exact is not None:
            assert driving(stops, exact) == best
            checked(stops, exact)


def test_route_day_equals_the_exact_optimum() -> None:
    rng = random.Random(11)
    for _ in range(4):
        stops = random_day(rng, rng.randint(4, 7))
        exact = solve_day_exact(stops, VAN, MON)
        routed = route_day(stops, VAN, MON, time_limit=1.5)
        assert (exact is None) == (routed is None)
        if exact is not None and routed is not None:
            assert driving(stops, routed) == driving(stops, exact)
            checked(stops, routed)


def test_a_long_day_gets_the_arbzg_break() -> None:
    stops = [
        StopSpec(f"s{i}", CENTRE[0] + 0.01 * i, CENTRE[1], 100, 1, 0, None) for i in range(1, 5)
    ]
    for route in (solve_day_exact(stops, VAN, MON), route_day(stops, VAN, MON, 1.5)):
        assert route is not None and route.break_start is not None
        assert route.back - route.leave > VAN.break_after_minutes
        checked(stops, route)


def test_no_tour_when_a_host_is_closed_or_the_day_too_short() -> None:
    closed = [StopSpec("c", CENTRE[0], CENTRE[1] + 0.01, 30, 1, 0, {1: ((540, 720),)})]
    assert solve_day_exact(closed, VAN, MON) is None
    assert route_day(closed, VAN, MON, 0.6) is None
    full = [StopSpec(f"f{i}", CENTRE[0], CENTRE[1] + 0.01 * i, 200, 1, 0, None) for i in range(3)]
    assert solve_day_exact(full, VAN, MON) is None
    assert route_day(full, VAN, MON, 0.6) is None


def test_the_exact_solver_refuses_more_than_twelve_stops() -> None:
    with pytest.raises(ValueError):
        solve_day_exact(random_day(random.Random(1), 13), VAN, MON)


def small_plan_stops() -> list[StopSpec]:
    rng = random.Random(3)
    stops = []
    for i in range(8):
        frequency = (1, 2, 2, 1)[i % 4]
        windows = {d: ((540, 720), (840, 1020)) for d in range(5)} if i % 3 == 0 else None
        lat, lon = CENTRE[0] + rng.uniform(-0.05, 0.05), CENTRE[1] + rng.uniform(-0.08, 0.08)
        stops.append(StopSpec(f"p{i}", lat, lon, 60, frequency, 4, windows))
    return stops


def test_plan_weeks_small_plan_is_valid() -> None:
    notes: list[tuple[int, str]] = []
    stops = small_plan_stops()
    result = plan_weeks(
        stops, VAN, start=MON, weeks=2, time_limit=10, progress=lambda p, n: notes.append((p, n))
    )
    assert result.violations == () and result.unplanned == ()
    assert check_plan(result.plan, stops, VAN, start=MON, weeks=2) == []
    assert sum(len(d.visits) for d in result.plan.days) == 4 * 2 + 4 * 1
    assert notes[-1][0] == 100 and [p for p, _ in notes] == sorted(p for p, _ in notes)


def test_plan_weeks_skips_public_holidays() -> None:
    start = dt.date(2027, 3, 22)  # Good Friday 26 March and Easter Monday 29 March
    holidays = public_holidays(start, 2)
    assert {dt.date(2027, 3, 26), dt.date(2027, 3, 29)} <= holidays
    stops = small_plan_stops()
    result = plan_weeks(stops, VAN, start=start, weeks=2, holidays=holidays, time_limit=10)
    assert result.violations == () and result.unplanned == ()
    assert not {d.day for d in result.plan.days} & holidays


def test_plan_weeks_reports_a_stop_that_cannot_be_planned() -> None:
    stops = [s for s in small_plan_stops() if s.frequency_weeks == 1]
    # Open only on Mondays, and the only Monday of the horizon is a holiday.
    stuck = StopSpec("stuck", CENTRE[0], CENTRE[1] + 0.02, 60, 1, 0, {0: ((540, 720),)})
    tiny = StopSpec("tiny", CENTRE[0], CENTRE[1] - 0.02, 90, 1, 0, {2: ((540, 600),)})
    result = plan_weeks(
        [*stops, stuck, tiny], VAN, start=MON, weeks=1, holidays=frozenset({MON}), time_limit=10
    )
    assert {sid for sid, _ in result.unplanned} == {"stuck", "tiny"}
    assert all(reason for _, reason in result.unplanned)
    assert result.violations == ()


def test_plan_weeks_rhythm_longer_than_the_horizon_is_unplanned() -> None:
    stop = StopSpec("four", CENTRE[0], CENTRE[1] + 0.02, 60, 4, 0, None)
    result = plan_weeks([stop], VAN, start=MON, weeks=2, time_limit=5)
    assert [sid for sid, _ in result.unplanned] == ["four"] and result.plan.days == ()


@pytest.mark.parametrize(
    ("stops", "van", "weeks"),
    [
        ([StopSpec("x", *CENTRE, 60, frequency_weeks=3)], VAN, 4),
        ([StopSpec("x", *CENTRE, 0)], VAN, 4),
        ([StopSpec("x", *CENTRE, 60), StopSpec("x", *CENTRE, 60)], VAN, 4),
        ([StopSpec("x", *CENTRE, 60)], VAN, 0),
        ([StopSpec("x", *CENTRE, 60)], dataclasses.replace(VAN, day_end=VAN.day_start), 4),
    ],
)
def test_plan_weeks_refuses_bad_input(stops: list[StopSpec], van: Van, weeks: int) -> None:
    with pytest.raises(InvalidMobileProblem) as caught:
        plan_weeks(stops, van, start=MON, weeks=weeks, time_limit=5)
    assert caught.value.status_code == 422
