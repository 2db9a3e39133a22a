"""Fast p-median heuristics in NumPy: lazy greedy, then fast interchange.

The interchange is Whitaker's fast swap in the form of Resende & Werneck (2003): the profit of
every swap (site in, facility out) is gain(in) − loss(out) + extra(in, out), and after a swap only
the clients whose nearest or second-nearest facility changes are re-counted. It gives the exact
solver its warm start and upper bound, and alone serves instances too large to prove.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HeuristicResult:
    facilities: np.ndarray  # open site indices (columns of dist), sorted
    objective: float
    swaps: int


def assignment_cost(dist: np.ndarray, weights: np.ndarray, facilities: np.ndarray) -> float:
    """Σ weight × distance to the nearest open site."""
    return float(weights @ dist[:, facilities].min(axis=1))


def greedy(
    dist: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray, allowed: np.ndarray
) -> np.ndarray:
    """Open the fixed sites, then add the site that saves most until p are open. Gains only
    shrink as sites open (submodularity), so stale gains are upper bounds: lazy evaluation
    re-counts just the top of the heap."""
    # Before any site is open, a finite stand-in for "infinitely far" keeps the gains exact.
    ceiling = float(dist.max()) + 1.0
    nearest = dist[:, fixed].min(axis=1) if fixed.size else np.full(dist.shape[0], ceiling)
    chosen = list(fixed)
    gains = weights @ np.maximum(nearest[:, None] - dist, 0.0)
    taken = set(chosen)
    heap = [(-gains[s], int(s)) for s in np.flatnonzero(allowed) if s not in taken]
    heapq.heapify(heap)
    while len(chosen) < p:
        _, site = heapq.heappop(heap)
        gain = float(weights @ np.maximum(nearest - dist[:, site], 0.0))
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, site))
            continue
        chosen.append(site)
        np.minimum(nearest, dist[:, site], out=nearest)
    return np.array(sorted(chosen), dtype=np.int64)


class _Swapper:
    """The state of the fast interchange: per client its nearest and second-nearest facility
    (as slots 0…p−1), and the swap-profit terms gain (per site), loss (per slot), extra."""

    def __init__(self, dist: np.ndarray, weights: np.ndarray, facilities: np.ndarray) -> None:
        self.dist, self.weights = dist, weights
        self.slots = facilities.copy()
        # With p = 1 there is no second facility; a finite ceiling keeps the algebra exact.
        self.ceiling = 2.0 * float(dist.max()) + 1.0
        m, n, p = dist.shape[0], dist.shape[1], facilities.size
        self.first = np.zeros(m, dtype=np.int64)
        self.d1, self.d2 = np.zeros(m), np.zeros(m)
        self.second = np.zeros(m, dtype=np.int64)
        self.gain, self.loss, self.extra = np.zeros(n), np.zeros(p), np.zeros((p, n))
        everyone = np.arange(m)
        self._locate(everyone)
        self._count(everyone, +1.0)

    def _locate(self, clients: np.ndarray) -> None:
        """Nearest and second-nearest open slot of the given clients."""
        block = self.dist[np.ix_(clients, self.slots)]
        if self.slots.size == 1:
            self.first[clients], self.second[clients] = 0, 0
            self.d1[clients], self.d2[clients] = block[:, 0], self.ceiling
            return
        two = np.argpartition(block, 1, axis=1)[:, :2]
        rows = np.arange(clients.size)
        a, b = block[rows, two[:, 0]], block[rows, two[:, 1]]
        swap = b < a
        self.first[clients] = np.where(swap, two[:, 1], two[:, 0])
        self.second[clients] = np.where(swap, two[:, 0], two[:, 1])
        self.d1[clients], self.d2[clients] = np.minimum(a, b), np.maximum(a, b)

    def _count(self, clients: np.ndarray, sign: float) -> None:
        """Add (sign = +1) or remove (−1) the clients' share of gain, loss and extra."""
        w, d1, d2 = self.weights[clients], self.d1[clients], self.d2[clients]
        rows = self.dist[clients]
        self.gain += sign * (w @ np.maximum(d1[:, None] - rows, 0.0))
        np.add.at(self.loss, self.first[clients], sign * w * (d2 - d1))
        share = w[:, None] * np.maximum(d2[:, None] - np.maximum(rows, d1[:, None]), 0.0)
        # Sum the shares per nearest slot: grouping rows costs |clients| × n, where a one-hot
        # product would cost p times that.
        order = np.argsort(self.first[clients], kind="stable")
        slots, starts = np.unique(self.first[clients][order], return_index=True)
        self.extra[slots] += sign * np.add.reduceat(share[order], starts, axis=0)

    def best_swap(self, movable: np.ndarray, candidates: np.ndarray) -> tuple[int, int, float]:
        """(slot out, site in, profit) of the most profitable swap among those allowed."""
        profit = self.gain[None, :] - self.loss[:, None] + self.extra
        profit[~movable, :] = -np.inf
        profit[:, ~candidates] = -np.inf
        flat = int(np.argmax(profit))
        slot, site = divmod(flat, profit.shape[1])
        return slot, site, float(profit[slot, site])

    def swap(self, slot: int, site: int) -> None:
        """Replace the facility in `slot` by `site`, re-counting only the affected clients."""
        touched = (self.first == slot) | (self.second == slot) | (self.dist[:, site] < self.d2)
        clients = np.flatnonzero(touched)
        self._count(clients, -1.0)
        self.slots[slot] = site
        self._locate(clients)
        self._count(clients, +1.0)


def interchange(
    dist: np.ndarray,
    weights: np.ndarray,
    facilities: np.ndarray,
    fixed: np.ndarray,
    allowed: np.ndarray,
    deadline: float | None = None,
) -> HeuristicResult:
    """Best-improvement swaps until none saves anything (or the deadline passes)."""
    state = _Swapper(dist, weights, facilities)
    movable = ~np.isin(state.slots, fixed)
    candidates = allowed.copy()
    candidates[state.slots] = False
    # Profits are differences of large sums: a relative floor stops swaps that only move noise.
    floor = 1e-9 * max(1.0, assignment_cost(dist, weights, facilities))
    swaps = 0
    while deadline is None or time.monotonic() < deadline:
        slot, site, profit = state.best_swap(movable, candidates)
        if profit <= floor:
            break
        candidates[state.slots[slot]], candidates[site] = True, False
        state.swap(slot, site)
        swaps += 1
    result = np.sort(state.slots)
    return HeuristicResult(result, assignment_cost(dist, weights, result), swaps)


def solve(
    dist: np.ndarray,
    weights: np.ndarray,
    p: int,
    fixed: np.ndarray,
    allowed: np.ndarray,
    deadline: float | None = None,
) -> HeuristicResult:
    """Greedy start, then fast interchange: the solver's warm start and upper bound."""
    start = greedy(dist, weights, p, fixed, allowed)
    return interchange(dist, weights, start, fixed, allowed, deadline)
