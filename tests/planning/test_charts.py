"""Server-drawn charts: an SVG image with title and description, and the same numbers as rows."""

from __future__ import annotations

from servicepoint.planning.charts import (
    histogram_bins,
    histogram_chart,
    number,
    percent,
    tradeoff_chart,
)
from servicepoint.planning.page_view import band_of, legend


def test_numbers_follow_the_page_language() -> None:
    assert number(1234.5, "de") == "1.234,5" and number(1234.5, "en") == "1,234.5"
    assert percent(0.953, "de") == "95,3 %" and percent(0.953, "en") == "95.3%"
    assert number(None, "de") == "–" and number(float("nan"), "en") == "–"


def test_the_tradeoff_chart_is_an_image_with_its_words_and_a_table() -> None:
    curve = [
        {"k": 5, "mean_km": 2.5, "max_km": 6.0, "optimal": True},
        {"k": 6, "mean_km": 2.1, "max_km": 5.0, "optimal": False},
    ]
    chart = tradeoff_chart(curve, lang="de", key="t")
    svg = str(chart.svg)
    assert 'role="img"' in svg and 'aria-labelledby="t-title t-desc"' in svg
    assert '<title id="t-title">Abwägung: Zahl der Standorte und Entfernung</title>' in svg
    assert "von 2,50 km bis 2,10 km" in svg
    assert svg.count('class="series-mean hollow"') == 1  # k = 6 is not proven optimal
    assert chart.rows == (
        ("5", "2,50", "6,00", ""),
        ("6", "2,10", "5,00", "nicht als optimal bewiesen (hohler Punkt)"),
    )
    english = tradeoff_chart(curve, lang="en", key="t")
    assert english.rows[0] == ("5", "2.50", "6.00", "")


def test_an_empty_chart_says_so() -> None:
    chart = tradeoff_chart([], lang="de")
    assert "Keine Daten für dieses Diagramm." in str(chart.svg) and chart.rows == ()


def test_the_histogram_shares_demand_by_kilometre_band() -> None:
    points = [
        {"km": 0.5, "weight": 1.0},
        {"km": 1.5, "weight": 1.0},
        {"km": 7.0, "weight": 2.0},
        {"km": None, "weight": 5.0},  # no point: in no band
        {"km": 2.0, "weight": 0.0},
    ]
    bins = histogram_bins(points)
    assert [round(share, 2) for _, _, share in bins] == [0.25, 0.25, 0.0, 0.0, 0.0, 0.5]
    assert bins[-1][1] is None
    chart = histogram_chart(points, lang="de", key="h")
    assert chart.rows[-1] == ("≥ 5 km", "50,0 %")
    assert "größter Balken: ≥ 5 km mit 50,0 %" in str(chart.svg)


def test_distance_bands_and_their_legend() -> None:
    assert [band_of(k) for k in (0.0, 0.99, 1.0, 2.5, 4.9, 5.0, 40.0)] == [0, 0, 1, 2, 3, 4, 4]
    assert band_of(None) is None
    labels = [row["label"] for row in legend("de")]
    assert labels[0] == "0 – unter 1 km" and labels[-2] == "≥ 5 km"
    assert labels[-1] == "keine Entfernung bekannt"
