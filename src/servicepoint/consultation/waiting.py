"""How long a citizen in the video waiting room still waits: pure, no database, no web.

The clerks (the video capacity's counters) are busy with the calls running now and then serve
the people ahead in appointment order, nobody before their own slot. A call that has run past
its planned end is not over: it still holds its clerk for a while, so a clerk running late
pushes everyone behind, and the estimate says so instead of showing the booked time.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

# What a call past its planned end is assumed still to need: it may end any moment, but
# promising "now" again every few seconds would be the very dishonesty we avoid.
OVERRUN = dt.timedelta(minutes=3)


@dataclass(frozen=True)
class Ahead:
    """Someone waiting before the citizen: the booked slot's start and length."""

    start: dt.datetime
    minutes: int


@dataclass(frozen=True)
class Running:
    """A call going on now: when it began and how long its slot was."""

    admitted_at: dt.datetime
    minutes: int


@dataclass(frozen=True)
class Estimate:
    minutes: int  # from now until the citizen's call is expected to begin, >= 0
    late: bool  # expected to begin after the booked start


def free_at(call: Running, now: dt.datetime) -> dt.datetime:
    """When the clerk of a running call is expected to be free."""
    planned = call.admitted_at + dt.timedelta(minutes=call.minutes)
    return planned if planned > now else now + OVERRUN


def estimate(
    *,
    own_start: dt.datetime,
    ahead: Sequence[Ahead],
    running: Sequence[Running],
    clerks: int,
    now: dt.datetime,
) -> Estimate:
    """The expected wait of a citizen booked at `own_start` with `ahead` before them (in
    appointment order). More calls running than counters means more clerks are at work."""
    free = sorted(free_at(call, now) for call in running)
    free += [now] * (max(clerks, len(free), 1) - len(free))
    heapq.heapify(free)
    for person in ahead:
        begins = max(heapq.heappop(free), person.start)
        heapq.heappush(free, begins + dt.timedelta(minutes=person.minutes))
    begins = max(free[0], own_start, now)
    if now > own_start:
        # Past the own start and still waiting: whatever the calls say, the clerk is late (a
        # call not shown here, a pause). "Any moment now" for ever would not be honest.
        begins = max(begins, now + OVERRUN)
    minutes = math.ceil((begins - now).total_seconds() / 60)
    return Estimate(minutes=minutes, late=begins > own_start)
