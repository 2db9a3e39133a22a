"""How well a network of sites serves the demand, what changes between two networks, and the
trade-off curve of the best k sites.

    evaluate(dist, weights, open_sites) -> NetworkMetrics
    compare(before, after) -> Changes(gains, losses)
    tradeoff(dist, weights, ks=range(5, 13)) -> [TradeoffPoint]
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.planning.mip import (
    InvalidProblem,
    Stage,
    StageFn,
    check,
    check_p,
    check_radius,
    covers,
    deadline_after,
    remaining,
    site_columns,
)
from servicepoint.planning.solver import solve_pmedian


@dataclass(frozen=True)
class NetworkMetrics:
    mean_km: float  # weighted mean distance to the nearest open site
    p95_km: float  # weighted 95th percentile: 95 % of the weight lies at most this far
    max_km: float  # farthest point with weight > 0
    within: dict[float, float]  # radius km → share of the weight within it
    assignment: tuple[int, ...]  # per point: the column of its nearest open site
    km: tuple[float, ...]  # per point: its distance to that site
    worst: tuple[int, ...]  # the farthest points (weight > 0), farthest first


@dataclass(frozen=True)
class Change:
    point: int  # row of `dist`
    before_km: float
    after_km: float


@dataclass(frozen=True)
class Changes:
    gains: tuple[Change, ...]  # points now nearer by more than the threshold, largest gain first
    losses: tuple[Change, ...]  # points now farther, largest loss first


@dataclass(frozen=True)
class TradeoffPoint:
    k: int
    objective: float  # Σ weight × distance
    mean_km: float
    max_km: float
    facilities: tuple[int, ...]
    optimal: bool
    lower_bound: float = 0.0
    seconds: float = 0.0


_P95 = 0.95
_MAX_WORST = 10_000


def _total(weights: np.ndarray) -> float:
    total = float(weights.sum())
    if total <= 0:
        raise InvalidProblem(N_("Die Nachfrage ist insgesamt null: es gibt nichts zu versorgen."))
    return total


def weighted_quantile(km: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest distance d such that at least the share q of the weight lies within d
    (the lower weighted quantile: always one of the points' distances, never interpolated)."""
    order = np.argsort(km, kind="stable")
    cumulative = np.cumsum(weights[order])
    total = float(cumulative[-1])
    # Sums in another order differ in the last bits: a hair of slack below the target.
    position = int(np.searchsorted(cumulative, q * total - 1e-12 * total, side="left"))
    return float(km[order][min(position, km.size - 1)])


def evaluate(
    dist: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    open_sites: Sequence[int],
    *,
    radii: Sequence[float] = (1.0, 2.0, 3.0),
    worst: int = 10,
) -> NetworkMetrics:
    """Metrics of the network `open_sites` (columns of `dist`) for the demand `weights`: every
    point goes to its nearest open site. Mean, 95th percentile and shares are by weight; max and
    the worst list only count points with weight > 0 (ties: heavier first, then by row).
    Raises InvalidProblem for bad input, no open site or a demand of zero."""
    checked = check(dist, weights)
    sites = site_columns(open_sites, checked.dist.shape[1], "open_sites")
    if sites.size == 0:
        raise InvalidProblem(N_("Es ist kein Standort geöffnet."))
    bounds = tuple(check_radius(r) for r in radii)
    if (
        isinstance(worst, bool)
        or not isinstance(worst, int | np.integer)
        or not 0 <= worst <= _MAX_WORST
    ):
        raise InvalidProblem(
            N_("Die Zahl der schlechtesten Punkte muss zwischen 0 und %(max)s liegen."),
            max=_MAX_WORST,
        )
    w = checked.weights
    total = _total(w)
    block = checked.dist[:, sites]
    nearest = block.argmin(axis=1)
    km = block[np.arange(block.shape[0]), nearest]
    demand = np.flatnonzero(w > 0)
    order = np.lexsort((demand, -w[demand], -km[demand]))
    return NetworkMetrics(
        float(w @ km) / total,
        weighted_quantile(km, w, _P95),
        float(km[demand].max()),
        {r: float(w[covers(km, r)].sum()) / total for r in bounds},
        tuple(int(sites[j]) for j in nearest),
        tuple(float(x) for x in km),
        tuple(int(i) for i in demand[order][:worst]),
    )


def compare(
    before: NetworkMetrics, after: NetworkMetrics, *, threshold_km: float = 0.05
) -> Changes:
    """Points whose distance changes by more than `threshold_km`: gains (now nearer) and
    losses (now farther), each the largest change first (ties by row)."""
    threshold = float(threshold_km)
    if not math.isfinite(threshold) or threshold < 0:
        raise InvalidProblem(N_("Die Schwelle muss eine Zahl ≥ 0 sein."))
    if len(before.km) != len(after.km):
        raise InvalidProblem(N_("Die beiden Netze haben verschieden viele Nachfragepunkte."))
    old, new = np.array(before.km, dtype=float), np.array(after.km, dtype=float)
    delta = new - old

    def changes(rows: np.ndarray) -> tuple[Change, ...]:
        ordered = rows[np.lexsort((rows, -np.abs(delta[rows])))]
        return tuple(Change(int(i), float(old[i]), float(new[i])) for i in ordered)

    return Changes(
        changes(np.flatnonzero(delta < -threshold)), changes(np.flatnonzero(delta > threshold))
    )


def _ks(checked_ks: Iterable[int]) -> list[int]:
    values = sorted(set(checked_ks))
    if not values or len(values) > 100:
        raise InvalidProblem(N_("Es braucht 1 bis 100 Werte für k."))
    return values


def tradeoff(
    dist: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    ks: Iterable[int] = range(5, 13),
    *,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
    time_limit: float | None = None,
    progress: StageFn | None = None,
) -> list[TradeoffPoint]:
    """The exact p-median (solve_pmedian) for each k, ascending: objective, mean and max
    distance. `time_limit` is shared out: each k gets an equal part of what is left. Every k
    must be possible (≥ the fixed sites, ≤ the sites not closed), else InvalidProblem."""
    started = time.monotonic()
    checked = check(dist, weights, fixed_open, forced_closed)
    values = [check_p(checked, k) for k in _ks(ks)]
    total = _total(checked.weights)
    deadline = deadline_after(time_limit)
    closed = np.flatnonzero(~checked.allowed).tolist()
    demand = checked.weights > 0
    points = []
    for step, k in enumerate(values):
        if progress is not None:
            label = N_("Beste Standorte für jede Anzahl k")
            progress(Stage(step, len(values), label, time.monotonic() - started))
        left = remaining(deadline)
        share = None if left is None else left / (len(values) - step)
        result = solve_pmedian(
            checked.dist,
            k,
            checked.weights,
            fixed_open=checked.fixed.tolist(),
            forced_closed=closed,
            time_limit=share,
        )
        km = checked.dist[:, list(result.facilities)].min(axis=1)
        points.append(
            TradeoffPoint(
                k,
                result.objective,
                result.objective / total,
                float(km[demand].max()),
                result.facilities,
                result.optimal,
                result.lower_bound,
                result.seconds,
            )
        )
    if progress is not None:
        progress(Stage(len(values), len(values), N_("Fertig"), time.monotonic() - started))
    return points
