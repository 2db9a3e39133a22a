"""The input boundary: bounded ids, numbers, dates and text shared by every route.

A value is bounded before any code uses it: an unbounded counter once made a page build a list
of 10^20 entries, an id of 2^63 overflowed SQLite and a NUL byte broke PostgreSQL. Routes and
schemas declare their parameters with these types; the request guard (web.input_guard) refuses
forbidden characters in every text a request carries, so no domain repeats these checks.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from servicepoint.core.clock import today_local
from servicepoint.core.i18n import N_

# Every numeric primary key is an INTEGER column: PostgreSQL's int4 ends here.
MAX_ID = 2_147_483_647
MAX_COUNTER = 99
MAX_KEY = 64  # ids of services and locations, booking codes, ticket tokens, slugs
MAX_JSON_DEPTH = 20
# Dates a citizen or an admin can mean: closures, slot searches and bookings.
DAYS_BACK = 366
YEARS_AHEAD = 5

# Tab, line feed and carriage return belong to free text; every other C0/C1 control does not.
_ASCII_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Zero-width (non-)joiners shape Persian and Indic words and join emoji: they stay allowed.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What a person is told about such a character, by the request guard and by file imports alike.
BAD_TEXT = N_("enthält unerlaubte Steuer- oder Sonderzeichen")


def bad_char(ch: str) -> bool:
    """Controls, bidirectional overrides, invisible format characters and lone surrogates."""
    if ch in "\t\n\r":
        return False
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _ALLOWED_FORMAT
    return category in ("Cc", "Cs")


def first_bad_char(value: str) -> str | None:
    """The first forbidden character of `value`, or None when the text is clean."""
    if value.isascii():
        found = _ASCII_BAD.search(value)
        return found.group() if found else None
    return next((ch for ch in value if bad_char(ch)), None)


def first_bad_field(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The field of the first (field, text) pair with a forbidden character; "?" when the
    field name itself has one, so the answer never echoes it."""
    for field, value in pairs:
        if first_bad_char(field) is not None:
            return "?"
        if first_bad_char(value) is not None:
            return field
    return None


def json_texts(doc: object, root: str = "body") -> Iterator[tuple[str, str]]:
    """Every key and string value of parsed JSON with its dotted path (`root` for the top),
    without recursion: a document may nest as deep as MAX_JSON_DEPTH."""
    stack: list[tuple[str, object]] = [("", doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path or root, node
        elif isinstance(node, dict):
            for key, value in node.items():
                yield path or root, str(key)
                stack.append((f"{path}.{key}" if path else str(key), value))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(node))


def _clean(value: str) -> str:
    if first_bad_char(value) is not None:
        raise PydanticCustomError("invalid_characters", "forbidden control or invisible character")
    return value


def _normalised(value: str) -> str:
    """One spelling for one name: NFC (composed umlauts), no surrounding whitespace."""
    return unicodedata.normalize("NFC", _clean(value)).strip()


def _no_formula(value: str) -> str:
    if value.startswith(FORMULA_PREFIXES):
        raise PydanticCustomError("formula_prefix", "must not start with =, +, - or @")
    return value


def json_too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when JSON nests deeper than `limit`; scanned without parsing, so without recursion."""
    data = text.encode() if isinstance(text, str) else text
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 92, byte != 34)
        elif byte == 34:
            in_string = True
        elif byte in (91, 123):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (93, 125):  # ] }
            depth -= 1
    return False


def csv_cell(value: object) -> str:
    """A value for a CSV export that no spreadsheet program runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def date_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The dates a request may name: a year back (to look up) to five years ahead (to plan)."""
    today = today or today_local()
    return today - dt.timedelta(days=DAYS_BACK), today + dt.timedelta(days=366 * YEARS_AHEAD)


def _in_window(day: dt.date) -> None:
    low, high = date_window()
    if not low <= day <= high:
        raise PydanticCustomError(
            "date_window",
            "date outside {low} … {high}",
            {"low": low.isoformat(), "high": high.isoformat()},
        )


def _sane_date(value: dt.date | None) -> dt.date | None:
    if value is not None:
        _in_window(value)
    return value


def _sane_datetime(value: dt.datetime) -> dt.datetime:
    _in_window(value.date())
    return value


def blank_is_none(value: object) -> object:
    """An empty form field means "not given", not bad input (a GET form sends an empty date
    field as `date_from=`; an optional number field sends "")."""
    return value or None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Counter = Annotated[int, Field(ge=1, le=MAX_COUNTER)]
Step = Annotated[int, Field(ge=0, le=50)]
Count = Annotated[int, Field(ge=1, le=5000)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY), AfterValidator(_clean)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(_clean)]
Lang = Annotated[str, StringConstraints(min_length=1, max_length=8), AfterValidator(_clean)]
ShortText = Annotated[str, StringConstraints(max_length=300), AfterValidator(_normalised)]
LongText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_normalised)]
NextPath = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_clean)]
Name = Annotated[
    str,
    StringConstraints(max_length=200),
    AfterValidator(_normalised),
    AfterValidator(_no_formula),
]
Day = Annotated[dt.date, AfterValidator(_sane_date)]
OptionalDay = Annotated[dt.date | None, BeforeValidator(blank_is_none), AfterValidator(_sane_date)]
Moment = Annotated[AwareDatetime, AfterValidator(_sane_datetime)]
LocalMoment = Annotated[dt.datetime, AfterValidator(_sane_datetime)]
