"""Scenario exports: CSV one row per demand point (precision and approximate columns, safe
cells), GeoJSON with polygons or points and the sites; nothing dropped, unfinished refused."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy.orm import Session

from servicepoint.config import Settings
from servicepoint.planning import exports, scenarios
from servicepoint.planning.models import Scenario

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[9.70, 52.37], [9.71, 52.37], [9.71, 52.38], [9.70, 52.37]]],
}


def point(pid: str, precision: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": pid,
        "name": pid.removeprefix("st:"),
        "borough": "Mitte",
        "lat": 52.37,
        "lon": 9.73,
        "precision": precision,
        "population": 1000,
        "weight": 1030.0,
        "site": "bemerode",
        "km": 1.5,
        "before_km": 2.0,
        "geometry": None,
    }
    return {**base, **extra}


RESULT: dict[str, Any] = {
    "points": [
        point("st:Mitte", "exact"),
        point("st:Zoo", "approximate"),
        point("st:=Formel", "layer", geometry=SQUARE),
        point("st:Ohne", "missing", lat=None, lon=None, site=None, km=None, before_km=None),
    ],
    "sites": [
        {
            "id": "bemerode",
            "name": "Bürgeramt Bemerode",
            "kind": "office",
            "lat": 52.35,
            "lon": 9.83,
            "precision": "approximate",
            "open": True,
            "fixed_cost_cents": None,
        },
        {
            "id": "aegi",
            "name": "Bürgeramt Aegi",
            "kind": "office",
            "lat": None,
            "lon": None,
            "precision": "missing",
            "open": False,
            "fixed_cost_cents": None,
        },
    ],
    "metrics": {"mean_km": 1.5},
    "distance": {"method": "great_circle", "detour": 1.3},
}


def done(result: dict[str, Any] | None = RESULT, status: str = "done") -> Scenario:
    return Scenario(id=7, name="Test", kind="evaluate", status=status, result=result)


def test_csv_has_every_point_with_its_precision() -> None:
    rows = list(csv.DictReader(io.StringIO(exports.scenario_csv(done()))))
    assert [r["id"] for r in rows] == ["st:Mitte", "st:Zoo", "st:=Formel", "st:Ohne"]
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    assert [r["precision"] for r in rows] == ["exact", "approximate", "layer", "missing"]
    assert [r["approximate"] for r in rows] == ["false", "true", "false", "false"]
    assert rows[0]["site_name"] == "Bürgeramt Bemerode" and rows[0]["km"] == "1.5"
    assert rows[2]["name"] == "'=Formel"  # a spreadsheet does not run it
    assert rows[3]["site"] == "" and rows[3]["km"] == ""


def test_geojson_keeps_polygons_points_and_sites() -> None:
    collection = exports.scenario_geojson(done())
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    demand = [f for f in features if f["properties"]["role"] == "demand"]
    sites = [f for f in features if f["properties"]["role"] == "site"]
    assert len(demand) == 4 and len(sites) == 2
    assert demand[0]["geometry"] == {"type": "Point", "coordinates": [9.73, 52.37]}
    assert demand[1]["properties"]["approximate"] is True
    assert demand[2]["geometry"] == SQUARE
    assert demand[3]["geometry"] is None and demand[3]["properties"]["precision"] == "missing"
    assert sites[0]["properties"]["approximate"] is True and sites[0]["properties"]["open"]
    assert sites[1]["geometry"] is None
    assert demand[0]["properties"]["km"] == 1.5 and demand[0]["properties"]["site"] == "bemerode"


@pytest.mark.parametrize("status", ["queued", "running", "failed"])
def test_an_unfinished_scenario_has_no_export(status: str) -> None:
    with pytest.raises(exports.ScenarioNotReady) as caught:
        exports.scenario_csv(done(None, status))
    assert caught.value.status_code == 409
    with pytest.raises(exports.ScenarioNotReady):
        exports.scenario_geojson(done(None, status))


def test_a_real_evaluation_exports(session: Session, settings: Settings) -> None:
    result = scenarios.network_result(session, settings=settings, kind="evaluate", params={})
    rows = list(csv.DictReader(io.StringIO(exports.scenario_csv(done(result)))))
    assert len(rows) == len(result["points"])
    assert {r["precision"] for r in rows} >= {"approximate", "missing"}
    features = exports.scenario_geojson(done(result))["features"]
    assert len(features) == len(result["points"]) + len(result["sites"])
