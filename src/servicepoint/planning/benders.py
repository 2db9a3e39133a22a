"""Exact p-median by Benders decomposition of the radius formulation (Duran-Mateluna, Alès,
Elloumi, EJOR 308 (2023) 84–96), on HiGHS with our own cut loop.

Master: min Σ_i w_i θ_i  s.t.  Σ_j y_j = p,  y binary,  and Benders cuts, one family per client i:

    θ_i + Σ_{j: d_ij < D} (D − d_ij) y_j ≥ D      for a radius D among i's distances

(planning.separation finds them, planning.master holds the LP). Phase 1 solves the LP relaxation
by cutting planes, stabilised in-out (Ben-Ameur & Neto; Fischetti, Ljubić & Sinnl 2017) and
started from the heuristic incumbent's cuts. Phase 2 is branch and cut (planning.tree) with
Benders cuts at every node and reduced-cost fixing against the incumbent. HiGHS 1.16 declares a
lazy-constraint callback type but has no way to hand rows back, and re-solving its MIP after
each round of cuts took 20–40 s a round on pmed16, so the branching is ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from servicepoint.planning import heuristic, tree
from servicepoint.planning.master import INF, LpStopped, Master
from servicepoint.planning.separation import Separator

_LP_STALL = 5  # iterations without bound progress before the stabilisation is switched off
_LP_GAP = 1e-6  # relative gap at which the LP relaxation counts as solved


@dataclass(frozen=True)
class Progress:
    """A snapshot for progress displays: the phase, both bounds and the time so far."""

    phase: str  # "heuristic", "lp" or "tree"
    lower_bound: float
    upper_bound: float
    seconds: float


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class Problem:
    """The reduced problem: clients with positive weight × sites that may open."""

    dist: np.ndarray
    weights: np.ndarray
    p: int
    fixed: np.ndarray  # site indices that must open
    goal: tree.Goal  # when to stop: at a proof, or within a relative gap


@dataclass(frozen=True)
class Outcome:
    facilities: np.ndarray
    lower_bound: float
    optimal: bool
    nodes: int
    cuts: int


class Clock:
    """The deadline and the progress callback, shared by the phases."""

    def __init__(self, deadline: float | None, progress: ProgressFn | None) -> None:
        self.started, self.deadline, self.progress = time.monotonic(), deadline, progress

    def left(self) -> float:
        return INF if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def report(self, phase: str, lower: float, upper: float) -> None:
        if self.progress is not None:
            self.progress(Progress(phase, lower, upper, time.monotonic() - self.started))


@dataclass
class Incumbent:
    """The best solution found so far, with its true cost (never the master's estimate)."""

    facilities: np.ndarray
    cost: float

    def offer(self, y: np.ndarray, cost: float) -> None:
        if cost < self.cost - 1e-9 * max(1.0, abs(cost)):
            self.facilities, self.cost = np.flatnonzero(y > 0.5), cost


def _core_point(problem: Problem) -> np.ndarray:
    """p spread evenly over the free sites, the fixed ones at 1: inside the LP's polytope."""
    n = problem.dist.shape[1]
    y = np.full(n, (problem.p - problem.fixed.size) / max(1, n - problem.fixed.size))
    y[problem.fixed] = 1.0
    return y


def _indicator(n: int, sites: np.ndarray) -> np.ndarray:
    y = np.zeros(n)
    y[sites] = 1.0
    return y


@dataclass
class _LpState:
    lower: float = -INF
    upper: float = INF
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _separate_lp(
    master: Master, sep: Separator, y_sep: np.ndarray, theta: np.ndarray, state: _LpState
) -> int:
    """Adds the cuts separated at y_sep that the LP optimum (state.y, θ) violates."""
    found = sep.separate(y_sep)
    state.upper = min(state.upper, float(master.weights @ found.value))
    clients = np.arange(theta.size)
    depth = sep.values(state.y, clients, found.radius)
    violated = np.flatnonzero(depth > theta + 1e-6 * np.maximum(1.0, np.abs(depth)))
    # At most a quarter of the clients get a cut per round (the most violated, by weight): at
    # 10,000 clients, smaller LPs more often reached a better bound in the same time.
    cap = max(2000, theta.size // 4)
    if violated.size > cap:
        excess = master.weights[violated] * (depth[violated] - theta[violated])
        violated = np.sort(violated[np.argpartition(-excess, cap - 1)[:cap]])
    master.add_cuts(sep.rows_for(violated, found.radius[violated], master.n))
    return int(violated.size)


class _Rounder:
    """Rounds LP points to solutions: the p largest y, improved by interchange. Local optima
    of the swap neighbourhood differ by over 1 % on the 10,000 × 1,000 benchmark, and a start
    near the LP optimum lands near the best of them. It runs when its cost is small against the
    time since it last ran: every LP round on small instances, every few on large ones."""

    def __init__(self, problem: Problem, best: Incumbent, clock: Clock) -> None:
        self.problem, self.best, self.clock = problem, best, clock
        self.spent, self.last = 0.0, time.monotonic()
        self.tried: set[bytes] = set()

    def offer(self, y: np.ndarray, force: bool = False) -> None:
        if self.clock.left() <= 0 or (not force and time.monotonic() - self.last < 2 * self.spent):
            return
        problem = self.problem
        score = y + 1e-9 * _indicator(y.size, self.best.facilities)  # ties: keep the incumbent's
        score[problem.fixed] = np.inf
        start = np.sort(np.argpartition(-score, problem.p - 1)[: problem.p])
        if start.tobytes() in self.tried:
            return
        self.tried.add(start.tobytes())
        began = time.monotonic()
        deadline = None if self.clock.deadline is None else began + self.clock.left()
        allowed = np.ones(y.size, dtype=bool)
        found = heuristic.interchange(
            problem.dist, problem.weights, start, problem.fixed, allowed, deadline
        )
        self.best.offer(_indicator(y.size, found.facilities), found.objective)
        self.last = time.monotonic()
        self.spent = self.last - began


def lp_phase(
    master: Master, sep: Separator, problem: Problem, best: Incumbent, clock: Clock
) -> _LpState:
    """The LP relaxation by cutting planes, separating between the LP optimum and an interior
    point that follows it (in-out), until the bounds meet or the goal is reached."""
    state, weight, stall = _LpState(), 0.2, 0
    rounder = _Rounder(problem, best, clock)
    # Starting from the incumbent's own cuts, and stabilising halfway between it and the core
    # point, cut rl1304's first LP (p = 5) from 44,533 simplex iterations to 3,662.
    y_best = _indicator(master.n, best.facilities)
    master.add_cuts(sep.rows_for(np.arange(master.m), sep.separate(y_best).radius, master.n))
    master.start_at(y_best)
    y_in = 0.5 * (y_best + _core_point(problem))
    while clock.left() > 0:
        try:
            solved = master.solve(time_left=clock.left())
        except LpStopped:
            break
        if solved is None:  # cannot happen: Σ y = p with p ≤ n is always feasible
            break
        state.y, theta, objective = solved
        stall = stall + 1 if objective <= state.lower + 1e-9 * abs(objective) else 0
        state.lower = max(state.lower, objective)
        weight = 1.0 if stall >= _LP_STALL else weight
        added = _separate_lp(master, sep, y_in + weight * (state.y - y_in), theta, state)
        if added == 0 and weight < 1.0:  # a mis-price: the point between cut nothing off here
            added = _separate_lp(master, sep, state.y, theta, state)
        y_in = 0.5 * (y_in + state.y)
        rounder.offer(state.y)
        clock.report("lp", state.lower, best.cost)
        solved_lp = state.upper - state.lower <= _LP_GAP * max(1.0, abs(state.upper))
        if added == 0 or solved_lp or problem.goal.reached(state.lower, best.cost):
            break
    if state.y.size:
        rounder.offer(state.y, force=True)
    return state


def solve(problem: Problem, best: Incumbent, clock: Clock) -> Outcome:
    """Prove (or bound, when time runs out) the optimum; `best` holds the warm start and is
    improved in place."""
    sep = Separator(problem.dist, problem.p, problem.fixed)
    master = Master(problem.weights, problem.dist.shape[1], problem.p, sep.floor, problem.fixed)
    state = lp_phase(master, sep, problem, best, clock)
    lower, nodes = state.lower, 0
    if not problem.goal.reached(lower, best.cost) and clock.left() > 0:
        search = tree.Search(master, sep, best, problem.goal)
        root = tree.Node(state.lower, _indicator(master.n, problem.fixed), np.ones(master.n))
        lower = search.run(root, clock.left, lambda low: clock.report("tree", low, best.cost))
        nodes = search.nodes
    optimal = tree.Goal(problem.goal.integral).reached(lower, best.cost)
    return Outcome(best.facilities, min(lower, best.cost), optimal, nodes, master.cuts)
