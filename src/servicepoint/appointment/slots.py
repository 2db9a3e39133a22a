"""Slot computation (pure: no database, no web).

A location's day is cut into grid cells (e.g. 10 minutes) inside its hours. A booking of D
minutes takes ceil(D / grid) consecutive cells of one opening span; every cell holds at most
`capacity` concurrent appointments. Local wall time is Europe/Berlin; cells are keyed in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

import holidays

from servicepoint.core.clock import BERLIN
from servicepoint.core.i18n import N_

DAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
UTC = dt.UTC


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class Schedule:
    """What a location offers for appointments; built from its capacity settings."""

    hours: Mapping[str, tuple[tuple[int, int], ...]]  # day key -> (start, end) minutes
    grid: int
    capacity: int
    closed: frozenset[dt.date] = frozenset()
    subdivision: str = "NI"  # Lower Saxony public holidays

    @classmethod
    def from_hours(
        cls,
        hours: Mapping[str, list[list[str]]],
        *,
        grid: int,
        capacity: int,
        closed: frozenset[dt.date] = frozenset(),
    ) -> Schedule:
        spans = {
            day: tuple((_minutes(a), _minutes(b)) for a, b in hours.get(day, []))
            for day in DAY_KEYS
        }
        return cls(hours=spans, grid=grid, capacity=capacity, closed=closed)

    def is_open(self, day: dt.date) -> bool:
        return day not in self.closed and not is_holiday(day, self.subdivision)

    def spans(self, day: dt.date) -> tuple[tuple[int, int], ...]:
        return self.hours.get(DAY_KEYS[day.weekday()], ()) if self.is_open(day) else ()


@lru_cache(maxsize=64)
def _holidays(year: int, subdivision: str) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("DE", subdiv=subdivision, years=year).keys())


def is_holiday(day: dt.date, subdivision: str = "NI") -> bool:
    return day in _holidays(day.year, subdivision)


def cells_needed(duration_minutes: int, grid: int) -> int:
    return max(1, math.ceil(duration_minutes / grid))


def to_utc(day: dt.date, minute: int) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=BERLIN)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # UTC
    end: dt.datetime
    capacity_left: int
    cells: tuple[dt.datetime, ...]


def _starts(span: tuple[int, int], grid: int, n_cells: int) -> range:
    first, close = span
    return range(first, close - n_cells * grid + 1, grid)


def day_slots(
    schedule: Schedule,
    day: dt.date,
    *,
    duration: int,
    usage: Mapping[dt.datetime, int],
    not_before: dt.datetime,
) -> Iterator[Slot]:
    """Free slots of one day: every cell of the span below capacity, none before `not_before`."""
    n = cells_needed(duration, schedule.grid)
    for span in schedule.spans(day):
        cells = [to_utc(day, m) for m in range(span[0], span[1], schedule.grid)]
        left = [schedule.capacity - usage.get(c, 0) for c in cells]
        for i in range(len(_starts(span, schedule.grid, n))):
            start = cells[i]
            if start < not_before:
                continue
            free = min(left[i : i + n])
            if free > 0:
                yield Slot(
                    start=start,
                    end=start + dt.timedelta(minutes=duration),
                    capacity_left=free,
                    cells=tuple(cells[i : i + n]),
                )


def free_slots(
    schedule: Schedule,
    *,
    date_from: dt.date,
    date_to: dt.date,
    duration: int,
    usage: Mapping[dt.datetime, int],
    not_before: dt.datetime,
) -> list[Slot]:
    """All free slots between two local dates (inclusive), earliest first."""
    out: list[Slot] = []
    day = date_from
    while day <= date_to:
        out.extend(day_slots(schedule, day, duration=duration, usage=usage, not_before=not_before))
        day += dt.timedelta(days=1)
    return out


class SlotProblem(ValueError):
    """Why a requested start is not bookable; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_start(
    schedule: Schedule,
    start: dt.datetime,
    *,
    duration: int,
    not_before: dt.datetime,
    latest: dt.datetime,
) -> tuple[dt.datetime, ...]:
    """Validate a requested start and return the cells it needs; raises SlotProblem."""
    if start.tzinfo is None:
        raise SlotProblem("naive_time", N_("Die Uhrzeit braucht eine Zeitzone."))
    if start < not_before:
        raise SlotProblem(
            "start_in_past", N_("Dieser Zeitpunkt liegt in der Vergangenheit oder zu kurzfristig.")
        )
    if start > latest:
        raise SlotProblem("too_far_ahead", N_("So weit im Voraus sind noch keine Termine buchbar."))
    local = start.astimezone(BERLIN)
    if not schedule.is_open(local.date()):
        raise SlotProblem("closed", N_("An diesem Tag ist der Standort geschlossen."))
    minute = local.hour * 60 + local.minute
    n = cells_needed(duration, schedule.grid)
    for span in schedule.spans(local.date()):
        if span[0] <= minute < span[1]:
            if local.second or local.microsecond or (minute - span[0]) % schedule.grid:
                raise SlotProblem("not_on_grid", N_("Termine beginnen nur im festen Zeitraster."))
            if minute + n * schedule.grid > span[1]:
                raise SlotProblem(
                    "outside_opening_hours",
                    N_("Der Termin würde über das Ende der Öffnungszeit gehen."),
                )
            return tuple(to_utc(local.date(), minute + k * schedule.grid) for k in range(n))
    raise SlotProblem(
        "outside_opening_hours", N_("Zu dieser Uhrzeit werden keine Termine angeboten.")
    )
