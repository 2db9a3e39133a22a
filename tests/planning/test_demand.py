"""Demand points and weights from the city's data (pure): every Stadtteil stays, each doubt is
an issue, weights = population × rate, adjusted only through the WeightAdjuster interface."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import pytest

from servicepoint.planning import demand as dm
from servicepoint.planning.adjusters import BookingAdjuster
from servicepoint.planning.demand import DemandPoint, SiteInfo, StadtteilRow, StoredPoint
from tests.conftest import DATA_DIR

BOROUGHS = {"Nordbezirk": (52.40, 9.70), "Leer": None}
ROWS = (
    StadtteilRow("Genau", "Nordbezirk", 1000, 52.41, 9.71),
    StadtteilRow("Ohne", "Nordbezirk", 500, None, None),
    StadtteilRow("Nirgends", "Leer", 200, None, None),
    StadtteilRow("Niemand", "Nordbezirk", None, 52.42, 9.72),
    StadtteilRow("Genau", "Nordbezirk", 10, 52.43, 9.73),
)


def test_each_stadtteil_gets_the_best_point_there_is_and_says_how_sure_it_is() -> None:
    stored = {"Ohne": StoredPoint(52.39, 9.69, None, corrected=True)}
    points, issues = dm.stadtteil_points(ROWS, BOROUGHS, stored, rate=2.0)
    by_id = {p.id: p for p in points}
    assert [p.id for p in points] == [
        "st:Genau",
        "st:Ohne",
        "st:Nirgends",
        "st:Niemand",
        "st:Genau~2",
    ]
    assert (by_id["st:Genau"].precision, by_id["st:Genau"].weight) == ("exact", 2000.0)
    assert (by_id["st:Ohne"].lat, by_id["st:Ohne"].precision) == (52.39, "corrected")
    assert (by_id["st:Nirgends"].lat, by_id["st:Nirgends"].precision) == (None, "missing")
    assert by_id["st:Niemand"].weight == 0 and by_id["st:Niemand"].population is None
    kinds = Counter((i.kind, i.subject) for i in issues)
    assert kinds == Counter(
        {
            ("missing_point", "Nirgends"): 1,
            ("zero_population", "Niemand"): 1,
            ("duplicate_name", "Genau"): 1,
        }
    )


def test_a_stadtteil_without_a_point_takes_its_boroughs_and_an_issue_says_so() -> None:
    points, issues = dm.stadtteil_points(ROWS[:2], BOROUGHS, {}, rate=1.0)
    assert (points[1].lat, points[1].lon, points[1].precision) == (52.40, 9.70, "approximate")
    assert issues[0].kind == "approximate_point" and "Nordbezirk" in issues[0].detail


def test_an_imported_layer_gives_point_and_shape() -> None:
    shape = {
        "type": "Polygon",
        "coordinates": [[[9.7, 52.4], [9.8, 52.4], [9.8, 52.5], [9.7, 52.4]]],
    }
    stored = {"Nirgends": StoredPoint(52.45, 9.75, shape, corrected=False)}
    points, issues = dm.stadtteil_points(ROWS[2:3], BOROUGHS, stored, rate=1.0)
    assert (points[0].precision, points[0].geometry) == ("layer", shape)
    assert issues == []


def test_shares_of_weight_on_approximate_and_missing_points() -> None:
    points, issues = dm.stadtteil_points(ROWS[:3], BOROUGHS, {}, rate=1.0)
    demand = dm.summarise(points, issues, basis="stadtteile", year="current", rate=1.0)
    assert demand.total_weight == 1700
    assert demand.approximate_share == pytest.approx(500 / 1700)
    assert demand.missing_share == pytest.approx(200 / 1700)
    assert [p.name for p in demand.placed()] == ["Genau", "Ohne"]


def test_hannovers_data_every_stadtteil_stays_and_nothing_is_invented() -> None:
    rows = dm.load_stadtteile(DATA_DIR)
    points, issues = dm.stadtteil_points(rows, dm.load_boroughs(DATA_DIR), {}, rate=1.0)
    assert len(points) == len(rows) == 49
    exact = {p.name for p in points if p.precision == "exact"}
    assert exact == {"Vahrenheide", "Sahlkamp", "Mittelfeld", "Hainholz", "Marienwerder", "Stöcken"}
    missing = {p.name for p in points if p.precision == "missing"}
    # Ricklingen and Nord have no Stadtbezirk point; Hainholz (Nord) has its own.
    assert missing == {r.name for r in rows if r.borough in ("Ricklingen", "Nord")} - {"Hainholz"}
    assert all(p.lat is None for p in points if p.precision == "missing")
    assert sum(p.population or 0 for p in points) == sum(r.population or 0 for r in rows)
    assert {i.subject for i in issues if i.kind == "missing_point"} == missing


def test_2034_splits_each_forecast_unit_over_its_stadtteile() -> None:
    rows = dm.load_stadtteile(DATA_DIR)
    growth = dm.forecast_growth(DATA_DIR)
    points, issues = dm.stadtteil_points(
        rows, dm.load_boroughs(DATA_DIR), {}, rate=1.0, growth=growth
    )
    # The forecast's city total for 31.12.2034 (the source file's own sum), rounding aside.
    assert sum(p.population or 0 for p in points) == pytest.approx(566_836, abs=30)
    by_name = {p.name: p.population for p in points}
    # Unit 6.2 Bemerode (Bemerode; Wülferode): 26,640 in 2034, split 19,922 : 985.
    assert by_name["Bemerode"] == round(26_640 * 19_922 / (19_922 + 985))
    # A combined row takes the unit of its parts (12.1 holds Ledeburg and Nordhafen).
    assert "Ledeburg/Nordhafen" in growth
    assert not [i for i in issues if i.kind == "no_forecast"]


def test_a_stadtteil_outside_the_forecast_keeps_todays_number_and_says_so() -> None:
    points, issues = dm.stadtteil_points(ROWS[:1], BOROUGHS, {}, rate=1.0, growth={})
    assert points[0].population == 1000
    assert [i.kind for i in issues] == ["no_forecast"]


class Doubling:
    name = "Test"

    def factors(self, points: Sequence[DemandPoint]) -> Mapping[str, float]:
        return {points[0].id: 2.0, points[1].id: float("nan"), "st:unknown": 5.0}


def test_adjusters_multiply_weights_and_a_bad_factor_is_reported_not_applied() -> None:
    points, _ = dm.stadtteil_points(ROWS[:3], BOROUGHS, {}, rate=1.0)
    adjusted, issues = dm.adjusted(points, [Doubling()])
    assert [p.weight for p in adjusted] == [2000.0, 500.0, 200.0]
    assert [(i.kind, i.subject) for i in issues] == [("bad_factor", "Ohne")]


def test_grid_points_weigh_residents_times_rate() -> None:
    points = dm.grid_points([(7, "Block A", 52.4, 9.7, 120.0)], rate=1.5)
    assert points[0].id == "grid:7" and points[0].weight == 180.0 and points[0].population == 120


CONFIG = dm.PlanningConfig(
    1.0,
    "",
    1.3,
    "",
    (52.28, 9.55, 52.48, 9.95),
    (1.0, 2.0, 3.0),
    {"genau": "Genau", "ohne": "Ohne", "nirgends": "Nirgends"},
    "",
)


def test_offices_points_exact_placed_approximate_or_missing() -> None:
    points, _ = dm.stadtteil_points(ROWS[:3], BOROUGHS, {}, rate=1.0)
    offices = [
        dm.OfficeRow("eigen", "Amt Eigen", 52.30, 9.60, "Weg 1"),
        dm.OfficeRow("gesetzt", "Amt Gesetzt", None, None, None),
        dm.OfficeRow("genau", "Amt Genau", None, None, None),
        dm.OfficeRow("ohne", "Amt Ohne", None, None, None),
        dm.OfficeRow("nirgends", "Amt Nirgends", None, None, None),
        dm.OfficeRow("fremd", "Amt Fremd", None, None, None),
    ]
    sites, issues = dm.office_sites(
        offices, {"gesetzt": (52.35, 9.65)}, CONFIG, {p.name: p for p in points}
    )
    assert [(s.id, s.precision) for s in sites] == [
        ("eigen", "exact"),
        ("gesetzt", "placed"),
        ("genau", "approximate"),
        ("ohne", "approximate"),
        ("nirgends", "missing"),
        ("fremd", "missing"),
    ]
    assert (sites[2].lat, sites[2].lon) == (52.41, 9.71)
    assert all(s.kind == "office" and s.location_id == s.id for s in sites)
    assert [(i.kind, i.subject) for i in issues] == [
        ("approximate_site", "Amt Genau"),
        ("approximate_site", "Amt Ohne"),
        ("unplaced_site", "Amt Nirgends"),
        ("unplaced_site", "Amt Fremd"),
    ]


def _office(site_id: str, lat: float | None, lon: float | None) -> SiteInfo:
    return SiteInfo(site_id, site_id, "office", lat, lon, "exact", location_id=site_id)


def test_booking_adjuster_moves_weight_to_where_people_book_more_than_predicted() -> None:
    # West office serves 2 points (weight 100 + 300), east office 1 point (weight 400).
    points = [
        DemandPoint("a", "a", None, 52.40, 9.60, 100, 100.0, "exact"),
        DemandPoint("b", "b", None, 52.40, 9.61, 300, 300.0, "exact"),
        DemandPoint("c", "c", None, 52.40, 9.90, 400, 400.0, "exact"),
        DemandPoint("d", "d", None, None, None, 50, 50.0, "missing"),
    ]
    sites = [_office("west", 52.40, 9.605), _office("ost", 52.40, 9.89), _office("weg", None, None)]
    # Predicted shares 0.5 / 0.5; observed 300 : 100 -> 0.75 / 0.25 -> factors 1.5 and 0.5.
    adjuster = BookingAdjuster(sites, {"west": 300, "ost": 100, "weg": 999})
    assert adjuster.factors(points) == {"a": 1.5, "b": 1.5, "c": 0.5}
    adjusted, issues = dm.adjusted(points, [adjuster])
    assert [p.weight for p in adjusted] == [150.0, 450.0, 200.0, 50.0] and issues == []


def test_booking_adjuster_clips_and_leaves_offices_without_counts_alone() -> None:
    lons = {"west": 9.60, "ost": 9.90, "mitte": 9.75, "nord": 9.70}
    points = [DemandPoint(k, k, None, 52.40, v, 100, 100.0, "exact") for k, v in lons.items()]
    sites = [_office(k, 52.40, v) for k, v in lons.items()]
    factors = BookingAdjuster(sites, {"west": 1000, "ost": 1, "mitte": 1}).factors(points)
    # Ratios 2.99, 0.003 and 0.003 are clipped to [0.5, 2]; "nord" has no count.
    assert factors == {"west": 2.0, "ost": 0.5, "mitte": 0.5}
    assert BookingAdjuster(sites, {}).factors(points) == {}
    assert BookingAdjuster([], {"west": 5}).factors(points) == {}


def test_an_issue_is_german_text_and_translatable_from_its_msgid() -> None:
    _, issues = dm.stadtteil_points(ROWS[1:2], BOROUGHS, {}, rate=1.0)
    found = issues[0]
    assert found.detail == (
        "Kein eigener Punkt: der Punkt des Stadtbezirks Nordbezirk wird verwendet."
    )
    assert found.params == {"borough": "Nordbezirk"}
    english = {found.message: "No point of its own: the point of borough %(borough)s is used."}
    assert found.translated(lambda m: english.get(m, m)) == (
        "No point of its own: the point of borough Nordbezirk is used."
    )
    assert dm.DataIssue("x", "y", "plain").translated(str.upper) == "plain"
