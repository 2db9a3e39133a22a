"""How well a network of sites serves the demand, what changes between two networks, and the
trade-off curve of the best k sites.

    evaluate(dist, weights, open_sites) -> NetworkMetrics
    compare(before, after) -> Changes(gains, losses)
    tradeoff(dist, weights, ks=range(5, 13)) -> [TradeoffPoint]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.planning.mip import StageFn


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


def evaluate(
    dist: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    open_sites: Sequence[int],
    *,
    radii: Sequence[float] = (1.0, 2.0, 3.0),
    worst: int = 10,
) -> NetworkMetrics:
    """Metrics of the network `open_sites` (columns of `dist`) for the demand `weights`."""
    raise NotImplementedError


def compare(
    before: NetworkMetrics, after: NetworkMetrics, *, threshold_km: float = 0.05
) -> Changes:
    """Points whose distance changes by more than `threshold_km`."""
    raise NotImplementedError


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
    """The exact p-median for each k (solve_pmedian): objective, mean and max distance."""
    raise NotImplementedError
