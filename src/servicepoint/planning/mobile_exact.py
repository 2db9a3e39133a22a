"""Exact daily tour: dynamic programming over subsets with time windows and the ArbZG break."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from servicepoint.planning.mobile_model import DayRoute, StopSpec, Van


def solve_day_exact(stops: Sequence[StopSpec], van: Van, day: dt.date) -> DayRoute | None:
    raise NotImplementedError
