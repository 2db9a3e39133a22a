"""The slot list's paging rule, without a database: whole days until a page is full."""

from __future__ import annotations

import datetime as dt

from servicepoint.appointment.finding import whole_days
from servicepoint.appointment.slots import Slot

START = dt.datetime(2026, 12, 14, 8, 0, tzinfo=dt.UTC)


def day(n: int, count: int) -> tuple[dt.date, list[Slot]]:
    first = START + dt.timedelta(days=n)
    return first.date(), [Slot(first, first, 1, "aegi") for _ in range(count)]


def test_a_page_takes_whole_days_until_it_holds_enough() -> None:
    days = [day(0, 30), day(1, 30), day(2, 30)]
    assert whole_days(days, 40) == 2  # the second day is not cut at 40
    assert whole_days(days, 30) == 1
    assert whole_days(days, 1000) == 3
    assert whole_days([], 40) == 0


def test_one_long_day_is_one_page() -> None:
    assert whole_days([day(0, 300), day(1, 5)], 40) == 1
