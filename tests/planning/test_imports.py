"""Parsing the district layer (GeoJSON) and a demand grid (CSV): every refused feature or row
is reported with where it is; unreadable files are a clear 4xx."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from servicepoint.errors import PayloadTooLarge, Unprocessable
from servicepoint.planning import imports, utm
from servicepoint.planning.imports import parse_district_layer, parse_grid_csv

KNOWN = ["Mitte", "Ledeburg/Nordhafen", "Groß-Buchholz", "Linden-Süd"]


def _square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(props: dict[str, Any], geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _layer(*features: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra}).encode()


def test_known_stadtteile_get_their_shape_and_a_point_inside() -> None:
    data = _layer(
        _feature({"STADTTEIL": "Mitte", "nr": 1}, _square(9.73, 52.37)),
        _feature({"stadtteil": "groß buchholz"}, _square(9.80, 52.39)),
    )
    layer = parse_district_layer(data, KNOWN)
    assert set(layer.features) == {"Mitte", "Groß-Buchholz"}
    mitte = layer.features["Mitte"]
    assert (mitte.lat, mitte.lon) == pytest.approx((52.375, 9.735))
    assert mitte.geometry["type"] == "Polygon"
    assert {(i.kind, i.subject) for i in layer.issues} == {
        ("not_in_layer", "Ledeburg/Nordhafen"),
        ("not_in_layer", "Linden-Süd"),
    }


def test_the_parts_of_a_combined_row_are_joined() -> None:
    data = _layer(
        _feature({"name": "Ledeburg"}, _square(9.68, 52.41)),
        _feature({"name": "Nordhafen"}, _square(9.69, 52.41)),
    )
    feature = parse_district_layer(data, KNOWN).features["Ledeburg/Nordhafen"]
    joined = shape(feature.geometry)
    assert joined.area == pytest.approx(2 * 0.01 * 0.01)
    assert (feature.lat, feature.lon) == pytest.approx((52.415, 9.69))


def test_a_crescent_gets_a_point_inside_not_its_centroid() -> None:
    u_shape = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3), (0, 0)]
    crescent = shapely.Polygon([(9.7 + 0.01 * x, 52.3 + 0.01 * y) for x, y in u_shape])
    assert not crescent.contains(crescent.centroid)
    data = _layer(_feature({"name": "Mitte"}, shapely.geometry.mapping(crescent)))
    feature = parse_district_layer(data, KNOWN).features["Mitte"]
    assert shape(feature.geometry).contains(shapely.Point(feature.lon, feature.lat))


def test_unusable_features_are_reported_one_by_one() -> None:
    data = _layer(
        _feature({"name": "Mitte"}, _square(9.73, 52.37)),
        _feature({"name": "Mitte"}, _square(9.90, 52.30)),
        _feature({"name": "Atlantis"}, _square(9.73, 52.37)),
        _feature({"farbe": "rot"}, _square(9.73, 52.37)),
        _feature({"name": "Linden-Süd"}, {"type": "Point", "coordinates": [9.72, 52.36]}),
        _feature({"name": "Groß-Buchholz"}, _square(550_000, 5_800_000, 1000)),
        _feature({"name": "Ledeburg"}, {"type": "Polygon", "coordinates": [[[9.7]]]}),
    )
    layer = parse_district_layer(data, KNOWN)
    assert list(layer.features) == ["Mitte"]
    assert layer.features["Mitte"].lon == pytest.approx(9.735)  # the first "Mitte" counts
    issues = [(i.kind, i.subject) for i in layer.issues if i.kind != "not_in_layer"]
    assert issues == [
        ("duplicate_name", "Feature 2"),
        ("unknown_name", "Feature 3"),
        ("bad_row", "Feature 4"),
        ("bad_row", "Feature 5: Linden-Süd"),
        ("bad_row", "Feature 6: Groß-Buchholz"),
        ("bad_row", "Feature 7: Ledeburg"),
    ]
    details = {i.subject: i.detail for i in layer.issues}
    assert "EPSG:4326" in details["Feature 6: Groß-Buchholz"]
    assert "Atlantis" in details["Feature 3"]


def test_a_chosen_name_property() -> None:
    data = _layer(_feature({"name": "Bezirk 1", "STT": "Mitte"}, _square(9.73, 52.37)))
    assert list(parse_district_layer(data, KNOWN, name_property="stt").features) == ["Mitte"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "leer"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"{nope", "kein gültiges GeoJSON"),
        (b"[" * 100_000, "kein gültiges GeoJSON"),
        (json.dumps({"type": "Feature"}).encode(), "FeatureCollection"),
        (_layer(), "keine Features"),
        (
            _layer(
                _feature({"name": "Mitte"}, _square(9.7, 52.3)),
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31467"}},
            ),
            "EPSG::31467; bitte als WGS84",
        ),
    ],
)
def test_unreadable_layers_are_422(data: bytes, message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        parse_district_layer(data, KNOWN)


def test_layer_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    many = _layer(*[_feature({"name": "Mitte"}, _square(9.7, 52.3))] * 1001)
    with pytest.raises(Unprocessable, match="Zu viele Features"):
        parse_district_layer(many, KNOWN)
    monkeypatch.setattr(imports, "MAX_VERTICES", 8)
    two = _layer(
        _feature({"name": "Mitte"}, _square(9.7, 52.3)),
        _feature({"name": "Linden-Süd"}, _square(9.7, 52.3)),
    )
    with pytest.raises(Unprocessable, match="zu viele Punkte"):
        parse_district_layer(two, KNOWN)
    monkeypatch.setattr(imports, "MAX_BYTES", 10)
    with pytest.raises(PayloadTooLarge):
        parse_district_layer(two, KNOWN)
    crs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    monkeypatch.setattr(imports, "MAX_BYTES", 10_000)
    assert parse_district_layer(
        _layer(_feature({"name": "Mitte"}, _square(9.7, 52.3)), crs=crs84), KNOWN
    ).features


def test_grid_rows_with_labels_and_weights() -> None:
    grid = parse_grid_csv(b"lat,lon,weight,label\n52.37,9.73,120,Block A\n\n52.38,9.74,0,\n")
    assert [(r.line, r.label, r.lat, r.lon, r.weight) for r in grid.rows] == [
        (2, "Block A", 52.37, 9.73, 120.0),
        (4, "Zeile 4", 52.38, 9.74, 0.0),
    ]
    assert [(i.kind, i.subject) for i in grid.issues] == [
        ("weight_as_residents", "weight"),
        ("zero_population", "Zeile 4"),
    ]


@pytest.mark.parametrize("column", ["residents", "Population", "einwohner"])
def test_grid_residents_column_names(column: str) -> None:
    grid = parse_grid_csv(f"lat,lon,{column}\n52.37,9.73,120\n".encode())
    assert [r.weight for r in grid.rows] == [120.0]
    assert grid.issues == ()


def test_grid_from_a_german_spreadsheet() -> None:
    data = "\ufeffLabel;LAT;Lon;Weight\nA;52,37;9,73;1.234,5\n".encode()
    row = parse_grid_csv(data).rows[0]
    assert (row.label, row.lat, row.lon, row.weight) == ("A", 52.37, 9.73, 1234.5)


def test_bad_grid_rows_are_reported_with_their_line() -> None:
    data = (
        b"lat,lon,residents\n52.37,9.73,10\n91,9.73,10\n52.37,x,10\n52.37,9.73,-1\n"
        b"52.37,9.73,inf\n52.37\n52.37,9.73,5\n52.37,9.73,1e308\n52.37,9.73,1000001\n"
        b"52.37,9.73,1000000\n"
    )
    grid = parse_grid_csv(data)
    assert [r.line for r in grid.rows] == [2, 8, 11]
    assert [(i.kind, i.subject) for i in grid.issues] == [
        ("bad_row", "Zeile 3"),
        ("bad_row", "Zeile 4"),
        ("bad_row", "Zeile 5"),
        ("bad_row", "Zeile 6"),
        ("bad_row", "Zeile 7"),
        ("bad_row", "Zeile 9"),
        ("bad_row", "Zeile 10"),
    ]
    assert grid.issues[0].detail.startswith("Zeile 3: lat/lon")
    bounded = "Zeile 5: die Einwohnerzahl muss eine Zahl von 0 bis 1.000.000 sein."
    assert grid.issues[2].detail == bounded
    assert grid.issues[5].detail.startswith("Zeile 9: die Einwohnerzahl")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "leer"),
        (b"lat,lon\n52,9\n", "es fehlen die Spalten residents"),
        (b"lat,lon,weight\n", "keine Punkte"),
        (b"lat,lon,weight\n\xe4\n", "UTF-8"),
        (b'lat,lon,weight\n"52,9,1\n', "fehlerhaft"),
    ],
)
def test_unreadable_grids_are_422(data: bytes, message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        parse_grid_csv(data)


def test_grid_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_GRID_ROWS", 2)
    with pytest.raises(Unprocessable, match="Zu viele Zeilen"):
        parse_grid_csv(b"lat,lon,weight\n52,9,1\n52,9,1\n52,9,1\n")


def _utm_square(lon: float, lat: float) -> dict[str, Any]:
    corners = np.array([[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01]])
    ring = [[float(e), float(n)] for e, n in utm.from_lonlat(corners)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_a_layer_in_etrs89_utm32_the_system_of_german_official_geodata_is_converted() -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
    data = _layer(_feature({"name": "Mitte"}, _utm_square(9.73, 52.37)), crs=crs)
    layer = parse_district_layer(data, KNOWN)
    mitte = layer.features["Mitte"]
    assert (mitte.lat, mitte.lon) == pytest.approx((52.375, 9.735), abs=1e-4)
    ring = mitte.geometry["coordinates"][0]
    assert ring[0] == pytest.approx((9.73, 52.37), abs=1e-6)
    assert ("converted_crs", "EPSG:25832") in [(i.kind, i.subject) for i in layer.issues]
    # A file that says UTM but holds degrees ends up far off (then outside the city's box).
    wrong = _layer(_feature({"name": "Mitte"}, _square(9.73, 52.37)), crs=crs)
    assert parse_district_layer(wrong, KNOWN).features["Mitte"].lat < 1
