"""One source of 'now', so tests can move time; times are aware, shown in Europe/Berlin."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(BERLIN)


def today_local() -> dt.date:
    return utcnow().astimezone(BERLIN).date()
