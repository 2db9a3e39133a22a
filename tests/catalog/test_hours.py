"""Opening-hours parser: 'Mo-Fr 08:00-12:00; Do 14:00-18:00' <-> {day: [[open, close]]} (pure)."""

from __future__ import annotations

import random

import pytest

from servicepoint.catalog.hours import DAYS, HoursError, format_hours, parse_hours

WEEKDAYS = ["mo", "tu", "we", "th", "fr"]


# -- ranges and spans ---------------------------------------------------------------------------
def test_day_range_expands_to_every_day_in_between() -> None:
    hours = parse_hours("Mo-Fr 08:00-12:00")
    assert sorted(hours, key=DAYS.index) == WEEKDAYS
    assert all(hours[day] == [["08:00", "12:00"]] for day in WEEKDAYS)
    assert "sa" not in hours and "su" not in hours


def test_single_day() -> None:
    assert parse_hours("Sa 09:00-13:00") == {"sa": [["09:00", "13:00"]]}


def test_later_rule_adds_a_span_to_a_day_already_covered() -> None:
    hours = parse_hours("Mo-Fr 08:00-12:00; Do 14:00-18:00")
    assert hours["th"] == [["08:00", "12:00"], ["14:00", "18:00"]]
    assert hours["mo"] == [["08:00", "12:00"]]


def test_several_spans_in_one_rule_are_sorted() -> None:
    hours = parse_hours("Di 14:00-18:00, 08:00-12:00")
    assert hours == {"tu": [["08:00", "12:00"], ["14:00", "18:00"]]}


def test_spans_that_touch_do_not_count_as_overlap() -> None:
    assert parse_hours("Mo 08:00-12:00, 12:00-14:00") == {
        "mo": [["08:00", "12:00"], ["12:00", "14:00"]]
    }


@pytest.mark.parametrize(
    ("german", "english"),
    [
        ("Mo", "mo"),
        ("Di", "tu"),
        ("Mi", "we"),
        ("Do", "th"),
        ("Fr", "fr"),
        ("Sa", "sa"),
        ("So", "su"),
    ],
)
def test_german_and_english_day_abbreviations(german: str, english: str) -> None:
    assert parse_hours(f"{german} 08:00-09:00") == parse_hours(f"{english.upper()} 08:00-09:00")
    assert parse_hours(f"{german} 08:00-09:00") == {english: [["08:00", "09:00"]]}


def test_case_spaces_and_single_digit_hours_are_normalised() -> None:
    assert parse_hours("  mo - mi  8:00 - 12:30 ;  ") == {
        day: [["08:00", "12:30"]] for day in ("mo", "tu", "we")
    }


def test_midnight_as_closing_time_is_allowed() -> None:
    assert parse_hours("Fr 18:00-24:00") == {"fr": [["18:00", "24:00"]]}


def test_empty_text_means_closed_every_day() -> None:
    assert parse_hours("") == {}
    assert parse_hours(" ; ") == {}


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Fr-Mo 08:00-12:00",  # day range backwards
        "So-Mo 08:00-12:00",
    ],
)
def test_backwards_day_range_is_rejected(text: str) -> None:
    with pytest.raises(HoursError, match="backwards"):
        parse_hours(text)


@pytest.mark.parametrize("text", ["Mo 12:00-08:00", "Mo 08:00-08:00"])
def test_closing_before_opening_is_rejected(text: str) -> None:
    with pytest.raises(HoursError, match="not before"):
        parse_hours(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mo 08:00-12:00, 11:00-13:00",
        "Mo-Fr 08:00-12:00; Mi 09:00-10:00",
        "Mo 08:00-18:00; Mo 12:00-13:00",
    ],
)
def test_overlapping_spans_are_rejected(text: str) -> None:
    with pytest.raises(HoursError, match="overlap"):
        parse_hours(text)


@pytest.mark.parametrize(
    "text", ["Mo 25:00-26:00", "Mo 08:60-09:00", "Mo 08:00-24:30", "Mo 99:00-99:30"]
)
def test_impossible_times_are_rejected(text: str) -> None:
    with pytest.raises(HoursError, match="invalid time"):
        parse_hours(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mo",  # no time
        "Mo 08-12",  # no minutes
        "Mo 8.00-12.00",  # wrong separator
        "Montag 08:00-12:00",  # day written out
        "Mo-Fr",  # no spans
        "08:00-12:00",  # no day
        "Mo 08:00-12:00 Uhr",  # trailing words
        "Mo 08:00-12:00,",  # dangling comma
        "Mo 08:000-12:00",
    ],
)
def test_unreadable_rules_are_rejected(text: str) -> None:
    with pytest.raises(HoursError, match="cannot read"):
        parse_hours(text)


@pytest.mark.parametrize("text", ["Xx 08:00-12:00", "Mo-Zz 08:00-12:00"])
def test_unknown_day_is_rejected(text: str) -> None:
    with pytest.raises(HoursError, match="unknown day"):
        parse_hours(text)


def test_error_is_a_value_error_so_pydantic_validators_can_reuse_it() -> None:
    assert issubclass(HoursError, ValueError)


# -- formatting and round trip -------------------------------------------------------------------
def test_format_writes_one_rule_per_day_in_week_order() -> None:
    hours = {"th": [["14:00", "18:00"]], "mo": [["08:00", "12:00"], ["13:00", "15:00"]]}
    assert format_hours(hours) == "Mo 08:00-12:00, 13:00-15:00; Th 14:00-18:00"


def test_format_skips_days_without_spans() -> None:
    assert format_hours({"mo": [], "tu": [["08:00", "09:00"]]}) == "Tu 08:00-09:00"
    assert format_hours({}) == ""


@pytest.mark.parametrize(
    "text",
    [
        "Mo-Fr 08:00-12:00; Do 14:00-18:00",
        "Mo 07:30-09:00, 10:00-12:00, 13:00-24:00; Sa 09:00-13:00",
        "So 00:00-24:00",
        "",
    ],
)
def test_round_trip_parse_format_parse(text: str) -> None:
    hours = parse_hours(text)
    assert parse_hours(format_hours(hours)) == hours
    # And formatting is stable: a second pass gives the same text.
    assert format_hours(parse_hours(format_hours(hours))) == format_hours(hours)


def test_round_trip_on_random_schedules() -> None:
    rng = random.Random(20260207)
    for _ in range(200):
        hours: dict[str, list[list[str]]] = {}
        for day in DAYS:
            cuts = sorted(rng.sample(range(0, 24 * 4 + 1), k=2 * rng.randint(0, 3)))
            spans = [
                [f"{a // 4:02d}:{a % 4 * 15:02d}", f"{b // 4:02d}:{b % 4 * 15:02d}"]
                for a, b in zip(cuts[::2], cuts[1::2], strict=True)
            ]
            if spans:
                hours[day] = spans
        assert parse_hours(format_hours(hours)) == hours
