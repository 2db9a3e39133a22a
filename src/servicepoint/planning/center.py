"""p-center (the smallest radius within which p sites reach every point) and the balanced model
(mean and worst case both count): exact, on HiGHS and the Benders p-median.

    solve_pcenter(dist, p) -> CenterResult(facilities, radius, optimal, seconds)
    solve_balanced(dist, weights, p) -> [BalancedPoint(max_km_allowed, mean_km, max_km, …)]
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.planning.mip import (
    Checked,
    InvalidProblem,
    Model,
    Stage,
    StageFn,
    check,
    check_p,
    covers,
    deadline_after,
    remaining,
    solve_mip,
)
from servicepoint.planning.solver import solve_pmedian


@dataclass(frozen=True)
class CenterResult:
    facilities: tuple[int, ...]  # exactly p open sites, columns of `dist`, ascending
    radius: float  # max distance of a point (weight > 0) to its nearest open site
    optimal: bool  # True only when no p sites reach everyone within a smaller radius
    seconds: float


@dataclass(frozen=True)
class BalancedPoint:
    max_km_allowed: float  # R* × (1 + slack): no point may be assigned farther
    mean_km: float  # weighted mean distance to the nearest open site
    max_km: float  # the farthest point's (weight > 0) distance
    facilities: tuple[int, ...]
    optimal: bool  # the p-median within the limit is proven optimal (and R* too)
    slack: float = 0.0
    objective: float = 0.0  # Σ weight × distance


def _nearest(dist: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    nearest: np.ndarray = dist[:, chosen].min(axis=1)
    return nearest


def _farthest_first(dist: np.ndarray, p: int, fixed: np.ndarray) -> np.ndarray:
    """A p-center start (Gonzalez-style): the fixed sites, or else the best single site, then
    again and again the site nearest to the worst-served point. `dist` holds only demand rows
    and allowed columns; returns a bool mask of open columns."""
    chosen = np.zeros(dist.shape[1], dtype=bool)
    chosen[fixed] = True
    if not chosen.any():
        chosen[int(np.argmin(dist.max(axis=0)))] = True
    while int(chosen.sum()) < p:
        worst = int(np.argmax(_nearest(dist, chosen)))
        row = np.where(chosen, np.inf, dist[worst])
        chosen[int(np.argmin(row))] = True
    return chosen


def _cover_within(
    dist: np.ndarray, radius: float, p: int, fixed: np.ndarray, time_limit: float | None
) -> tuple[np.ndarray | None, bool]:
    """At most p sites (the fixed ones among them) within `radius` of every row: (open
    columns or None, proven) — proven means the answer is certain, found or not."""
    cover = np.unique(covers(dist, radius), axis=0)
    n = dist.shape[1]
    chosen = np.zeros(n, dtype=bool)
    chosen[fixed] = True
    while not cover[:, chosen].any(axis=1).all() and int(chosen.sum()) < p:
        missing = ~cover[:, chosen].any(axis=1)
        gains = missing.astype(np.int64) @ cover.astype(np.int64)
        gains[chosen] = -1
        chosen[int(np.argmax(gains))] = True
    if cover[:, chosen].any(axis=1).all():  # the greedy cover needs no proof
        return chosen, True
    lower = np.zeros(n)
    lower[fixed] = 1.0
    model = Model(np.zeros(n), lower, np.ones(n))  # any feasible choice will do
    model.integer[:] = True
    model.add_row(-math.inf, p, np.arange(n), np.ones(n))
    for pattern in cover:
        model.add_row(1.0, math.inf, np.flatnonzero(pattern), np.ones(int(pattern.sum())))
    outcome = solve_mip(model, time_limit=time_limit)
    if outcome.values is not None:
        return outcome.values > 0.5, True
    return None, outcome.infeasible


def _fill(dist: np.ndarray, weights: np.ndarray, chosen: np.ndarray, p: int) -> np.ndarray:
    """Adds sites, the one that most shortens the weighted distances first, until p are open
    (more sites never lengthen a distance, so the radius holds)."""
    chosen = chosen.copy()
    while int(chosen.sum()) < p:
        nearest = _nearest(dist, chosen)
        saving = weights @ np.maximum(nearest[:, None] - dist, 0.0)
        saving[chosen] = -1.0
        chosen[int(np.argmax(saving))] = True
    return chosen


def _zero_demand() -> InvalidProblem:
    return InvalidProblem(N_("Die Nachfrage ist insgesamt null: es gibt nichts zu versorgen."))


def _pcenter(checked: Checked, p: int, deadline: float | None) -> tuple[np.ndarray, bool]:
    """(open columns of dist, optimal) by bisection over the distinct distances, each step
    a set-cover feasibility check."""
    demand = np.flatnonzero(checked.weights > 0)
    if demand.size == 0:
        raise _zero_demand()
    sites = np.flatnonzero(checked.allowed)
    dist = checked.dist[np.ix_(demand, sites)]
    fixed = np.searchsorted(sites, checked.fixed)
    best = _farthest_first(dist, p, fixed)
    floor = float(dist.min(axis=1).max())  # every point's nearest site: no radius is smaller
    radii = np.unique(dist)
    radii = radii[(radii >= floor) & (radii <= float(_nearest(dist, best).max()))]
    low, high, optimal = 0, radii.size - 1, True  # radii[high] is known to be feasible
    while low < high:
        middle = (low + high) // 2
        found, proven = _cover_within(dist, float(radii[middle]), p, fixed, remaining(deadline))
        if found is not None:
            high, best = middle, found
        else:
            low, optimal = middle + 1, optimal and proven
    best = _fill(dist, checked.weights[demand], best, p)
    return sites[best], optimal


def solve_pcenter(
    dist: np.ndarray,
    p: int,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
    time_limit: float | None = None,
) -> CenterResult:
    """Open p sites minimising the largest distance of any point with weight > 0 (weights
    only say which points count, and break ties: sites beyond those the radius needs are
    added where they shorten the weighted distances most). The radius stays in km.

    Exact: bisection over the distinct distances with a set-cover MIP (HiGHS) per step;
    `optimal` is False only when `time_limit` cut a step short. Raises InvalidProblem."""
    started = time.monotonic()
    checked = check(dist, weights, fixed_open, forced_closed)
    p = check_p(checked, p)
    deadline = deadline_after(time_limit)
    facilities, optimal = _pcenter(checked, p, deadline)
    demand = checked.weights > 0
    radius = float(_nearest(checked.dist[demand], facilities).max())
    return CenterResult(
        tuple(int(f) for f in facilities), radius, optimal, time.monotonic() - started
    )


def _check_slacks(slacks: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(s) for s in slacks)
    if not values or len(values) > 20 or not all(math.isfinite(s) and s >= 0 for s in values):
        raise InvalidProblem(
            N_("Es braucht 1 bis 20 Spielräume, jeder eine Zahl ≥ 0 (z. B. 0,1 für 10 %%).")
        )
    return values


def _within_limit(
    checked: Checked, p: int, limit: float, center: np.ndarray, time_limit: float | None
) -> tuple[np.ndarray, bool]:
    """The p-median among solutions that assign no point (weight > 0) beyond `limit`: the
    exact solver on distances where every pair beyond the limit costs `big`. Once the answer
    keeps within the limit it is optimal for the restricted problem too; a `big` above the
    p-center solution's cost ÷ the smallest weight guarantees that (`center` keeps within)."""
    dist, weights = checked.dist, checked.weights
    demand = weights > 0
    within = covers(dist, limit)
    center_cost = float(weights @ dist[:, center].min(axis=1))
    integral = bool(np.all(dist == np.round(dist)))
    rounds = (2.0 * float(dist.max()) + 1.0, center_cost / float(weights[demand].min()) + 1.0)
    best, optimal = center, False
    for big in rounds:
        cost = np.where(within, dist, math.ceil(big) if integral else big)
        result = solve_pmedian(
            cost,
            p,
            weights,
            fixed_open=checked.fixed.tolist(),
            forced_closed=np.flatnonzero(~checked.allowed).tolist(),
            time_limit=time_limit,
        )
        chosen = np.array(result.facilities, dtype=np.int64)
        keeps = bool(np.all(within[demand][:, chosen].any(axis=1)))
        if keeps:
            if float(weights @ dist[:, chosen].min(axis=1)) <= center_cost:
                best = chosen
            optimal = result.optimal
            break
    return best, optimal


