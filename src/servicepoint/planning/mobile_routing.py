"""A day's tour with OR-Tools routing: time windows, service times, depot, ArbZG break."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from servicepoint.planning.mobile_model import DayRoute, StopSpec, Van


def route_day(
    stops: Sequence[StopSpec], van: Van, day: dt.date, time_limit: float = 1.0
) -> DayRoute | None:
    raise NotImplementedError
