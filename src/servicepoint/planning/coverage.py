"""Covering models: the most demand within a radius with p sites (MCLP), and the fewest sites
that bring a share of the demand within a radius (LSCP). Exact MIPs on HiGHS, with a proof flag.

    solve_mclp(dist, weights, p, radius) -> CoverResult
    solve_lscp(dist, radius, share=0.95) -> CoverResult

`dist` is demand points × sites (km); a point counts as covered when an open site lies within
`radius` km. p-center and the balanced model live in planning.center and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.planning.center import (
    BalancedPoint,
    CenterResult,
    solve_balanced,
    solve_pcenter,
)
from servicepoint.planning.mip import InvalidProblem

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
    """Open exactly p sites so that the most weight lies within `radius` of an open site."""
    raise NotImplementedError


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
    within `radius`. Raises InvalidProblem when no choice reaches the share."""
    raise NotImplementedError
