"""The p-median, solved exactly where it can be proven: the one entry point for CLI and pages.

    solve_pmedian(dist, p) -> PMedianResult(objective, facilities, optimal, lower_bound, seconds)

`dist` is clients × candidate sites. A fast heuristic (planning.heuristic) gives the warm start;
Benders branch and cut (planning.benders) proves it or improves it until `time_limit`. When time
runs out, the best solution comes back with `optimal=False` and the best proven lower bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.errors import Unprocessable
from servicepoint.planning import benders, heuristic
from servicepoint.planning.benders import Progress
from servicepoint.planning.tree import Goal

# The solver keeps several float64 copies of the matrix; beyond this it would not fit in memory.
MAX_CELLS = 25_000_000
_EXACT_INTEGERS = 2.0**52  # sums of integers stay exact in float64 below this

__all__ = [
    "MAX_CELLS",
    "Checked",
    "InvalidProblem",
    "PMedianResult",
    "Progress",
    "check_p",
    "check_problem",
    "site_columns",
    "solve_pmedian",
]


class InvalidProblem(Unprocessable):
    code = "invalid_pmedian"


@dataclass(frozen=True)
class PMedianResult:
    objective: float  # Σ weight × distance to the nearest open site
    facilities: tuple[int, ...]  # open sites as column indices of `dist`, ascending
    optimal: bool  # True only when optimality is proven
    lower_bound: float  # proven: no solution is cheaper than this
    seconds: float


@dataclass(frozen=True)
class Checked:
    """A location problem's validated inputs, shared by every solver (p-median, MIPs, center,
    coverage, evaluation): one check, one set of messages."""

    dist: np.ndarray  # points × sites, finite, ≥ 0
    weights: np.ndarray  # one finite weight ≥ 0 per point
    fixed: np.ndarray  # sorted site columns that must open
    allowed: np.ndarray  # bool per site: not forced closed


def _sites(values: Sequence[int], n: int, what: str) -> np.ndarray:
    sites = np.array(sorted({int(v) for v in values}), dtype=np.int64)
    if sites.size and (sites[0] < 0 or sites[-1] >= n):
        raise InvalidProblem(
            N_("%(what)s: Standort außerhalb von 0 bis %(last)s."), what=what, last=n - 1
        )
    return sites


def _check_matrix(dist: np.ndarray) -> np.ndarray:
    matrix = np.asarray(dist, dtype=np.float64)
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise InvalidProblem(N_("Die Distanzmatrix muss zweidimensional und nicht leer sein."))
    if matrix.size > MAX_CELLS:
        raise InvalidProblem(N_("Die Distanzmatrix hat mehr als %(max)s Einträge."), max=MAX_CELLS)
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        raise InvalidProblem(N_("Distanzen müssen endlich und nicht negativ sein."))
    return matrix


def _check_weights(weights: Sequence[float] | np.ndarray | None, m: int) -> np.ndarray:
    if weights is None:
        return np.ones(m)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidProblem(
            N_("Es braucht ein endliches, nicht negatives Gewicht je Nachfragepunkt.")
        )
    return w


def check_problem(
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


def site_columns(values: Sequence[int], n: int, what: str) -> np.ndarray:
    """Sorted distinct site columns; InvalidProblem names `what` when one is out of range."""
    return _sites(values, n, what)


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


def _integral(dist: np.ndarray, weights: np.ndarray) -> bool:
    """Integral data make every objective an integer, so a gap below 1 proves optimality."""
    whole = bool(np.all(dist == np.round(dist)) and np.all(weights == np.round(weights)))
    return whole and float(weights.sum()) * float(dist.max(initial=0.0)) < _EXACT_INTEGERS


def _reduced(checked: Checked, p: int, gap: float) -> tuple[benders.Problem, np.ndarray]:
    """Only clients with weight > 0 and sites that may open enter the model; returns the
    problem and the map from its site indices back to columns of `dist`."""
    sites = np.flatnonzero(checked.allowed)
    clients = np.flatnonzero(checked.weights > 0)
    dist = np.ascontiguousarray(checked.dist[np.ix_(clients, sites)])
    weights = checked.weights[clients]
    fixed = np.searchsorted(sites, checked.fixed)
    goal = Goal(_integral(dist, weights), gap)
    return benders.Problem(dist, weights, p, fixed, goal), sites


def solve_pmedian(
    dist: np.ndarray,
    p: int,
    weights: Sequence[float] | np.ndarray | None = None,
    fixed_open: Sequence[int] = (),
    forced_closed: Sequence[int] = (),
    time_limit: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    *,
    exact: bool = True,
    gap: float = 0.0,
) -> PMedianResult:
    """Open p sites (columns of `dist`) minimising Σ weight × distance to the nearest open one.

    `fixed_open` sites are always open, `forced_closed` never. The search stops once the best
    solution is proven within `gap` (relative, e.g. 0.01) of the optimum; `optimal` is only
    True for a proof of optimality. Without `exact` only the heuristic runs (fast, unproven).
    Raises InvalidProblem for inconsistent input."""
    started = time.monotonic()
    checked = check_problem(dist, weights, fixed_open, forced_closed)
    p = check_p(checked, p)
    deadline = None if time_limit is None else started + max(0.0, float(time_limit))
    if not 0.0 <= gap < 1.0:
        raise InvalidProblem(N_("Die Lücke muss zwischen 0 und 1 liegen."))
    problem, sites = _reduced(checked, p, gap)
    clock = benders.Clock(deadline, progress)
    best, lower, optimal = _solve_reduced(problem, clock, exact)
    facilities = sites[best]
    objective = heuristic.assignment_cost(checked.dist, checked.weights, facilities)
    if optimal:
        lower = objective
    elif problem.goal.integral:  # every objective is an integer: the bound rounds up
        lower = float(np.ceil(lower - 1e-6))
    return PMedianResult(
        objective,
        tuple(int(f) for f in facilities),
        optimal,
        min(lower, objective),
        time.monotonic() - started,
    )


def _solve_reduced(
    problem: benders.Problem, clock: benders.Clock, exact: bool
) -> tuple[np.ndarray, float, bool]:
    """(open sites, proven lower bound, optimal) in the reduced problem's indices."""
    m, n = problem.dist.shape
    if m == 0 or problem.p == n:  # nobody to serve, or every site opens: nothing to choose
        chosen = _fill(problem.fixed, n, problem.p)
        return chosen, 0.0 if m == 0 else float(problem.weights @ problem.dist.min(axis=1)), True
    allowed = np.ones(n, dtype=bool)
    start = heuristic.solve(
        problem.dist, problem.weights, problem.p, problem.fixed, allowed, clock.deadline
    )
    trivial = float(problem.weights @ problem.dist.min(axis=1))  # everyone at their nearest site
    clock.report("heuristic", trivial, start.objective)
    if not exact:
        proven = Goal(problem.goal.integral).reached(trivial, start.objective)
        return start.facilities, trivial, proven
    best = benders.Incumbent(start.facilities, start.objective)
    outcome = benders.solve(problem, best, clock)
    return best.facilities, max(trivial, outcome.lower_bound), outcome.optimal


def _fill(fixed: np.ndarray, n: int, p: int) -> np.ndarray:
    """The fixed sites and then the first free ones, p in all (any choice is optimal here)."""
    free = np.setdiff1d(np.arange(n), fixed)[: p - fixed.size]
    return np.sort(np.concatenate([fixed, free]).astype(np.int64))
