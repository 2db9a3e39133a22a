"""Independent checker for mobile ServicePoint plans (imports only the data classes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from servicepoint.planning.mobile_model import Plan, StopSpec, Van, Violation


def check_plan(
    plan: Plan,
    stops: Sequence[StopSpec],
    van: Van,
    *,
    start: dt.date,
    weeks: int,
    holidays: frozenset[dt.date] = frozenset(),
) -> list[Violation]:
    """Every rule the plan breaks; empty = valid."""
    raise NotImplementedError
