"""Shared pieces of the coverage, center and evaluation models: input checks, a progress
record for multi-step runs, and one small MIP runner on HiGHS (highspy)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.planning.master import new_highs
from servicepoint.planning.solver import (
    Checked,
    InvalidProblem,
    check_p,
    check_problem,
    site_columns,
)

__all__ = [
    "Checked",
    "InvalidProblem",
    "MipOutcome",
    "Model",
    "Stage",
    "StageFn",
    "check",
    "check_p",
    "check_radius",
    "covers",
    "deadline_after",
    "remaining",
    "site_columns",
    "solve_mip",
]

_FEASIBLE = 2  # HiGHS's kSolutionStatusFeasible
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


# The one input check of every solver lives in planning.solver; `check` is its name here.
check = check_problem


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


class Model:
    """A MIP under construction: columns with costs and bounds, rows in sparse form."""

    def __init__(self, costs: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.costs = np.asarray(costs, dtype=np.float64)
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.integer = np.zeros(self.costs.size, dtype=bool)
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.starts: list[int] = [0]
        self.index: list[np.ndarray] = []
        self.value: list[np.ndarray] = []

    def add_row(self, lower: float, upper: float, index: np.ndarray, value: np.ndarray) -> None:
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.index.append(np.asarray(index, dtype=np.int32))
        self.value.append(np.asarray(value, dtype=np.float64))
        self.starts.append(self.starts[-1] + self.index[-1].size)


def solve_mip(
    model: Model,
    *,
    maximize: bool = False,
    time_limit: float | None = None,
    start: np.ndarray | None = None,
) -> MipOutcome:
    """Solves to proven optimality (relative gap 0) unless `time_limit` (seconds) ends it
    first; `start` is a feasible solution HiGHS may begin from."""
    began = time.monotonic()
    highs = new_highs()
    n = model.costs.size
    none = np.zeros(0, dtype=np.int32)
    highs.addCols(n, model.costs, model.lower, model.upper, 0, none, none, np.zeros(0))
    if model.row_lower:
        index = np.concatenate(model.index)
        highs.addRows(
            len(model.row_lower),
            np.array(model.row_lower),
            np.array(model.row_upper),
            index.size,
            np.array(model.starts[:-1], dtype=np.int32),
            index,
            np.concatenate(model.value),
        )
    integer = np.flatnonzero(model.integer).astype(np.int32)
    kinds = np.full(integer.size, int(highspy.HighsVarType.kInteger), dtype=np.uint8)
    highs.changeColsIntegrality(integer.size, integer, kinds)
    if maximize:
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.setOptionValue("mip_rel_gap", 0.0)
    if time_limit is not None:
        highs.setOptionValue("time_limit", max(1e-3, float(time_limit)))
    if start is not None:
        columns = np.arange(n, dtype=np.int32)
        highs.setSolution(n, columns, np.asarray(start, dtype=np.float64))
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    found = int(info.primal_solution_status) == _FEASIBLE
    values = np.asarray(highs.getSolution().col_value) if found else None
    return MipOutcome(
        values,
        status == highspy.HighsModelStatus.kOptimal,
        status == highspy.HighsModelStatus.kInfeasible,
        float(info.mip_dual_bound),
        time.monotonic() - began,
    )


def remaining(deadline: float | None) -> float | None:
    """Seconds left until `deadline` (time.monotonic), None for no limit."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def deadline_after(time_limit: float | None) -> float | None:
    if time_limit is None:
        return None
    value = float(time_limit)
    if not math.isfinite(value) or value < 0:
        raise InvalidProblem(N_("Das Zeitlimit muss eine Zahl ≥ 0 sein."))
    return time.monotonic() + value
