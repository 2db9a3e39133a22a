"""A finished scenario as CSV (one row per demand point) and GeoJSON (points or district
polygons with their distance and site; the sites as points). Both say which points are only
approximate and keep the points without coordinates, so nothing is dropped silently."""

from __future__ import annotations

import csv
import io
from typing import Any

from servicepoint.core.i18n import N_
from servicepoint.core.inputs import csv_cell
from servicepoint.errors import Conflict
from servicepoint.planning.models import Scenario

CSV_COLUMNS = (
    "id",
    "name",
    "borough",
    "lat",
    "lon",
    "precision",
    "approximate",
    "population",
    "weight",
    "site",
    "site_name",
    "km",
    "before_km",
)
# Points drawn at a coarser place than their own (a Stadtbezirk's point for a Stadtteil).
APPROXIMATE = frozenset({"approximate"})


class ScenarioNotReady(Conflict):
    code = "scenario_not_ready"


def _result(scenario: Scenario) -> dict[str, Any]:
    if scenario.status != "done" or not scenario.result:
        raise ScenarioNotReady(
            N_("Szenario „%(name)s“ ist noch nicht fertig berechnet."), name=scenario.name
        )
    return scenario.result


def _site_names(result: dict[str, Any]) -> dict[str, str]:
    return {str(site["id"]): str(site["name"]) for site in result.get("sites", [])}


def scenario_csv(scenario: Scenario) -> str:
    """One row per demand point (those without coordinates too), spreadsheet-safe cells."""
    result = _result(scenario)
    names = _site_names(result)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for point in result.get("points", []):
        site = point.get("site")
        row = {
            **point,
            "approximate": "true" if point.get("precision") in APPROXIMATE else "false",
            "site_name": names.get(str(site), "") if site is not None else "",
        }
        writer.writerow([csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _point_geometry(point: dict[str, Any]) -> dict[str, Any] | None:
    if point.get("geometry"):
        return dict(point["geometry"])
    if point.get("lat") is None or point.get("lon") is None:
        return None  # GeoJSON allows a feature without geometry: kept, not dropped
    return {"type": "Point", "coordinates": [point["lon"], point["lat"]]}


def _demand_feature(point: dict[str, Any]) -> dict[str, Any]:
    properties = {
        key: point.get(key)
        for key in ("id", "name", "borough", "precision", "population", "weight", "site")
    }
    properties.update(
        role="demand",
        km=point.get("km"),
        before_km=point.get("before_km"),
        approximate=point.get("precision") in APPROXIMATE,
    )
    return {"type": "Feature", "geometry": _point_geometry(point), "properties": properties}


def _site_feature(site: dict[str, Any]) -> dict[str, Any]:
    placed = site.get("lat") is not None and site.get("lon") is not None
    geometry = {"type": "Point", "coordinates": [site["lon"], site["lat"]]} if placed else None
    properties = {
        key: site.get(key)
        for key in ("id", "name", "kind", "precision", "open", "fixed_cost_cents")
    }
    properties.update(role="site", approximate=site.get("precision") in APPROXIMATE)
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def scenario_geojson(scenario: Scenario) -> dict[str, Any]:
    """A FeatureCollection: the demand points (their polygon where a layer gave one) with km and
    site, then the sites; `approximate` and `precision` on every feature."""
    result = _result(scenario)
    features = [_demand_feature(p) for p in result.get("points", [])]
    features += [_site_feature(s) for s in result.get("sites", [])]
    return {
        "type": "FeatureCollection",
        "name": scenario.name,
        "properties": {
            "scenario": scenario.id,
            "kind": scenario.kind,
            "metrics": result.get("metrics"),
            "distance": result.get("distance"),
        },
        "features": features,
    }
