"""Covering models: the most demand within a radius with p sites (MCLP), and the fewest sites
that bring a share of the demand within a radius (LSCP). Exact MIPs on HiGHS, with a proof flag.

    solve_mclp(dist, weights, p, radius) -> CoverResult
    solve_lscp(dist, radius, share=0.95) -> CoverResult

`dist` is demand points × sites (km); a point counts as covered when an open site lies within
`radius` km. p-center and the balanced model live in planning.center and are re-exported here.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.planning.center import (
    BalancedPoint,
    CenterResult,
    solve_balanced,
    solve_pcenter,
)
from servicepoint.planning.mip import (
    Checked,
    InvalidProblem,
    MipOutcome,
    Model,
    check,
    check_p,
    check_radius,
    covers,
    deadline_after,
    remaining,
    solve_mip,
)

__all__ = [
    "BalancedPoint",
    "CenterResult",
    "CoverResult",
    "InvalidProblem",
    "solve_balanced",
    "solve_lscp",
    "solve_mclp",
    "solve_pcenter",
]


@dataclass(frozen=True)
class CoverResult:
    facilities: tuple[int, ...]  # open sites as columns of `dist`, ascending
    covered_weight: float  # weight of the points within the radius of an open site
    covered_share: float  # covered_weight ÷ total weight
    optimal: bool  # True only when optimality is proven
    seconds: float
    uncovered: tuple[int, ...] = ()  # points (weight > 0) beyond the radius of every open site
    uncoverable: tuple[int, ...] = ()  # points (weight > 0) no allowed site can cover
    bound: float = 0.0  # proven bound: MCLP no more weight than this, LSCP no fewer sites


@dataclass(frozen=True)
class _Cover:
    """The covering structure at one radius, reduced: only sites that may open (columns
    `sites`), and demand points with the same covering sites merged into one pattern."""

    checked: Checked
    radius: float
    total: float  # all weight, the uncoverable points' included
    sites: np.ndarray  # columns of dist that may open
    fixed: np.ndarray  # positions in `sites` that must open
    patterns: np.ndarray  # bool, pattern × site position: the site covers the pattern's points
    weight: np.ndarray  # per pattern: the summed weight of its points
    uncoverable: np.ndarray  # points (weight > 0) no allowed site covers


def _prepare(checked: Checked, radius: float) -> _Cover:
    total = float(checked.weights.sum())
    if total <= 0:
        raise InvalidProblem(N_("Die Nachfrage ist insgesamt null: es gibt nichts zu versorgen."))
    sites = np.flatnonzero(checked.allowed)
    cover = covers(checked.dist[:, sites], radius)
    demand = checked.weights > 0
    reachable = cover.any(axis=1)
    rows = np.flatnonzero(demand & reachable)
    patterns: np.ndarray = np.zeros((0, sites.size), dtype=bool)
    weight: np.ndarray = np.zeros(0)
    if rows.size:
        patterns, inverse = np.unique(cover[rows], axis=0, return_inverse=True)
        weight = np.bincount(inverse.ravel(), weights=checked.weights[rows])
    fixed = np.searchsorted(sites, checked.fixed)
    uncoverable = np.flatnonzero(demand & ~reachable)
    return _Cover(checked, radius, total, sites, fixed, patterns, weight, uncoverable)


def _greedy(cover: _Cover, *, count: int | None = None, target: float | None = None) -> np.ndarray:
    """The fixed sites, then the site covering most uncovered weight, until `count` sites are
    open or `target` weight is covered: a warm start, and the answer if the MIP finds none."""
    chosen = np.zeros(cover.sites.size, dtype=bool)
    chosen[cover.fixed] = True
    covered = cover.patterns[:, chosen].any(axis=1)
    while not chosen.all():
        if count is not None and int(chosen.sum()) >= count:
            break
        if target is not None and float(cover.weight[covered].sum()) >= target:
            break
        gain = cover.weight[~covered] @ cover.patterns[~covered]
        gain[chosen] = -1.0
        site = int(np.argmax(gain))
        chosen[site] = True
        covered |= cover.patterns[:, site]
    return chosen


def _model(cover: _Cover, pattern_cost: np.ndarray | None) -> Model:
    """Columns y (one per site, binary), then, given their costs, z (one per pattern, in
    [0, 1]) with z ≤ Σ y over the pattern's sites."""
    n = cover.sites.size
    k = 0 if pattern_cost is None else pattern_cost.size
    lower = np.zeros(n + k)
    lower[cover.fixed] = 1.0
    costs = np.zeros(n) if pattern_cost is None else np.concatenate([np.zeros(n), pattern_cost])
    model = Model(costs, lower, np.ones(n + k))
    model.integer[:n] = True
    for row in range(k):
        sites = np.flatnonzero(cover.patterns[row])
        values = np.append(1.0, -np.ones(sites.size))
        model.add_row(-math.inf, 0.0, np.append(n + row, sites), values)
    return model


