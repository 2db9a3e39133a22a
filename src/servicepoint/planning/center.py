"""p-center (the smallest radius within which p sites reach every point) and the balanced model
(mean and worst case both count): exact, on HiGHS and the Benders p-median.

    solve_pcenter(dist, p) -> CenterResult(facilities, radius, optimal, seconds)
    solve_balanced(dist, weights, p) -> [BalancedPoint(max_km_allowed, mean_km, max_km, …)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.planning.mip import StageFn


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
    only say which points count; the radius stays in km)."""
    raise NotImplementedError


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
    """One point per slack: the p-median among solutions whose worst distance stays within
    R* × (1 + slack), R* being the p-center radius."""
    raise NotImplementedError
