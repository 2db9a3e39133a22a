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
        if found is not None:  # its own radius may lie below the one asked for
            reached = float(_nearest(dist, found).max())
            high, best = min(middle, int(np.searchsorted(radii, reached))), found
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


@dataclass(frozen=True)
class _Known:
    """A solution met on the way, with its true cost and worst distance (points with weight
    > 0), and the largest limit under which it is proven optimal (0: none; inf: the plain
    p-median's optimum)."""

    facilities: np.ndarray
    cost: float
    worst: float
    proven_up_to: float


class _Balancer:
    """Solves the p-median under a series of limits on the worst distance, reusing what it
    learns: a solution optimal under a looser limit that keeps a tighter one is optimal
    there too, and the plain p-median's lower bound makes the penalty for pairs beyond a
    limit just large enough (see `_penalised`)."""

    def __init__(self, checked: Checked, p: int) -> None:
        self.checked, self.p = checked, p
        self.demand = checked.weights > 0
        self.known: list[_Known] = []
        self.lower = 0.0  # proven: no p sites cost less (the plain p-median's bound)

    def add(self, facilities: np.ndarray, proven_up_to: float) -> _Known:
        km = _nearest(self.checked.dist, facilities)
        worst = float(km[self.demand].max())
        known = _Known(np.sort(facilities), float(self.checked.weights @ km), worst, proven_up_to)
        self.known.append(known)
        return known

    def pmedian(self, cost: np.ndarray, time_limit: float | None) -> tuple[np.ndarray, bool, float]:
        result = solve_pmedian(
            cost,
            self.p,
            self.checked.weights,
            fixed_open=self.checked.fixed.tolist(),
            forced_closed=np.flatnonzero(~self.checked.allowed).tolist(),
            time_limit=time_limit,
        )
        return np.array(result.facilities, dtype=np.int64), result.optimal, result.lower_bound

    def plain(self, time_limit: float | None) -> None:
        chosen, optimal, lower = self.pmedian(self.checked.dist, time_limit)
        self.lower = lower
        self.add(chosen, math.inf if optimal else 0.0)

    def within(self, limit: float, time_limit: float | None) -> tuple[_Known, bool]:
        """The best solution whose worst distance keeps within `limit`, and whether it is
        proven optimal among those."""
        keeps = [k for k in self.known if covers(np.array(k.worst), limit)]
        proven = [k for k in keeps if k.proven_up_to >= limit]
        if proven:
            return min(proven, key=lambda k: k.cost), True
        best = min(keeps, key=lambda k: k.cost)  # the p-center solution always keeps
        if best.cost <= self.lower:
            return best, True
        chosen, optimal, _ = self.pmedian(self._penalised(limit, best.cost), time_limit)
        found = self.add(chosen, limit if optimal else 0.0)
        if covers(np.array(found.worst), limit) and found.cost <= best.cost:
            return found, optimal
        return best, False

    def _penalised(self, limit: float, feasible_cost: float) -> np.ndarray:
        """Distances where a pair beyond `limit` costs extra for its point i: pen_i with
        w_i × pen_i > (cost of a solution that keeps) − (lower bound of any solution). A
        solution leaving point i beyond the limit then costs more than one that keeps, so the
        penalised optimum keeps and is the restricted optimum. Per point, the penalty is as
        small as that allows (large ones everywhere slowed the solver down 2×)."""
        dist, weights = self.checked.dist, self.checked.weights
        margin = (feasible_cost - self.lower) * (1.0 + 1e-6) + 1e-9 * max(1.0, feasible_cost)
        penalty = np.divide(margin, weights, out=np.zeros_like(weights), where=weights > 0)
        if np.all(dist == np.round(dist)):  # integral data stay integral: the solver relies on it
            penalty = np.ceil(penalty)
        penalised: np.ndarray = np.where(covers(dist, limit), dist, dist + penalty[:, None])
        return penalised


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
    `optimal` needs both proofs (R* and the restricted p-median). The steps: p-center, the
    plain p-median, then the limits from the loosest down; `time_limit` is shared out among
    them. Raises InvalidProblem."""
    started = time.monotonic()
    checked = check(dist, weights, fixed_open, forced_closed)
    p = check_p(checked, p)
    values = _check_slacks(slacks)
    deadline = deadline_after(time_limit)
    if float(checked.weights.sum()) <= 0:
        raise _zero_demand()
    steps = len(values) + 2

    def share(done: int, label: str) -> float | None:
        if progress is not None:
            progress(Stage(done, steps, label, time.monotonic() - started))
        left = remaining(deadline)
        return None if left is None else left / max(1, steps - done)

    budget = share(0, N_("p-Center: kleinste größte Entfernung"))
    center, center_optimal = _pcenter(checked, p, deadline_after(budget))
    balancer = _Balancer(checked, p)
    radius = balancer.add(center, 0.0).worst
    balancer.plain(share(1, N_("p-Median ohne Grenze")))
    found: dict[float, tuple[_Known, bool]] = {}
    for step, slack in enumerate(sorted(set(values), reverse=True), start=2):
        budget = share(step, N_("Beste mittlere Entfernung bei begrenzter größter Entfernung"))
        found[slack] = balancer.within(radius * (1.0 + slack), budget)
    share(steps, N_("Fertig"))
    total = float(checked.weights.sum())
    return [
        BalancedPoint(
            radius * (1.0 + slack),
            found[slack][0].cost / total,
            found[slack][0].worst,
            tuple(int(f) for f in found[slack][0].facilities),
            found[slack][1] and center_optimal,
            slack,
            found[slack][0].cost,
        )
        for slack in values
    ]