def solve_balanced(
    dist: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    p: int,
    *,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
    slacks: Sequence[float] = (0.0, 0.1, 0.25, 0.5),
    time_limit: float | None = None,
    progress: StageFn | None = None,
) -> list[BalancedPoint]:
    """One point per slack: the p-median among solutions whose worst distance (points with
    weight > 0) stays within R* × (1 + slack), R* being the p-center radius. Slack 0 is the
    best mean at the smallest possible worst case; larger slacks trade worst case for mean.
    `optimal` needs both proofs (R* and the restricted p-median). Raises InvalidProblem."""
    started = time.monotonic()
    checked = check(dist, weights, fixed_open, forced_closed)
    p = check_p(checked, p)
    values = _check_slacks(slacks)
    deadline = deadline_after(time_limit)
    total = float(checked.weights.sum())
    if total <= 0:
        raise _zero_demand()

    def report(done: int, label: str) -> None:
        if progress is not None:
            progress(Stage(done, len(values) + 1, label, time.monotonic() - started))

    report(0, N_("p-Center: kleinste größte Entfernung"))
    center, center_optimal = _pcenter(checked, p, deadline)
    demand = checked.weights > 0
    radius = float(_nearest(checked.dist[demand], center).max())
    points = []
    for step, slack in enumerate(values, start=1):
        report(step, N_("Beste mittlere Entfernung bei begrenzter größter Entfernung"))
        limit = radius * (1.0 + slack)
        chosen, optimal = _within_limit(checked, p, limit, center, remaining(deadline))
        km = _nearest(checked.dist, chosen)
        objective = float(checked.weights @ km)
        points.append(
            BalancedPoint(
                limit,
                objective / total,
                float(km[demand].max()),
                tuple(int(f) for f in np.sort(chosen)),
                optimal and center_optimal,
                slack,
                objective,
            )
        )
    report(len(values) + 1, N_("Fertig"))
    return points
