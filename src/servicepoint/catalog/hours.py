"""Opening hours: parse 'Mo-Fr 08:00-12:00; Do 14:00-18:00' into {day: [[open, close]]} (pure)."""

from __future__ import annotations

import itertools
import re

DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_ALIASES = {
    "mo": "mo",
    "di": "tu",
    "tu": "tu",
    "mi": "we",
    "we": "we",
    "do": "th",
    "th": "th",
    "fr": "fr",
    "sa": "sa",
    "so": "su",
    "su": "su",
}
# The days of the year whose hours an office sets apart, and how: closed, open in the morning
# only (until 12:00) or with its usual hours.
SPECIAL_DAYS = {"dec24": (12, 24), "dec31": (12, 31)}
SPECIAL_RULES = ("closed", "morning", "regular")
DAY_NAMES = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_RULE = re.compile(
    r"^\s*(?P<d1>[a-z]{2})(?:\s*-\s*(?P<d2>[a-z]{2}))?\s+(?P<spans>\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}"
    r"(?:\s*,\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})*)\s*$"
)


class HoursError(ValueError):
    pass


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise HoursError(f"invalid time {hhmm}")
    return hours * 60 + minutes


def _span(text: str) -> list[str]:
    start, end = (part.strip().zfill(5) for part in text.split("-"))
    if _minutes(start) >= _minutes(end):
        raise HoursError(f"opening {start} is not before closing {end}")
    return [start, end]


def _day_range(first: str, last: str | None) -> list[str]:
    try:
        a = DAYS.index(_ALIASES[first])
        b = DAYS.index(_ALIASES[last or first])
    except KeyError as exc:
        raise HoursError(f"unknown day {exc.args[0]!r}") from exc
    if b < a:
        raise HoursError(f"day range {first}-{last} runs backwards")
    return list(DAYS[a : b + 1])


def parse_hours(text: str) -> dict[str, list[list[str]]]:
    """Parse the rule string; rules may repeat a day to add spans. Raises HoursError."""
    result: dict[str, list[list[str]]] = {}
    for rule in filter(None, (r.strip() for r in text.lower().split(";"))):
        match = _RULE.match(rule)
        if not match:
            raise HoursError(f"cannot read {rule!r}; expected e.g. 'Mo-Fr 08:00-12:00'")
        spans = [_span(s) for s in match["spans"].split(",")]
        for day in _day_range(match["d1"], match["d2"]):
            result.setdefault(day, []).extend(spans)
    for spans in result.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise HoursError("opening spans overlap")
    return result


def format_hours(hours: dict[str, list[list[str]]]) -> str:
    """Inverse of parse_hours, one rule per day (stable, round-trips)."""
    rules = []
    for day in DAYS:
        if hours.get(day):
            spans = ", ".join(f"{a}-{b}" for a, b in hours[day])
            rules.append(f"{day.capitalize()} {spans}")
    return "; ".join(rules)


Hours = dict[str, list[list[str]]]


def intersect(hours: Hours, opening: Hours) -> Hours:
    """The part of `hours` that lies inside `opening`, day by day ("HH:MM" strings as
    parse_hours writes them compare like times)."""
    result: Hours = {}
    for day in DAYS:
        spans = [
            [max(a, c), min(b, d)]
            for a, b in hours.get(day, [])
            for c, d in opening.get(day, [])
            if max(a, c) < min(b, d)
        ]
        if spans:
            result[day] = sorted(spans)
    return result


def outside(hours: Hours, opening: Hours) -> Hours:
    """The part of `hours` that lies outside `opening` (empty when all of it is inside)."""
    result: Hours = {}
    for day in DAYS:
        rest: list[list[str]] = []
        for a, b in hours.get(day, []):
            start = a
            for c, d in sorted(opening.get(day, [])):
                if c < b and d > start:
                    if c > start:
                        rest.append([start, c])
                    start = max(start, d)
            if start < b:
                rest.append([start, b])
        if rest:
            result[day] = rest
    return result


def valid_hours(value: str | None) -> str | None:
    """For pydantic validators: the text (None or "" = none given) parses as opening hours;
    otherwise the parser's message, as the ValueError pydantic reports on the field."""
    try:
        parse_hours(value or "")
    except HoursError as exc:
        raise ValueError(str(exc)) from exc
    return value
