"""The independent checker: a hand-made valid plan passes; each rule rejects its own bad plan."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from servicepoint.planning.mobile_check import check_plan
from servicepoint.planning.mobile_model import DayRoute, Plan, StopSpec, Van, Visit

MON = dt.date(2027, 3, 1)  # a Monday
VAN = Van(52.0, 9.0)
# A: ~0.7 km east of the depot (~2.1 min), B: ~0.6 km north (~1.7 min); A–B ~0.9 km (~2.9 min).
A = StopSpec("A", 52.0, 9.01, 60, frequency_weeks=1, min_spacing_days=5)
B = StopSpec(
    "B", 52.005, 9.0, 60, frequency_weeks=2, min_spacing_days=0, windows={0: ((540, 720),)}
)
STOPS = [A, B]


def day(
    date: dt.date, *visits: Visit, leave: int = 480, back: int, pause: int | None = None
) -> DayRoute:
    return DayRoute(date, visits, leave, back, pause)


def valid_days() -> list[DayRoute]:
    return [
        day(MON, Visit("A", 490, 490, 550), Visit("B", 565, 565, 625), back=640),
        day(MON + dt.timedelta(days=7), Visit("A", 490, 490, 550), back=570),
    ]


def kinds(
    days: list[DayRoute], van: Van = VAN, holidays: frozenset[dt.date] = frozenset()
) -> set[str]:
    found = check_plan(Plan(tuple(days)), STOPS, van, start=MON, weeks=2, holidays=holidays)
    assert all(v.detail for v in found)
    return {v.kind for v in found}


def test_a_valid_plan_passes() -> None:
    assert kinds(valid_days()) == set()


def test_a_long_day_with_a_proper_break_passes() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 800, 800, 860), back=870, pause=600)
    assert kinds(days) == set()


def test_frequency_missing_visit() -> None:
    assert kinds(valid_days()[:1]) == {"frequency"}


def test_frequency_visit_outside_the_horizon() -> None:
    days = [*valid_days(), day(MON + dt.timedelta(days=14), Visit("A", 490, 490, 550), back=570)]
    assert kinds(days) == {"frequency", "workday"}


def test_spacing() -> None:
    days = valid_days()
    days[0] = day(MON, Visit("B", 565, 565, 625), back=640)
    days.append(day(MON + dt.timedelta(days=4), Visit("A", 490, 490, 550), back=570))  # Fri, 3 days
    assert kinds(days) == {"spacing"}


def test_window() -> None:
    days = valid_days()
    days[0] = day(MON, Visit("A", 490, 490, 550), Visit("B", 700, 700, 760), back=780)
    assert kinds(days) == {"window"}


def test_closed_weekday_is_outside_the_window() -> None:
    days = valid_days()
    days[0] = day(MON, Visit("A", 490, 490, 550), back=570)
    days.append(day(MON + dt.timedelta(days=1), Visit("B", 565, 565, 625), back=640))  # Tuesday
    assert kinds(days) == {"window"}


def test_van_hours() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 490, 490, 550), leave=470, back=570)
    assert kinds(days) == {"van_hours"}


def test_break_missing_after_six_hours() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 800, 800, 860), back=870)  # 390 minutes, no break
    assert kinds(days) == {"break"}


def test_break_inside_a_service() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 800, 800, 860), back=870, pause=820)
    assert kinds(days) == {"break"}


def test_break_too_late_leaves_a_stretch_over_six_hours() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 490, 490, 550), back=900, pause=860)  # 380 min before
    assert kinds(days) == {"break"}


def test_work_time() -> None:
    assert kinds(valid_days(), van=dataclasses.replace(VAN, max_work_minutes=120)) == {"work_time"}


def test_travel_between_stops() -> None:
    days = valid_days()
    days[0] = day(MON, Visit("A", 490, 490, 550), Visit("B", 551, 565, 625), back=640)
    assert kinds(days) == {"travel"}


def test_travel_from_the_depot_and_back() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 481, 481, 541), back=542)
    assert kinds(days) == {"travel"}


def test_the_break_is_not_driving() -> None:
    days = valid_days()
    # 30 minutes between A and B, all of it break: no time left to drive.
    days[0] = day(MON, Visit("A", 490, 490, 550), Visit("B", 580, 580, 640), back=660, pause=550)
    assert kinds(days) == {"travel"}


def test_double_visit() -> None:
    days = valid_days()
    twice = (Visit("A", 490, 490, 550), Visit("B", 565, 565, 625), Visit("A", 640, 640, 700))
    days[0] = day(MON, *twice, back=710)
    assert "double_visit" in kinds(days)


def test_unknown_stop() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 490, 490, 550), Visit("Z", 600, 600, 660), back=700)
    assert kinds(days) == {"unknown_stop"}


def test_workday_weekend() -> None:
    days = valid_days()
    days[1] = day(MON + dt.timedelta(days=12), Visit("A", 490, 490, 550), back=570)  # Saturday
    assert kinds(days) == {"workday"}


def test_workday_public_holiday() -> None:
    assert kinds(valid_days(), holidays=frozenset({MON + dt.timedelta(days=7)})) == {"workday"}


def test_two_routes_on_one_day() -> None:
    days = [*valid_days(), day(MON, back=480)]
    assert kinds(days) == {"workday"}


def test_service_length() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 490, 490, 540), back=560)
    assert kinds(days) == {"service"}


def test_order() -> None:
    days = valid_days()
    days[1] = day(days[1].day, Visit("A", 495, 490, 550), back=570)
    assert kinds(days) == {"order"}


@pytest.mark.parametrize("weeks", [1, 2])
def test_check_plan_empty_plan_reports_every_missing_visit(weeks: int) -> None:
    found = check_plan(Plan(()), STOPS, VAN, start=MON, weeks=weeks)
    assert {v.kind for v in found} == {"frequency"}
    assert len(found) == weeks + weeks // 2


def test_details_carry_their_msgid_for_translation() -> None:
    days = valid_days()
    days[0] = day(MON, Visit("A", 490, 490, 550), Visit("B", 551, 565, 625), back=640)
    (found,) = check_plan(Plan(tuple(days)), STOPS, VAN, start=MON, weeks=2)
    assert found.message == "Fahrzeit %(got)s Minuten, nötig sind mindestens %(need)s."
    assert found.detail == "Fahrzeit 1 Minuten, nötig sind mindestens 3."
    assert found.translated(lambda m: m.replace("Fahrzeit", "Driving")).startswith("Driving 1")
