"""The Benders master LP in HiGHS: min Σ w_i θ_i s.t. Σ y_j = p, 0 ≤ y ≤ 1, and the cuts.

Columns are y_0…y_{n−1}, then θ_0…θ_{m−1}. Integrality is never given to HiGHS: branching is
ours (planning.tree), so that Benders cuts can enter at every node.
"""

from __future__ import annotations

import os
import sys

import highspy
import numpy as np

from servicepoint.planning.separation import CutRows

INF = float(highspy.kHighsInf)
_BANNER = {"shown": False}
_PRUNED = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kObjectiveBound)


def new_highs() -> highspy.Highs:
    """A silent HiGHS. Its first construction in a process prints a banner to stdout, which
    would break `--json` output: that one time, fd 1 points to /dev/null."""
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        if not _BANNER["shown"]:
            os.dup2(null, 1)
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    _BANNER["shown"] = True
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    return highs


class LpStopped(Exception):
    """HiGHS stopped short of an optimum (time limit, or numerical trouble): the LP tells
    nothing, and the search ends without a proof."""


class Master:
    def __init__(
        self, weights: np.ndarray, n: int, p: int, floor: np.ndarray, fixed: np.ndarray
    ) -> None:
        """`floor` is each θ_i's lower bound (client i's distance to its nearest site);
        `fixed` sites are open from the start."""
        self.n, self.m, self.weights = n, weights.size, weights
        self.highs = new_highs()
        costs = np.concatenate([np.zeros(n), weights])
        opened = np.zeros(n)
        opened[fixed] = 1.0
        lower = np.concatenate([opened, floor])
        upper = np.concatenate([np.ones(n), np.full(self.m, INF)])
        none = np.zeros(0, dtype=np.int32)
        self.highs.addCols(n + self.m, costs, lower, upper, 0, none, none, np.zeros(0))
        self.columns = np.arange(n, dtype=np.int32)
        self.highs.addRow(p, p, n, self.columns, np.ones(n))
        self.cuts = 0

    def add_cuts(self, rows: CutRows) -> None:
        lower, starts, index, value = rows
        if lower.size:
            upper = np.full(lower.size, INF)
            self.highs.addRows(lower.size, lower, upper, index.size, starts, index, value)
            self.cuts += lower.size

    def set_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.highs.changeColsBounds(self.n, self.columns, lower, upper)

    def solve(
        self, cutoff: float = INF, time_left: float = INF
    ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(y, θ, objective) at the LP optimum; None when the LP is infeasible or its bound
        reaches `cutoff` (the dual simplex stops there, which prunes a node early). Raises
        LpStopped when `time_left` runs out first."""
        self.highs.setOptionValue("objective_bound", cutoff)
        # HiGHS measures its time limit on a clock that runs on across solves of one model.
        budget = self.highs.getRunTime() + max(time_left, 1e-3)
        self.highs.setOptionValue("time_limit", min(budget, INF))
        self.highs.run()
        self.highs.setOptionValue("simplex_strategy", 1)  # dual: rows are added between solves
        status = self.highs.getModelStatus()
        if status in _PRUNED:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise LpStopped(str(status))
        values = np.asarray(self.highs.getSolution().col_value)
        objective = float(self.highs.getInfo().objective_function_value)
        return values[: self.n], values[self.n :], objective

    def reduced_costs(self) -> np.ndarray:
        return np.asarray(self.highs.getSolution().col_dual)[: self.n]

    def start_at(self, y: np.ndarray) -> None:
        """A primal feasible basis at the integral point y, for a model whose cuts are one
        tight cut per client at y: y at its bounds, each θ_i basic on its active cut, one open
        y basic for the Σ y = p row. Primal simplex from there needed 2,925 iterations for the
        first LP at 10,000 × 1,000, where dual simplex from the slack basis needed 15,709."""
        basis = highspy.HighsBasis()
        lower, upper, basic = (
            highspy.HighsBasisStatus.kLower,
            highspy.HighsBasisStatus.kUpper,
            highspy.HighsBasisStatus.kBasic,
        )
        cols = [upper if v > 0.5 else lower for v in y] + [basic] * self.m
        cols[int(np.flatnonzero(y > 0.5)[0])] = basic
        rows = [lower] * self.highs.getNumRow()
        basis.col_status = cols
        basis.row_status = rows
        basis.valid = True
        self.highs.setBasis(basis)
        self.highs.setOptionValue("simplex_strategy", 4)  # primal, for the next solve only

    def basis(self) -> tuple[np.ndarray, np.ndarray]:
        """The current basis, compactly: a node stores its parent's to start from it."""
        current = self.highs.getBasis()
        cols = np.fromiter((int(s) for s in current.col_status), dtype=np.int8)
        rows = np.fromiter((int(s) for s in current.row_status), dtype=np.int8)
        return cols, rows

    def restore(self, saved: tuple[np.ndarray, np.ndarray]) -> None:
        """Starts the next solve from a stored basis; cuts added since are basic (slack)."""
        cols, rows = saved
        extra = self.highs.getNumRow() - rows.size
        status = highspy.HighsBasisStatus
        basis = highspy.HighsBasis()
        basis.col_status = [status(int(s)) for s in cols]
        basis.row_status = [status(int(s)) for s in rows] + [status.kBasic] * extra
        basis.valid = True
        self.highs.setBasis(basis)
