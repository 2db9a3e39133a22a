"""Slot computation (pure: no database, no web).

A location's day is cut into grid cells (e.g. 10 minutes) inside its hours. A booking of D
minutes takes ceil(D / grid) consecutive cells of one opening span; every cell holds at most
`capacity` concurrent appointments. Local wall time is Europe/Berlin; cells are keyed in UTC.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

import holidays

from servicepoint.catalog.hours import SPECIAL_DAYS, SPECIAL_RULES
from servicepoint.core.clock import BERLIN
from servicepoint.core.i18n import N_

DAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
UTC = dt.UTC
MORNING_END = 12 * 60  # a "morning" special day keeps the spans before noon


def to_minutes(hhmm: str) -> int:
    """ "HH:MM" as minutes after midnight."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


_minutes = to_minutes


@dataclass(frozen=True)
class Schedule:
    """What a location offers for appointments; built from its capacity settings."""

    hours: Mapping[str, tuple[tuple[int, int], ...]]  # day key -> (start, end) minutes
    grid: int
    capacity: int
    closed: frozenset[dt.date] = frozenset()
    subdivision: str = "NI"  # Lower Saxony public holidays
    special: Mapping[tuple[int, int], str] = field(default_factory=dict)  # (month, day) -> rule
    # Dated hours: on a listed day its spans replace the weekly ones (a mobile stop's visits).
    dates: Mapping[dt.date, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @classmethod
    def from_hours(
        cls,
        hours: Mapping[str, list[list[str]]],
        *,
        grid: int,
        capacity: int,
        closed: frozenset[dt.date] = frozenset(),
        special: Mapping[str, str | None] | None = None,
        dates: Mapping[str, list[list[str]]] | None = None,
    ) -> Schedule:
        spans = {
            day: tuple((_minutes(a), _minutes(b)) for a, b in hours.get(day, []))
            for day in DAY_KEYS
        }
        rules = {
            SPECIAL_DAYS[key]: rule
            for key, rule in (special or {}).items()
            if key in SPECIAL_DAYS and rule in SPECIAL_RULES
        }
        return cls(
            hours=spans,
            grid=grid,
            capacity=capacity,
            closed=closed,
            special=rules,
            dates=parse_dates(dates or {}),
        )

    def is_open(self, day: dt.date) -> bool:
        return (
            day not in self.closed
            and not is_holiday(day, self.subdivision)
            and self.special.get((day.month, day.day)) != "closed"
        )

    def spans(self, day: dt.date) -> tuple[tuple[int, int], ...]:
        """The day's spans: its dated hours if it has any, else its weekday's; none on a
        public holiday or closure (a planned visit that falls on one does not take place)."""
        if not self.is_open(day):
            return ()
        if day in self.dates:
            usual = self.dates[day]
        else:
            usual = self.hours.get(DAY_KEYS[day.weekday()], ())
        if self.special.get((day.month, day.day)) == "morning":
            return tuple((a, min(b, MORNING_END)) for a, b in usual if a < MORNING_END)
        return usual


def parse_dates(dates: Mapping[str, list[list[str]]]) -> dict[dt.date, tuple[tuple[int, int], ...]]:
    """Stored dated hours ({"2027-01-12": [["09:00", "12:00"]]}) as dates and minutes. They are
    checked when written (capacity.set_dated_hours); a key that is no date is no day."""
    parsed: dict[dt.date, tuple[tuple[int, int], ...]] = {}
    for key, spans in dates.items():
        try:
            day = dt.date.fromisoformat(key)
        except ValueError:
            continue
        parsed[day] = tuple(sorted((_minutes(a), _minutes(b)) for a, b in spans))
    return parsed


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


class Slot(NamedTuple):
    """A free start (UTC). A tuple, not a dataclass: a 60-day search makes tens of thousands."""

    start: dt.datetime
    end: dt.datetime
    capacity_left: int
    location_id: str = ""


def epoch(value: dt.datetime) -> int:
    """Usage maps are keyed by epoch seconds: hashing ints is much cheaper than aware datetimes."""
    return int(value.timestamp())


@lru_cache(maxsize=8192)
def _span_cells(day: dt.date, span: tuple[int, int], grid: int) -> tuple[dt.datetime, ...]:
    """Cell starts of one opening span; one zone lookup per span unless DST shifts inside it.
    Cached: every location with the same hours shares the same calendar."""
    count = (span[1] - span[0]) // grid
    if count <= 0:
        return ()
    first = to_utc(day, span[0])
    step = dt.timedelta(minutes=grid)
    if to_utc(day, span[0] + (count - 1) * grid) - first == step * (count - 1):
        return tuple(first + step * k for k in range(count))
    # Wall times in the spring-forward gap do not exist and map onto the hour after it: keep
    # each instant once, or the same cells would be offered twice.
    return tuple(dict.fromkeys(to_utc(day, span[0] + k * grid) for k in range(count)))


@lru_cache(maxsize=8192)
def _span_starts(
    day: dt.date, span: tuple[int, int], grid: int, duration: int
) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """(start, end) of every start that fits into the span, for one duration."""
    cells = _span_cells(day, span, grid)
    length = dt.timedelta(minutes=duration)
    fitting = len(cells) - cells_needed(duration, grid) + 1
    return tuple((cells[i], cells[i] + length) for i in range(max(fitting, 0)))


def day_slots(
    schedule: Schedule,
    day: dt.date,
    *,
    duration: int,
    usage: Mapping[int, int],
    not_before: dt.datetime,
    location_id: str = "",
) -> list[Slot]:
    """Free slots of one day: every cell of the span below capacity, none before `not_before`."""
    n = cells_needed(duration, schedule.grid)
    capacity = schedule.capacity
    out: list[Slot] = []
    for span in schedule.spans(day):
        starts = _span_starts(day, span, schedule.grid, duration)
        first = bisect.bisect_left(starts, not_before, key=itemgetter(0))
        if capacity <= 0:
            continue
        untouched = _untouched_slots(day, span, schedule.grid, duration, capacity, location_id)
        cells = _span_cells(day, span, schedule.grid)
        left = [capacity - usage.get(epoch(c), 0) for c in cells] if usage else None
        if left is None or min(left) == capacity:  # nothing booked in this span yet
            out.extend(untouched[first:])
            continue
        for i in range(first, len(starts)):
            free = left[i] if n == 1 else min(left[i : i + n])
            if free == capacity:
                out.append(untouched[i])
            elif free > 0:
                out.append(Slot(starts[i][0], starts[i][1], free, location_id))
    return out


@lru_cache(maxsize=32768)
def _untouched_slots(
    day: dt.date, span: tuple[int, int], grid: int, duration: int, capacity: int, location_id: str
) -> tuple[Slot, ...]:
    """A span's slots while nothing in it is booked. Slots are immutable, so searches share
    them: a 60-day search would otherwise build tens of thousands of the same tuples."""
    return tuple(
        Slot(a, b, capacity, location_id) for a, b in _span_starts(day, span, grid, duration)
    )


def free_slots(
    schedule: Schedule,
    *,
    date_from: dt.date,
    date_to: dt.date,
    duration: int,
    usage: Mapping[int, int],
    not_before: dt.datetime,
    location_id: str = "",
) -> list[Slot]:
    """All free slots between two local dates (inclusive), earliest first."""
    out: list[Slot] = []
    day = date_from
    while day <= date_to:
        out.extend(
            day_slots(
                schedule,
                day,
                duration=duration,
                usage=usage,
                not_before=not_before,
                location_id=location_id,
            )
        )
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
            cells = tuple(to_utc(local.date(), minute + k * schedule.grid) for k in range(n))
            if cells[0] != start:  # the repeated hour of autumn: the grid holds its first pass
                break
            return cells
    raise SlotProblem(
        "outside_opening_hours", N_("Zu dieser Uhrzeit werden keine Termine angeboten.")
    )
