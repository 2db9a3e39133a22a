"""A day's tour with OR-Tools routing: time windows, service times, depot, ArbZG break.

    route_day(stops, van, day, time_limit=15.0) -> DayRoute | None   # every stop, least travel

One vehicle leaves the depot at van.day_start and must be back by van.day_end. Arc costs are the
travel minutes; the time dimension adds each stop's service time, its windows (several per day
are allowed: the gaps between them are removed from the start's domain) and an optional break
of van.break_minutes that OR-Tools may place during travel or waiting but never during a
service, with at most van.break_after_minutes of work without it (SetBreakDistanceDuration).
Guided local search runs for SOLUTIONS solutions (a budget of work, so the result does not
depend on the machine's load; `time_limit` only caps it); a search that ends without a complete
tour is repeated from another first tour. The order found is polished by a small local search
(relocate runs, 2-opt, swaps) whose candidates are timed by mobile_exact's rules, so the route's
times follow exactly the same rules as the exact solver's (an order that only OR-Tools' looser
view accepts is refused).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from servicepoint.planning.mobile_exact import DayData, day_data, schedule
from servicepoint.planning.mobile_model import DayRoute, StopSpec, Van

DROP_PENALTY = 10_000_000
_FIRST = routing_enums_pb2.FirstSolutionStrategy
# First tours to try in turn; the next one only when a search ends without a complete tour.
FIRST_TOURS = (
    _FIRST.PATH_CHEAPEST_ARC,
    _FIRST.PARALLEL_CHEAPEST_INSERTION,
    _FIRST.LOCAL_CHEAPEST_INSERTION,
)
# Guided local search stops after this many solutions: a budget of work, not of wall-clock time,
# so a busy machine gets the same tours as an idle one (about 0.5–2 s for 12 stops).
SOLUTIONS = 1000
GLS = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH


def route_day(
    stops: Sequence[StopSpec], van: Van, day: dt.date, time_limit: float = 15.0
) -> DayRoute | None:
    """The tour with the least travel found within the time limit, or None."""
    if not stops:
        return DayRoute(day, (), van.day_start, van.day_start, None)
    data = day_data(stops, van, day)
    if any(not windows for windows in data.windows[1:]):
        return None  # a host closed that day
    for strategy in FIRST_TOURS:
        order = _solve(data, time_limit / len(FIRST_TOURS), strategy)
        if order is not None:
            return _polish(data, day, order)
    return None


def _polish(data: DayData, day: dt.date, order: list[int]) -> DayRoute | None:
    """First-improvement local search on the order (move a run of 1–3 stops, reverse a stretch,
    swap two stops), each cheaper candidate timed by the exact rules."""
    best = schedule(data, day, order)
    if best is None:
        return None
    cost = _cost(data, order)
    improved = True
    while improved:
        improved = False
        for candidate in _neighbours(order):
            value = _cost(data, candidate)
            if value < cost and (timed := schedule(data, day, candidate)) is not None:
                order, cost, best, improved = candidate, value, timed, True
                break
    return best


def _cost(data: DayData, order: Sequence[int]) -> int:
    path = [0, *(k + 1 for k in order), 0]
    return sum(data.travel[a][b] for a, b in itertools.pairwise(path))


def _neighbours(order: list[int]) -> Iterator[list[int]]:
    n = len(order)
    for length in (1, 2, 3):
        for i in range(n - length + 1):
            run, rest = order[i : i + length], order[:i] + order[i + length :]
            for j in range(len(rest) + 1):
                if j != i:
                    yield rest[:j] + run + rest[j:]
    for i in range(n - 1):
        for j in range(i + 1, n):
            yield order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
            swapped = list(order)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            yield swapped


def _solve(data: DayData, time_limit: float, strategy: int) -> list[int] | None:
    manager = pywrapcp.RoutingIndexManager(len(data.service), 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    # Matrices, not Python callbacks: the search runs in C++ at full speed.
    travel = [list(row) for row in data.travel]
    transit = [[data.service[i] + leg for leg in row] for i, row in enumerate(data.travel)]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(travel))
    van = data.van
    day_end = van.day_end
    routing.AddDimension(routing.RegisterTransitMatrix(transit), day_end, day_end, False, "time")
    time = routing.GetDimensionOrDie("time")
    time.CumulVar(routing.Start(0)).SetRange(van.day_start, van.day_start)
    time.CumulVar(routing.End(0)).SetRange(van.day_start, van.day_end)
    for node in range(1, len(data.service)):
        _windows(time.CumulVar(manager.NodeToIndex(node)), data, node)
        # Optional at a prohibitive price: a first tour always exists; the search inserts the rest.
        routing.AddDisjunction([manager.NodeToIndex(node)], DROP_PENALTY)
    _break(routing, manager, time, data)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = strategy
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    params.solution_limit = SOLUTIONS
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    order: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index) - 1)
        index = solution.Value(routing.NextVar(index))
    return order if len(order) == len(data.service) - 1 else None


def _windows(cumul: Any, data: DayData, node: int) -> None:
    """The service may start where it also ends inside one window."""
    service = data.service[node]
    starts: list[tuple[int, int]] = []
    for a, b in sorted((a, b - service) for a, b in data.windows[node]):
        if starts and a <= starts[-1][1] + 1:
            starts[-1] = (starts[-1][0], max(starts[-1][1], b))
        else:
            starts.append((a, b))
    cumul.SetRange(starts[0][0], starts[-1][1])
    for (_, end), (begin, _) in itertools.pairwise(starts):
        if begin - 1 >= end + 1:
            cumul.RemoveInterval(end + 1, begin - 1)


def _break(routing: Any, manager: Any, time: Any, data: DayData) -> None:
    van = data.van
    solver = routing.solver()
    pause = solver.FixedDurationIntervalVar(
        van.day_start, van.day_end - van.break_minutes, van.break_minutes, True, "break"
    )
    visits = [data.service[manager.IndexToNode(i)] for i in range(routing.Size())]
    time.SetBreakIntervalsOfVehicle([pause], 0, visits)
    time.SetBreakDistanceDurationOfVehicle(van.break_after_minutes, van.break_minutes, 0)