def _start(cover: _Cover, chosen: np.ndarray) -> np.ndarray:
    """The column values (y, z) of a set of open sites."""
    covered = cover.patterns[:, chosen].any(axis=1)
    return np.concatenate([chosen.astype(float), covered.astype(float)])


def _opened(cover: _Cover, outcome: MipOutcome, fallback: np.ndarray) -> np.ndarray:
    if outcome.values is None:
        return fallback
    return outcome.values[: cover.sites.size] > 0.5


def _result(
    cover: _Cover, chosen: np.ndarray, optimal: bool, bound: float, started: float
) -> CoverResult:
    checked = cover.checked
    facilities = cover.sites[chosen]
    covered = covers(checked.dist[:, facilities], cover.radius).any(axis=1)
    weight = float(checked.weights[covered].sum())
    uncovered = np.flatnonzero((checked.weights > 0) & ~covered)
    return CoverResult(
        tuple(int(f) for f in facilities),
        weight,
        weight / cover.total,
        optimal,
        time.monotonic() - started,
        tuple(int(i) for i in uncovered),
        tuple(int(i) for i in cover.uncoverable),
        bound,
    )


def solve_mclp(
    dist: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    p: int,
    radius: float,
    *,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
    time_limit: float | None = None,
) -> CoverResult:
    """Open exactly p sites so that the most weight lies within `radius` of an open site.

    `bound` is a proven upper bound on the covered weight (equal to it when `optimal`).
    Raises InvalidProblem for inconsistent input or a demand of zero."""
    started = time.monotonic()
    checked = check(dist, weights, fixed_open, forced_closed)
    p = check_p(checked, p)
    cover = _prepare(checked, check_radius(radius))
    deadline = deadline_after(time_limit)
    greedy = _greedy(cover, count=p)
    model = _model(cover, cover.weight)
    n = cover.sites.size
    model.add_row(p, p, np.arange(n), np.ones(n))
    outcome = solve_mip(
        model, maximize=True, time_limit=remaining(deadline), start=_start(cover, greedy)
    )
    chosen = _opened(cover, outcome, greedy)
    result = _result(cover, chosen, outcome.optimal, 0.0, started)
    reachable = float(cover.weight.sum())  # no choice covers more
    bound = reachable if not math.isfinite(outcome.bound) else min(outcome.bound, reachable)
    bound = result.covered_weight if outcome.optimal else max(bound, result.covered_weight)
    return dataclasses.replace(result, bound=bound)


def _check_share(share: float) -> float:
    value = float(share)
    if not math.isfinite(value) or not 0 < value <= 1:
        raise InvalidProblem(N_("Der Anteil muss größer als 0 und höchstens 1 sein."))
    return value


def solve_lscp(
    dist: np.ndarray,
    radius: float,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    share: float = 1.0,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
    time_limit: float | None = None,
) -> CoverResult:
    """The fewest sites (fixed ones included) so that at least `share` of the weight lies
    within `radius`. Without weights every point counts once. `bound` is a proven lower bound
    on the number of sites. Raises InvalidProblem when even every allowed site together
    does not reach the share (the result would be a lie), or for inconsistent input."""
    started = time.monotonic()
    checked = check(dist, weights, fixed_open, forced_closed)
    cover = _prepare(checked, check_radius(radius))
    share = _check_share(share)
    # Sums of the same weights in another order differ in the last bits: a hair of slack.
    target = share * cover.total - 1e-9 * cover.total
    reachable = float(cover.weight.sum())
    if reachable < target:
        raise InvalidProblem(
            N_(
                "Auch mit allen möglichen Standorten liegen nur %(reach)s %% der Nachfrage "
                "im Radius, verlangt sind %(share)s %% (%(points)s Punkte sind von jedem "
                "Standort zu weit entfernt)."
            ),
            reach=math.floor(100 * reachable / cover.total),  # whole percent, never overstated
            share=f"{100 * share:g}",
            points=cover.uncoverable.size,
        )
    deadline = deadline_after(time_limit)
    greedy = _greedy(cover, target=target)
    n, k = cover.sites.size, cover.weight.size
    if share >= 1.0:  # every point: one row per pattern, no z needed
        model = _model(cover, None)
        for pattern in cover.patterns:
            model.add_row(1.0, math.inf, np.flatnonzero(pattern), np.ones(int(pattern.sum())))
        start = greedy.astype(float)
    else:
        model = _model(cover, np.zeros(k))
        model.add_row(target, math.inf, n + np.arange(k), cover.weight)
        start = _start(cover, greedy)
    model.costs[:n] = 1.0
    outcome = solve_mip(model, time_limit=remaining(deadline), start=start)
    chosen = _opened(cover, outcome, greedy)
    count = int(chosen.sum())
    bound = max(1, cover.fixed.size)  # the share is > 0: at least one site
    if math.isfinite(outcome.bound):  # none when time ran out before the first LP
        bound = max(bound, math.ceil(outcome.bound - 1e-6))
    bound = count if outcome.optimal else min(count, bound)
    return _result(cover, chosen, outcome.optimal, float(bound), started)
