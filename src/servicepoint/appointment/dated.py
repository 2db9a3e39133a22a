"""Dated hours (pure: no database, no web): the days a location is open apart from its weekly
hours, above all a mobile ServicePoint's visits, stored on its capacity as
{"2027-01-12": [["09:00", "12:00"]]}. `capacity.set_dated_hours` writes them, `slots.Schedule`
serves them, and the location pages and the .ics subscription list them as visits."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from servicepoint.appointment.slots import Schedule, is_holiday
from servicepoint.core.i18n import N_

# What a planner hands over: per day, spans of ("HH:MM", "HH:MM").
DatedHours = Mapping[dt.date, Sequence[Sequence[str]]]
Stored = dict[str, list[list[str]]]
MAX_DATES = 400  # more than a year of daily visits: more is a wrong plan
MAX_SPANS = 6  # spans of one day
KEEP_PAST_DAYS = 90  # past visits kept for the calendar subscription
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class DatedHoursError(ValueError):
    """Why dated hours cannot be stored; the message is a German msgid with `params`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


def _span(day: dt.date, span: Sequence[str]) -> list[str]:
    if (
        isinstance(span, str)
        or len(span) != 2
        or not all(isinstance(x, str) and _TIME.match(x) for x in span)
        or span[0] >= span[1]
    ):
        raise DatedHoursError(
            N_("Ungültige Zeitspanne am %(day)s: erwartet z. B. 09:00–12:00."),
            day=day.isoformat(),
        )
    return [span[0], span[1]]


def clean_dates(dates: DatedHours) -> Stored:
    """The dated hours as stored, checked: real dates, spans "HH:MM" with start before end,
    no overlaps. An empty list closes that day. Raises DatedHoursError."""
    if len(dates) > MAX_DATES:
        raise DatedHoursError(N_("Zu viele Tage (höchstens %(n)s)."), n=MAX_DATES)
    stored: Stored = {}
    for day, spans in dates.items():
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise DatedHoursError(N_("Ungültiges Datum: %(day)s"), day=str(day)[:40])
        if isinstance(spans, str) or len(spans) > MAX_SPANS:
            raise DatedHoursError(
                N_("Höchstens %(n)s Zeitspannen am %(day)s."), n=MAX_SPANS, day=day.isoformat()
            )
        cleaned = sorted(_span(day, s) for s in spans)
        for (_, end), (start, _) in itertools.pairwise(cleaned):
            if start < end:
                raise DatedHoursError(
                    N_("Die Zeitspannen am %(day)s überschneiden sich."), day=day.isoformat()
                )
        stored[day.isoformat()] = cleaned
    return dict(sorted(stored.items()))


def merge_spans(*groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The union of spans ("HH:MM" strings compare like times), overlapping ones joined."""
    merged: list[list[str]] = []
    for start, end in sorted([a, b] for group in groups for a, b in group):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def replace_future(old: Stored, new: Stored, *, today: dt.date, keep: Sequence[dt.date]) -> Stored:
    """Recent past days stay as they were (what happened; older ones are dropped, or the row
    would grow with every plan); from `today` on the new plan counts, except that a day in
    `keep` (it has bookings) keeps its old spans beside the new ones, so no booked
    appointment ever lies outside the hours."""
    first, oldest = today.isoformat(), (today - dt.timedelta(days=KEEP_PAST_DAYS)).isoformat()
    result = {day: spans for day, spans in old.items() if oldest <= day < first}
    result |= {day: spans for day, spans in new.items() if day >= first}
    for day in keep:
        key = day.isoformat()
        if key >= first and key in old:
            result[key] = merge_spans(old[key], result.get(key, []))
    return dict(sorted(result.items()))


@dataclass(frozen=True)
class Visit:
    """One day of dated hours as citizens see it. `status`: "open"; "holiday" (a public
    holiday: no visit); "closed" (the location is closed that day)."""

    day: dt.date
    spans: tuple[tuple[str, str], ...]
    status: str

    @property
    def open(self) -> bool:
        return self.status == "open"


def visits(
    schedule: Schedule, stored: Mapping[str, list[list[str]]] | None, *, since: dt.date
) -> list[Visit]:
    """The dated days from `since` on, earliest first, with whether each takes place."""
    out: list[Visit] = []
    for key, spans in sorted((stored or {}).items()):
        try:
            day = dt.date.fromisoformat(key)
        except ValueError:
            continue
        if day < since or not spans:
            continue
        if is_holiday(day, schedule.subdivision):
            status = "holiday"
        elif not schedule.is_open(day):
            status = "closed"
        else:
            status = "open"
        out.append(Visit(day, tuple((a, b) for a, b in spans), status))
    return out
