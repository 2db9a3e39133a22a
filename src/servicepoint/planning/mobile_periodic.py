"""The multi-week plan: CP-SAT assigns visits to days, each day is then routed and timed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from servicepoint.planning.mobile_model import PlanResult, Progress, StopSpec, Van


def plan_weeks(
    stops: Sequence[StopSpec],
    van: Van,
    *,
    start: dt.date,
    weeks: int = 4,
    holidays: frozenset[dt.date] = frozenset(),
    time_limit: float = 30.0,
    progress: Progress | None = None,
) -> PlanResult:
    raise NotImplementedError
