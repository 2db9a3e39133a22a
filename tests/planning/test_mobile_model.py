"""The mobile model's conventions: travel minutes, windows, workdays, hours and JSON."""

from __future__ import annotations

import datetime as dt

from servicepoint.planning.mobile_model import (
    DayRoute,
    Plan,
    StopSpec,
    Van,
    Visit,
    plan_from_json,
    plan_to_json,
    public_holidays,
    required_visits,
    stop_windows,
    travel_minutes,
    windows_from_hours,
    workdays,
)

VAN = Van(52.0, 9.0)


def test_travel_minutes_round_up_with_detour_and_speed() -> None:
    # 0.01° of latitude ≈ 1.112 km; × 1.3 / 25 km/h × 60 ≈ 3.47 → 4 minutes.
    assert travel_minutes(VAN, (52.0, 9.0), (52.01, 9.0)) == 4
    assert travel_minutes(VAN, (52.0, 9.0), (52.0, 9.0)) == 0


def test_stop_windows_cut_to_van_hours_and_drop_short_spans() -> None:
    stop = StopSpec("s", 52.0, 9.0, 60, windows={0: ((420, 600), (700, 730)), 2: ()})
    assert stop_windows(stop, VAN, 0) == ((480, 600),)  # 07:00 cut to 08:00; 30 min < service
    assert stop_windows(stop, VAN, 1) == () and stop_windows(stop, VAN, 2) == ()
    assert stop_windows(StopSpec("t", 52.0, 9.0, 60), VAN, 6) == ((480, 1020),)


def test_workdays_leave_out_weekends_and_holidays() -> None:
    start = dt.date(2027, 3, 22)
    holidays = public_holidays(start, 2)
    assert dt.date(2027, 3, 26) in holidays and dt.date(2027, 3, 29) in holidays
    days = workdays(VAN, start, 2, holidays)
    assert len(days) == 8 and all(d.weekday() < 5 for d in days)


def test_required_visits() -> None:
    assert [required_visits(StopSpec("s", 0, 0, 1, f), 4) for f in (1, 2, 4)] == [4, 2, 1]
    assert required_visits(StopSpec("s", 0, 0, 1, 4), 2) == 0


def test_windows_from_catalog_hours() -> None:
    hours = {"mo": [["09:00", "12:00"], ["14:00", "16:30"]], "we": [["10:00", "18:00"]], "fr": []}
    assert windows_from_hours(hours) == {0: ((540, 720), (840, 990)), 2: ((600, 1080),)}
    assert windows_from_hours(None) is None
    assert windows_from_hours({}) == {}


def test_plan_json_round_trip() -> None:
    plan = Plan(
        (
            DayRoute(dt.date(2027, 3, 1), (Visit("a", 490, 500, 560),), 480, 900, 600),
            DayRoute(dt.date(2027, 3, 2), (), 480, 480, None),
        )
    )
    data = plan_to_json(plan, VAN)
    assert data[0]["break_end"] == 630 and data[0]["visits"][0]["from"] == "08:20"
    assert plan_from_json(data) == plan
