"""The wait estimate (consultation.waiting): pure, no database."""

from __future__ import annotations

import datetime as dt

from servicepoint.consultation.waiting import OVERRUN, Ahead, Estimate, Running, estimate

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def test_first_in_line_with_a_free_clerk_starts_at_the_booked_time() -> None:
    assert estimate(own_start=at(5), ahead=[], running=[], clerks=1, now=NOW) == Estimate(5, False)


def test_at_the_booked_time_a_free_clerk_means_no_wait_and_not_late() -> None:
    assert estimate(own_start=at(0), ahead=[], running=[], clerks=1, now=NOW) == Estimate(0, False)


def test_past_the_booked_time_the_clerk_is_late_even_with_no_call_running() -> None:
    # Nobody ahead, nothing running, yet nobody lets the citizen in: say so, every time.
    assert estimate(own_start=at(-3), ahead=[], running=[], clerks=1, now=NOW) == Estimate(3, True)
    assert estimate(own_start=at(-20), ahead=[], running=[], clerks=2, now=NOW) == Estimate(3, True)


def test_the_people_ahead_are_served_first_one_clerk() -> None:
    ahead = [Ahead(at(-10), 15), Ahead(at(0), 15)]
    found = estimate(own_start=at(5), ahead=ahead, running=[], clerks=1, now=NOW)
    # The first ahead begins now (their time is past), the second at 9:15, the citizen at 9:30.
    assert found == Estimate(30, True)


def test_two_clerks_share_the_people_ahead() -> None:
    ahead = [Ahead(at(0), 15), Ahead(at(0), 15)]
    found = estimate(own_start=at(0), ahead=ahead, running=[], clerks=2, now=NOW)
    assert found == Estimate(15, True)


def test_nobody_is_served_before_their_own_slot() -> None:
    # The one ahead is booked at 9:20: the clerk is free until then and serves them 9:20-9:35,
    # the citizen booked at 9:40 starts on time.
    ahead = [Ahead(at(20), 15)]
    assert estimate(own_start=at(40), ahead=ahead, running=[], clerks=1, now=NOW) == Estimate(
        40, False
    )


def test_a_running_call_holds_its_clerk_until_its_planned_end() -> None:
    running = [Running(admitted_at=at(-5), minutes=15)]
    found = estimate(own_start=at(0), ahead=[], running=running, clerks=1, now=NOW)
    assert found == Estimate(10, True)


def test_a_call_past_its_planned_end_pushes_everyone_behind() -> None:
    # Admitted 40 minutes ago for 15: planned to end 25 minutes ago, still going.
    running = [Running(admitted_at=at(-40), minutes=15)]
    ahead = [Ahead(at(-20), 15)]
    found = estimate(own_start=at(-5), ahead=ahead, running=running, clerks=1, now=NOW)
    overrun = OVERRUN.total_seconds() / 60
    assert found == Estimate(int(overrun) + 15, True)


def test_the_estimate_grows_while_the_clerk_runs_late() -> None:
    running = [Running(admitted_at=at(-30), minutes=15)]
    first = estimate(own_start=at(-10), ahead=[], running=running, clerks=1, now=NOW)
    later = estimate(own_start=at(-10), ahead=[], running=running, clerks=1, now=at(5))
    # Never "any moment now" for ever: the expected begin moves on with the clock.
    assert first == later == Estimate(3, True)
    assert at(first.minutes) < at(5 + later.minutes)


def test_a_free_second_clerk_takes_the_citizen_while_the_first_is_busy() -> None:
    running = [Running(admitted_at=at(-5), minutes=30)]
    found = estimate(own_start=at(0), ahead=[], running=running, clerks=2, now=NOW)
    assert found == Estimate(0, False)


def test_more_calls_than_counters_means_more_clerks_at_work() -> None:
    running = [Running(at(-5), 15), Running(at(-5), 15), Running(at(-5), 15)]
    found = estimate(own_start=at(0), ahead=[], running=running, clerks=2, now=NOW)
    assert found == Estimate(10, True)  # the first of three clerks to be free, not a fourth call


def test_no_counters_configured_still_gives_an_estimate() -> None:
    ahead = [Ahead(at(0), 10)]
    assert estimate(own_start=at(0), ahead=ahead, running=[], clerks=0, now=NOW) == Estimate(
        10, True
    )


def test_minutes_are_rounded_up_and_never_negative() -> None:
    found = estimate(own_start=at(0.5), ahead=[], running=[], clerks=1, now=NOW)
    assert found == Estimate(1, False)
    assert estimate(own_start=at(0), ahead=[], running=[], clerks=3, now=NOW).minutes == 0
