"""Exact daily tour: dynamic programming over subsets with time windows and the ArbZG break.

    solve_day_exact(stops, van, day) -> DayRoute | None   # every stop served, least travel

The van leaves the depot at van.day_start (the staff's duty begins then) and serves every stop
once inside one of its windows. A label (cost, time, segment start) lives at (subset, last stop,
break taken); time is the end of the last service and the segment start is when the current
stretch of work began (the departure, or the end of the break). Earlier and cheaper labels
dominate; with the break taken, a later segment start dominates too. The break goes into one gap
between services, as late as the 6-hour limit and the next service allow. This is the bench's
oracle for route_day (≤ 12 stops); `schedule_order` times one given order with the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from servicepoint.planning.mobile_model import (
    LONG_BREAK_MINUTES,
    LONG_WORK_MINUTES,
    DayRoute,
    StopSpec,
    Van,
    Visit,
    Window,
    stop_windows,
    travel_minutes,
)

MAX_EXACT_STOPS = 12


@dataclass(frozen=True)
class Label:
    cost: int
    time: int  # end of the last service (departure time at the depot)
    seg: int  # start of the current stretch of work
    brk: int | None  # break start, if taken
    node: int  # 0 = depot, 1… = stops
    parent: Label | None
    arrive: int
    start: int


@dataclass(frozen=True)
class DayData:
    """One day's instance in index form: node 0 is the depot."""

    van: Van
    ids: tuple[str, ...]  # stop ids by node - 1
    service: tuple[int, ...]  # by node (depot 0)
    windows: tuple[tuple[Window, ...], ...]  # by node
    travel: tuple[tuple[int, ...], ...]  # node × node minutes


def day_data(stops: Sequence[StopSpec], van: Van, day: dt.date) -> DayData:
    points = [(van.depot_lat, van.depot_lon)] + [(s.lat, s.lon) for s in stops]
    travel = tuple(tuple(travel_minutes(van, a, b) for b in points) for a in points)
    windows = ((), *(stop_windows(s, van, day.weekday()) for s in stops))
    service = (0, *(s.service_minutes for s in stops))
    return DayData(van, tuple(s.id for s in stops), service, windows, travel)


def _first_start(windows: tuple[Window, ...], ready: int, service: int) -> int | None:
    for a, b in windows:
        begin = max(ready, a)
        if begin + service <= b:
            return begin
    return None


def extend(data: DayData, label: Label, node: int, with_break: bool) -> Label | None:
    """Go from the label's node to `node` (a stop), optionally breaking in this gap."""
    van, leg = data.van, data.travel[label.node][node]
    service = data.service[node]
    pause = van.break_minutes if with_break else 0
    start = _first_start(data.windows[node], label.time + leg + pause, service)
    if start is None:
        return None
    seg, brk, arrive = label.seg, label.brk, label.time + leg
    if with_break:
        brk = min(start - pause, van.day_start + van.break_after_minutes)
        if brk < label.time:
            return None
        seg = brk + pause
        arrive = label.time + leg + (pause if brk < label.time + leg else 0)
    if start + service - seg > van.break_after_minutes:
        return None
    cost = label.cost + leg
    return Label(cost, start + service, seg, brk, node, label, arrive, start)


def close(data: DayData, label: Label, with_break: bool) -> Label | None:
    """Back to the depot; checks the day's end and the work limits."""
    van = data.van
    pause = van.break_minutes if with_break else 0
    back = label.time + data.travel[label.node][0] + pause
    seg, brk = label.seg, label.brk
    if with_break:
        brk = min(back - pause, van.day_start + van.break_after_minutes)
        if brk < label.time:
            return None
        seg = brk + pause
    taken = van.break_minutes if brk is not None else 0
    work = back - van.day_start - taken
    too_long = work > LONG_WORK_MINUTES and taken < LONG_BREAK_MINUTES
    if back > van.day_end or back - seg > van.break_after_minutes or too_long:
        return None
    if work > van.max_work_minutes:
        return None
    cost = label.cost + data.travel[label.node][0]
    return Label(cost, back, seg, brk, 0, label, back, back)


