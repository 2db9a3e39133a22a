"""Distances: great-circle × detour, a planner's CSV matrix (clear errors with line numbers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from servicepoint.config import Settings
from servicepoint.errors import Unprocessable
from servicepoint.planning import geo
from servicepoint.planning.demand import DemandPoint, SiteInfo


def _point(pid: str, lat: float | None, lon: float | None) -> DemandPoint:
    return DemandPoint(pid, pid, None, lat, lon, 1, 1.0, "exact")


def _site(sid: str, lat: float | None, lon: float | None) -> SiteInfo:
    return SiteInfo(sid, sid, "candidate", lat, lon, "exact")


def test_haversine_one_degree_of_latitude_and_of_longitude_at_the_equator() -> None:
    one_degree = 2 * math.pi * geo.EARTH_RADIUS_KM / 360  # 111.195 km
    assert geo.haversine_km(52.0, 9.7, 53.0, 9.7) == pytest.approx(one_degree)
    assert geo.haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(one_degree)
    assert geo.haversine_km(52.37, 9.73, 52.37, 9.73) == 0.0
    # At 60° N a degree of longitude is half as long (cos 60° = 0.5), close to the great circle.
    assert geo.haversine_km(60.0, 0.0, 60.0, 1.0) == pytest.approx(one_degree / 2, rel=1e-4)


def test_great_circle_matrix_times_the_detour_factor() -> None:
    points = [_point("a", 52.0, 9.7), _point("b", 53.0, 9.7)]
    sites = [_site("x", 52.0, 9.7), _site("y", 53.0, 9.7), _site("z", 52.5, 10.0)]
    dist = geo.great_circle_km(points, sites, 1.3)
    assert dist.shape == (2, 3)
    for i, p in enumerate(points):
        for j, s in enumerate(sites):
            expected = 1.3 * geo.haversine_km(p.lat or 0, p.lon or 0, s.lat or 0, s.lon or 0)
            assert dist[i, j] == pytest.approx(expected)
    assert geo.great_circle_km([], sites, 1.0).shape == (0, 3)


def test_a_point_without_coordinates_or_a_silly_detour_is_refused() -> None:
    with pytest.raises(Unprocessable, match="hat keine Koordinaten"):
        geo.great_circle_km([_point("st:Nirgends", None, None)], [_site("x", 52, 9)], 1.3)
    for detour in (0.5, float("nan"), 9.0):
        with pytest.raises(Unprocessable, match="Umwegfaktor"):
            geo.great_circle_km([_point("a", 52, 9)], [_site("x", 52, 9)], detour)


def test_matrix_csv_long_and_wide_and_with_semicolons() -> None:
    long = "point_id,site_id,km\na,x,1.5\na,y,2\nb,x,3\nb,y,4.25\nc,x,99\n"
    expected = np.array([[1.5, 2.0], [3.0, 4.25]])
    assert (geo.read_matrix_csv(long, ["a", "b"], ["x", "y"]) == expected).all()
    wide = "\ufeffpoint_id,y,x,w\nb,4.25,3,0\na,2,1.5,0\n\n"
    assert (geo.read_matrix_csv(wide, ["a", "b"], ["x", "y"]) == expected).all()
    german = "point_id;site_id;km\na;x;1,5\na;y;2\nb;x;3\nb;y;4,25\n"
    assert (geo.read_matrix_csv(german, ["a", "b"], ["x", "y"]) == expected).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "leer"),
        ("von,nach,km\na,x,1\n", "Zeile 1: erwartet"),
        ("point_id,site_id,km\na,x,eins\n", "Zeile 2: „eins“ ist keine Zahl"),
        ("point_id,site_id,km\na,x,1\na,x,-2\n", "Zeile 3: die Entfernung muss"),
        ("point_id,site_id,km\na,x,1\na,x,2\n", "Zeile 3: a → x steht doppelt"),
        ("point_id,site_id,km\na,x,1\na,x\n", "Zeile 3: erwartet 3 Spalten"),
        ("point_id,site_id,km\na,x,nan\n", "Zeile 2: die Entfernung muss"),
        ("point_id,x\na,1,2\n", "Zeile 2: erwartet 2 Spalten"),
        ("point_id,site_id,km\na,x,1\n", "keinen Wert für b → x"),
    ],
)
def test_matrix_csv_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        geo.read_matrix_csv(text, ["a", "b"], ["x"])


def test_distance_km_picks_the_method_and_says_what_is_missing() -> None:
    settings = Settings(planning_osrm_url=None)
    points, sites = [_point("a", 52.0, 9.7)], [_site("x", 53.0, 9.7)]
    dist = geo.distance_km(settings, points, sites, method="great_circle", detour=1.0)
    assert dist[0, 0] == pytest.approx(geo.haversine_km(52.0, 9.7, 53.0, 9.7))
    matrix = geo.distance_km(
        settings, points, sites, method="matrix", matrix_csv="point_id,site_id,km\na,x,7\n"
    )
    assert matrix.tolist() == [[7.0]]
    with pytest.raises(Unprocessable, match="CSV-Datei"):
        geo.distance_km(settings, points, sites, method="matrix")
    with pytest.raises(Unprocessable, match="kein Routing-Server"):
        geo.distance_km(settings, points, sites, method="osrm")
    with pytest.raises(Unprocessable, match="Unbekannte Entfernungsart"):
        geo.distance_km(settings, points, sites, method="luftlinie")  # type: ignore[arg-type]
