"""Slot computation (pure): the grid, durations, spans, capacity, holidays, closures and DST."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from servicepoint.appointment.slots import (
    Schedule,
    Slot,
    SlotProblem,
    cells_needed,
    check_start,
    day_slots,
    epoch,
    free_slots,
    is_holiday,
    to_utc,
)
from servicepoint.core.clock import BERLIN

UTC = dt.UTC
MONDAY = dt.date(2026, 12, 14)
EARLY = dt.datetime(2026, 1, 1, tzinfo=UTC)  # not_before far in the past: nothing filtered
WEEKDAYS = {day: [["08:00", "12:00"]] for day in ("mo", "tu", "we", "th", "fr")}


def berlin(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


def schedule(
    hours: Mapping[str, list[list[str]]] | None = None,
    *,
    grid: int = 10,
    capacity: int = 2,
    closed: frozenset[dt.date] = frozenset(),
) -> Schedule:
    return Schedule.from_hours(hours or WEEKDAYS, grid=grid, capacity=capacity, closed=closed)


def local_times(slots: list[Slot]) -> list[str]:
    return [s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots]


def slots_on(
    sched: Schedule,
    day: dt.date,
    *,
    duration: int = 10,
    usage: Mapping[int, int] | None = None,
    not_before: dt.datetime = EARLY,
) -> list[Slot]:
    return day_slots(sched, day, duration=duration, usage=usage or {}, not_before=not_before)


# -- grid and durations -----------------------------------------------------------------------
def test_a_span_is_cut_into_grid_cells_in_utc() -> None:
    slots = slots_on(schedule({"mo": [["08:00", "09:00"]]}), MONDAY)
    assert local_times(slots) == ["08:00", "08:10", "08:20", "08:30", "08:40", "08:50"]
    assert slots[0].start == dt.datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # CET = UTC+1
    assert all(s.start.tzinfo == UTC for s in slots)
    assert all(s.end - s.start == dt.timedelta(minutes=10) for s in slots)
    assert all(s.capacity_left == 2 for s in slots)


@pytest.mark.parametrize(
    ("minutes", "grid", "cells"),
    [
        (1, 10, 1),
        (10, 10, 1),
        (11, 10, 2),
        (15, 10, 2),
        (20, 10, 2),
        (21, 10, 3),
        (45, 15, 3),
        (0, 10, 1),
    ],
)
def test_a_duration_takes_whole_cells(minutes: int, grid: int, cells: int) -> None:
    assert cells_needed(minutes, grid) == cells


def test_longer_appointments_start_only_where_all_their_cells_fit() -> None:
    slots = slots_on(schedule({"mo": [["08:00", "09:00"]]}), MONDAY, duration=25)
    assert local_times(slots) == ["08:00", "08:10", "08:20", "08:30"]  # 3 cells each
    assert all(s.end - s.start == dt.timedelta(minutes=25) for s in slots)


def test_a_grid_of_fifteen_minutes() -> None:
    slots = slots_on(schedule({"mo": [["08:00", "09:00"]]}, grid=15), MONDAY, duration=15)
    assert local_times(slots) == ["08:00", "08:15", "08:30", "08:45"]


def test_an_appointment_never_crosses_from_one_span_into_the_next() -> None:
    sched = schedule({"mo": [["08:00", "09:00"], ["09:00", "10:00"], ["14:00", "14:30"]]})
    slots = slots_on(sched, MONDAY, duration=30)
    times = local_times(slots)
    assert times == [
        "08:00",
        "08:10",
        "08:20",
        "08:30",
        "09:00",
        "09:10",
        "09:20",
        "09:30",
        "14:00",
    ]
    assert "08:40" not in times and "08:50" not in times  # would run into the next span
    with pytest.raises(SlotProblem) as info:
        check_start(
            sched,
            berlin(MONDAY, "08:40"),
            duration=30,
            not_before=EARLY,
            latest=berlin(MONDAY, "23:00"),
        )
    assert info.value.code == "outside_opening_hours"


def test_days_without_hours_have_no_slots() -> None:
    sched = schedule()
    assert slots_on(sched, dt.date(2026, 12, 19)) == []  # Saturday
    assert slots_on(sched, dt.date(2026, 12, 20)) == []  # Sunday


# -- capacity and not_before ------------------------------------------------------------------
def test_capacity_left_is_the_smallest_free_count_of_the_cells_taken() -> None:
    sched = schedule({"mo": [["08:00", "09:00"]]}, capacity=3)
    usage = {
        epoch(berlin(MONDAY, "08:10")): 2,
        epoch(berlin(MONDAY, "08:20")): 3,  # full
    }
    single = {s.start: s.capacity_left for s in slots_on(sched, MONDAY, usage=usage)}
    assert single[berlin(MONDAY, "08:00")] == 3
    assert single[berlin(MONDAY, "08:10")] == 1
    assert berlin(MONDAY, "08:20") not in single
    double = {s.start: s.capacity_left for s in slots_on(sched, MONDAY, duration=20, usage=usage)}
    assert double[berlin(MONDAY, "08:00")] == 1  # 08:00 has 3, 08:10 only 1
    assert berlin(MONDAY, "08:10") not in double  # needs 08:20, which is full
    assert double[berlin(MONDAY, "08:30")] == 3


def test_shared_untouched_slots_never_hide_a_booking() -> None:
    """Spans without bookings reuse the same slot tuples across searches; a booking in one
    span must still show in that span, and only there, and later searches see it too."""
    sched = schedule({"mo": [["08:00", "09:00"], ["14:00", "15:00"]]}, capacity=2)
    empty = slots_on(sched, MONDAY)
    assert slots_on(sched, MONDAY) == empty and all(s.capacity_left == 2 for s in empty)
    usage = {epoch(berlin(MONDAY, "14:30")): 2, epoch(berlin(MONDAY, "08:40")): 1}
    booked = {s.start: s.capacity_left for s in slots_on(sched, MONDAY, usage=usage)}
    assert berlin(MONDAY, "14:30") not in booked
    assert booked[berlin(MONDAY, "08:40")] == 1
    assert booked[berlin(MONDAY, "14:20")] == 2 and booked[berlin(MONDAY, "08:00")] == 2
    assert len(booked) == len(empty) - 1
    assert slots_on(sched, MONDAY) == empty  # the shared tuples were not changed


def test_no_capacity_means_no_slots() -> None:
    assert slots_on(schedule(capacity=0), MONDAY) == []


def test_nothing_before_not_before() -> None:
    slots = slots_on(schedule(), MONDAY, not_before=berlin(MONDAY, "10:25"))
    assert local_times(slots)[0] == "10:30"
    with_usage = slots_on(
        schedule(),
        MONDAY,
        not_before=berlin(MONDAY, "10:30"),
        usage={epoch(berlin(MONDAY, "11:00")): 1},
    )
    assert local_times(with_usage)[0] == "10:30"


def test_free_slots_span_several_days_in_order() -> None:
    slots = free_slots(
        schedule({"mo": [["08:00", "08:20"]], "we": [["08:00", "08:20"]]}),
        date_from=MONDAY,
        date_to=MONDAY + dt.timedelta(days=7),
        duration=10,
        usage={},
        not_before=EARLY,
        location_id="x",
    )
    days = [s.start.astimezone(BERLIN).date().isoformat() for s in slots]
    assert days == [
        "2026-12-14",
        "2026-12-14",
        "2026-12-16",
        "2026-12-16",
        "2026-12-21",
        "2026-12-21",
    ]
    assert [s.start for s in slots] == sorted(s.start for s in slots)
    assert {s.location_id for s in slots} == {"x"}


# -- closed days ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 12, 25),  # Erster Weihnachtstag (Friday)
        dt.date(2026, 12, 26),  # Zweiter Weihnachtstag (Saturday)
        dt.date(2027, 1, 1),  # Neujahr (Friday)
        dt.date(2026, 10, 31),  # Reformationstag: a holiday in Lower Saxony since 2018
        dt.date(2026, 10, 3),  # Tag der Deutschen Einheit
        dt.date(2026, 4, 3),  # Karfreitag
        dt.date(2026, 5, 25),  # Pfingstmontag
    ],
)
def test_lower_saxony_holidays_are_closed(day: dt.date) -> None:
    every_day = {d: [["08:00", "12:00"]] for d in ("mo", "tu", "we", "th", "fr", "sa", "su")}
    sched = schedule(every_day)
    assert is_holiday(day)
    assert not sched.is_open(day)
    assert slots_on(sched, day) == []
    assert slots_on(sched, day - dt.timedelta(days=1)) or is_holiday(day - dt.timedelta(days=1))


def test_holidays_are_those_of_lower_saxony() -> None:
    assert not is_holiday(dt.date(2026, 11, 18))  # Buß- und Bettag: Saxony only
    assert not is_holiday(dt.date(2026, 6, 4))  # Fronleichnam: not in Lower Saxony
    assert is_holiday(dt.date(2026, 6, 4), "BY")
    assert not is_holiday(dt.date(2026, 12, 24))  # Heiligabend is a working day
    assert schedule().is_open(dt.date(2026, 12, 24))


def test_ad_hoc_closures_close_the_day_only() -> None:
    training = dt.date(2026, 12, 16)
    sched = schedule(closed=frozenset({training}))
    assert slots_on(sched, training) == []
    assert not sched.is_open(training)
    assert slots_on(sched, training + dt.timedelta(days=1))
    with pytest.raises(SlotProblem) as info:
        check_start(
            sched,
            berlin(training, "09:00"),
            duration=10,
            not_before=EARLY,
            latest=berlin(training, "23:00"),
        )
    assert info.value.code == "closed"


# -- daylight saving time ---------------------------------------------------------------------
EVERY_DAY = {d: [["08:00", "12:00"]] for d in ("mo", "tu", "we", "th", "fr", "sa", "su")}


@pytest.mark.parametrize(
    ("day", "first_utc"),
    [
        (dt.date(2026, 3, 28), dt.datetime(2026, 3, 28, 7, 0, tzinfo=UTC)),  # still CET (+1)
        (dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),  # CEST (+2) from 02:00
        (dt.date(2026, 10, 24), dt.datetime(2026, 10, 24, 6, 0, tzinfo=UTC)),  # still CEST
        (dt.date(2026, 10, 25), dt.datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),  # CET from 03:00
    ],
)
def test_dst_days_give_the_right_utc_times(day: dt.date, first_utc: dt.datetime) -> None:
    slots = slots_on(schedule(EVERY_DAY), day, duration=20)
    assert slots[0].start == first_utc
    assert slots[-1].start == first_utc + dt.timedelta(hours=3, minutes=40)
    assert local_times(slots)[0] == "08:00" and local_times(slots)[-1] == "11:40"
    assert all(s.end - s.start == dt.timedelta(minutes=20) for s in slots)
    cells = check_start(
        schedule(EVERY_DAY),
        first_utc,
        duration=20,
        not_before=EARLY,
        latest=first_utc + dt.timedelta(days=1),
    )
    assert cells == (first_utc, first_utc + dt.timedelta(minutes=10))


def test_to_utc_on_dst_days() -> None:
    assert to_utc(dt.date(2026, 3, 29), 60) == dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert to_utc(dt.date(2026, 3, 29), 180) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert to_utc(dt.date(2026, 10, 25), 60) == dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert to_utc(dt.date(2026, 10, 25), 180) == dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
def test_a_night_span_across_the_clock_change_has_unique_real_times(day: dt.date) -> None:
    """02:00-03:00 does not exist on 29 March and happens twice on 25 October: every offered
    start is a real instant, offered once, in order."""
    sched = schedule({"su": [["01:00", "04:00"]]})
    slots = slots_on(sched, day)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    for start in starts:  # each shown wall time maps back to the same instant
        local = start.astimezone(BERLIN)
        assert to_utc(day, local.hour * 60 + local.minute) == start
    assert "01:00" in local_times(slots) and "03:50" in local_times(slots)


def test_the_repeated_autumn_hour_is_not_silently_moved() -> None:
    """At 02:30 on 25 October the clock shows the same time twice; the grid offers the first
    pass only, and a start in the second pass must not be booked as the first one."""
    sched = schedule({"su": [["01:00", "04:00"]]})
    day = dt.date(2026, 10, 25)
    first_pass = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_pass = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    latest = first_pass + dt.timedelta(days=1)
    assert check_start(sched, first_pass, duration=10, not_before=EARLY, latest=latest) == (
        first_pass,
    )
    with pytest.raises(SlotProblem) as info:
        check_start(sched, second_pass, duration=10, not_before=EARLY, latest=latest)
    assert info.value.code == "outside_opening_hours"
    assert second_pass not in [s.start for s in slots_on(sched, day)]


# -- check_start ------------------------------------------------------------------------------
def check(
    start: dt.datetime,
    *,
    duration: int = 15,
    sched: Schedule | None = None,
    now: dt.datetime | None = None,
) -> tuple[dt.datetime, ...]:
    now = now or berlin(MONDAY, "08:00")
    return check_start(
        sched or schedule(),
        start,
        duration=duration,
        not_before=now + dt.timedelta(minutes=60),
        latest=now + dt.timedelta(days=60),
    )


def test_a_valid_start_returns_its_cells_in_utc() -> None:
    cells = check(berlin(MONDAY, "09:10"), duration=15)
    assert cells == (
        dt.datetime(2026, 12, 14, 8, 10, tzinfo=UTC),
        dt.datetime(2026, 12, 14, 8, 20, tzinfo=UTC),
    )
    # the same instant given in UTC is the same start
    assert check(dt.datetime(2026, 12, 14, 8, 10, tzinfo=UTC)) == cells


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (berlin(MONDAY, "07:00"), "start_in_past"),  # before now
        (berlin(MONDAY, "08:50"), "start_in_past"),  # inside the lead time
        (berlin(MONDAY, "09:05"), "not_on_grid"),
        (berlin(MONDAY, "09:10") + dt.timedelta(seconds=30), "not_on_grid"),
        (berlin(MONDAY, "12:00"), "outside_opening_hours"),
        (berlin(MONDAY, "13:00"), "outside_opening_hours"),
        (berlin(MONDAY, "11:50"), "outside_opening_hours"),  # 15 minutes would run past 12:00
        (berlin(dt.date(2026, 12, 19), "09:00"), "outside_opening_hours"),  # Saturday
        (berlin(dt.date(2026, 12, 25), "09:00"), "closed"),  # Christmas
        (berlin(dt.date(2027, 2, 15), "09:00"), "too_far_ahead"),  # more than 60 days
        (dt.datetime(2026, 12, 15, 9, 0), "naive_time"),
    ],
)
def test_check_start_refuses_with_a_code(start: dt.datetime, code: str) -> None:
    with pytest.raises(SlotProblem) as info:
        check(start)
    assert info.value.code == code
    assert str(info.value)  # a message for people, not only a code


def test_the_last_start_that_still_fits_is_accepted() -> None:
    assert len(check(berlin(MONDAY, "11:40"), duration=20)) == 2
    assert len(check(berlin(MONDAY, "11:50"), duration=10)) == 1
