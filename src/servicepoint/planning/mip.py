"""Shared pieces of the coverage, center and evaluation models: input checks, a progress
record for multi-step runs, and one small MIP runner on HiGHS (highspy)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.planning.master import INF, new_highs
from servicepoint.planning.solver import (
    InvalidProblem,
    _check_matrix,
    _check_weights,
    _sites,
)

__all__ = [
    "Checked",
    "InvalidProblem",
    "MipOutcome",
    "Stage",
    "StageFn",
    "check",
    "check_radius",
    "covers",
    "solve_mip",
]

# A point counts as within r km when its distance is ≤ r plus this relative slack: distances
# computed in floating point (great circle × detour) should not miss a radius by rounding.
_RADIUS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Stage:
    """Progress of a run made of several solves (trade-off curve, balanced points):
    `done` of `total` steps are finished; `label` names the step now running."""

    done: int
    total: int
    label: str
    seconds: float


StageFn = Callable[[Stage], None]


@dataclass(frozen=True)
class Checked:
    dist: np.ndarray  # points × sites, finite, ≥ 0
    weights: np.ndarray  # one finite weight ≥ 0 per point
    fixed: np.ndarray  # sorted site columns that must open
    allowed: np.ndarray  # bool per site: not forced closed


def check(
    dist: np.ndarray,
    weights: Sequence[float] | np.ndarray | None,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
) -> Checked:
    """Validated inputs; raises InvalidProblem for a bad matrix, weights or site lists."""
    matrix = _check_matrix(dist)
    m, n = matrix.shape
    w = _check_weights(weights, m)
    fixed = _sites(fixed_open, n, "fixed_open")
    closed = _sites(forced_closed, n, "forced_closed")
    if np.intersect1d(fixed, closed).size:
        raise InvalidProblem(N_("Ein Standort kann nicht zugleich gesetzt und geschlossen sein."))
    allowed = np.ones(n, dtype=bool)
    allowed[closed] = False
    if not allowed.any():
        raise InvalidProblem(N_("Alle Standorte sind geschlossen."))
    return Checked(matrix, w, fixed, allowed)


def check_p(checked: Checked, p: int) -> int:
    """p between the number of fixed sites (at least 1) and the sites that may open."""
    free = int(checked.allowed.sum())
    if (
        isinstance(p, bool)
        or not isinstance(p, int | np.integer)
        or not (max(1, checked.fixed.size) <= p <= free)
    ):
        raise InvalidProblem(
            N_("p = %(p)s geht nicht: %(fixed)s Standorte sind gesetzt, %(free)s sind möglich."),
            p=p,
            fixed=checked.fixed.size,
            free=free,
        )
    return int(p)


def check_radius(radius: float) -> float:
    value = float(radius)
    if not math.isfinite(value) or value <= 0:
        raise InvalidProblem(N_("Der Radius muss eine positive Zahl sein."))
    return value


def covers(dist: np.ndarray, radius: float) -> np.ndarray:
    """Boolean matrix: site j covers point i (distance within the radius)."""
    return dist <= radius * (1.0 + _RADIUS_TOLERANCE)


@dataclass(frozen=True)
class MipOutcome:
    values: np.ndarray | None  # the best solution's column values; None when none was found
    optimal: bool  # proven optimal
    infeasible: bool  # proven infeasible
    bound: float  # the best proven bound on the objective
    seconds: float


def solve_mip(*args: object, **kwargs: object) -> MipOutcome:
    raise NotImplementedError


_ = (INF, highspy, new_highs)