def _dominates(a: Label, b: Label) -> bool:
    # A label that still owes its break is never compared with one that took it.
    same = (a.brk is None) == (b.brk is None)
    return same and a.cost <= b.cost and a.time <= b.time and a.seg >= b.seg


def _add(front: list[Label], new: Label) -> None:
    if any(_dominates(old, new) for old in front):
        return
    front[:] = [old for old in front if not _dominates(new, old)]
    front.append(new)


def _route(data: DayData, day: dt.date, final: Label) -> DayRoute:
    visits: list[Visit] = []
    node: Label | None = final.parent
    while node is not None and node.parent is not None:
        visits.append(Visit(data.ids[node.node - 1], node.arrive, node.start, node.time))
        node = node.parent
    visits.reverse()
    return DayRoute(day, tuple(visits), data.van.day_start, final.time, final.brk)


def _root(data: DayData) -> Label:
    t0 = data.van.day_start
    return Label(0, t0, t0, None, 0, None, t0, t0)


def _best_close(data: DayData, labels: Sequence[Label]) -> Label | None:
    best: Label | None = None
    for label in labels:
        for with_break in (False, True) if label.brk is None else (False,):
            done = close(data, label, with_break)
            if done is not None and (best is None or done.cost < best.cost):
                best = done
    return best


def solve_day_exact(stops: Sequence[StopSpec], van: Van, day: dt.date) -> DayRoute | None:
    """The tour with the least travel that serves every stop, or None when none is feasible."""
    if len(stops) > MAX_EXACT_STOPS:
        raise ValueError(f"exact tours take at most {MAX_EXACT_STOPS} stops")
    data = day_data(stops, van, day)
    if not stops:
        return DayRoute(day, (), van.day_start, van.day_start, None)
    n = len(stops)
    fronts: dict[tuple[int, int, bool], list[Label]] = {}
    root = _root(data)
    for node in range(1, n + 1):
        _expand(data, fronts, 1 << (node - 1), root, node)
    for mask in range(1, 1 << n):
        for last in range(1, n + 1):
            for flag in (False, True):
                for label in fronts.get((mask, last, flag), ()):
                    for node in range(1, n + 1):
                        if not mask & (1 << (node - 1)):
                            _expand(data, fronts, mask | (1 << (node - 1)), label, node)
    full = (1 << n) - 1
    finals = [
        lab for k in range(1, n + 1) for f in (False, True) for lab in fronts.get((full, k, f), ())
    ]
    best = _best_close(data, finals)
    return None if best is None else _route(data, day, best)


def _expand(
    data: DayData,
    fronts: dict[tuple[int, int, bool], list[Label]],
    mask: int,
    label: Label,
    node: int,
) -> None:
    for with_break in (False, True) if label.brk is None else (False,):
        new = extend(data, label, node, with_break)
        if new is not None:
            _add(fronts.setdefault((mask, node, new.brk is not None), []), new)


def schedule_order(
    stops: Sequence[StopSpec], van: Van, day: dt.date, order: Sequence[int]
) -> DayRoute | None:
    """Times a given order of `stops` (indices) with the same rules, or None if it cannot work."""
    return schedule(day_data(stops, van, day), day, order)


def schedule(data: DayData, day: dt.date, order: Sequence[int]) -> DayRoute | None:
    """schedule_order on prepared day data."""
    front = [_root(data)]
    for index in order:
        nxt: list[Label] = []
        for label in front:
            for with_break in (False, True) if label.brk is None else (False,):
                new = extend(data, label, index + 1, with_break)
                if new is not None:
                    _add(nxt, new)
        front = nxt
    best = _best_close(data, front)
    return None if best is None else _route(data, day, best)
