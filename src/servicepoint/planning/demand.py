"""Demand data from the city's folder: residents per Stadtteil, as published (no estimates),
and the demand points, weights and sites that location planning rests on.

Everything here is pure (files and values in, dataclasses out); `planning.inputs` adds what
planners stored in the database. Nothing is invented: a Stadtteil without a point takes its
Stadtbezirk's point and says so ("approximate"); one without either is "missing", its weight
counted in `missing_share` and left out of solving, never dropped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from servicepoint.core.city import STADTBEZIRKE, STADTTEILE, city_tables
from servicepoint.core.i18n import N_

Precision = Literal["exact", "corrected", "layer", "approximate", "missing"]
SitePrecision = Literal["exact", "placed", "approximate", "missing"]


@dataclass(frozen=True)
class District:
    name: str
    borough: str
    population: int | None
    as_of: dt.date | None


@dataclass(frozen=True)
class DemandPoint:
    """One place demand comes from: a Stadtteil ("st:<name>") or a grid point ("grid:<id>")."""

    id: str
    name: str
    borough: str | None
    lat: float | None
    lon: float | None
    population: int | None
    weight: float  # visits per year
    # "exact" (data folder's Stadtteil point) | "corrected" (planner) | "layer" (imported
    # polygon's centroid) | "approximate" (its Stadtbezirk's point) | "missing"
    precision: str
    geometry: dict[str, Any] | None = None


@dataclass(frozen=True)
class DataIssue:
    """Something wrong or uncertain in the input, shown to planners. `kind` is one of
    missing_point, approximate_point, zero_population, duplicate_name, no_forecast,
    unplaced_site, approximate_site, bad_row, unknown_name, not_in_layer, outside_area,
    bad_factor; `detail` the German text, filled in. A page in another language shows
    `_(message) % params` instead (`message` is the N_-marked msgid)."""

    kind: str
    subject: str
    detail: str
    message: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The detail in the language of `gettext` (the German text where it has none)."""
        if not self.message:
            return self.detail
        return gettext(self.message) % self.params if self.params else gettext(self.message)


def issue(kind: str, subject: str, message: str, **params: object) -> DataIssue:
    """An issue from an N_-marked msgid and its parameters."""
    values = {key: str(value) for key, value in params.items()}
    return DataIssue(kind, subject, message % values if values else message, message, values)


@dataclass(frozen=True)
class DemandSet:
    points: tuple[DemandPoint, ...]
    issues: tuple[DataIssue, ...]
    total_weight: float
    approximate_share: float  # of total_weight resting on a Stadtbezirk's point
    missing_share: float  # of total_weight without any point (not solved for)
    basis: str  # "stadtteile" | "grid"
    year: str  # "current" | "2034"
    rate: float  # visits per inhabitant and year

    def placed(self) -> tuple[DemandPoint, ...]:
        """The points with coordinates: the rows of a distance matrix."""
        return tuple(p for p in self.points if p.lat is not None and p.lon is not None)


@dataclass(frozen=True)
class SiteInfo:
    id: str
    name: str
    kind: str  # "office" | "candidate"
    lat: float | None
    lon: float | None
    precision: str  # "exact" | "placed" | "approximate" | "missing"
    address: str | None = None
    fixed_cost_cents: int | None = None
    location_id: str | None = None


@dataclass(frozen=True)
class SiteSet:
    sites: tuple[SiteInfo, ...]
    issues: tuple[DataIssue, ...]

    def placed(self) -> tuple[SiteInfo, ...]:
        """The sites with coordinates: the columns of a distance matrix."""
        return tuple(s for s in self.sites if s.lat is not None and s.lon is not None)


class WeightAdjuster(Protocol):
    """THE interface that changes demand weights: booking statistics now (adjusters.
    BookingAdjuster), citizens' participation later (e.g. votes per Stadtteil -> a factor per
    "st:<name>"). `factors` maps a point id to a multiplier of its weight (a number ≥ 0; a
    NaN, infinite or negative one is ignored and reported); points it leaves out keep their
    weight. Pass adjusters to inputs.demand_set(adjusters=[...]); they apply in turn, and
    `name` (N_-marked) says in reports which one did what."""

    name: str

    def factors(self, points: Sequence[DemandPoint]) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class PlanningConfig:
    """The city's planning.yaml: configuration with its stated source, not data."""

    rate: float  # visits per inhabitant and year
    rate_source: str
    detour: float
    detour_source: str
    bbox: tuple[float, float, float, float]  # south, west, north, east
    radii_km: tuple[float, ...]
    office_stadtteile: Mapping[str, str]  # location id -> Stadtteil of the same name
    office_stadtteile_source: str


@dataclass(frozen=True)
class StadtteilRow:
    name: str
    borough: str
    population: int | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class StoredPoint:
    """A planner's point for a Stadtteil (map correction or imported layer)."""

    lat: float
    lon: float
    geometry: dict[str, Any] | None
    corrected: bool  # True: set on the map; False: an imported layer's centroid


@dataclass(frozen=True)
class OfficeRow:
    id: str
    name: str
    lat: float | None
    lon: float | None
    address: str | None


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _float(value: str | None) -> float | None:
    try:
        return float((value or "").strip())
    except ValueError:
        return None


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _district(row: dict[str, str]) -> District:
    population, as_of = _int(row["population"]), _date(row["population_date"])
    return District(row["stadtteil"], row["stadtbezirk"], population, as_of)


def _rows(city_dir: Path, pattern: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in city_tables(city_dir, pattern):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += csv.DictReader(handle)
    return rows


def load_districts(city_dir: Path) -> list[District]:
    """The city's Stadtteile (its *stadtteile*.csv), most residents first; an empty list if the
    data folder has no such table."""
    districts = [_district(r) for r in _rows(city_dir, STADTTEILE)]
    return sorted(districts, key=lambda d: -(d.population or 0))


def share_of_largest(districts: list[District]) -> dict[str, int]:
    """Each district's population as a percentage of the largest: the width of its bar."""
    top = max((d.population or 0 for d in districts), default=0)
    return {d.name: round(100 * (d.population or 0) / top) if top else 0 for d in districts}


@cache
def load_stadtteile(city_dir: Path) -> tuple[StadtteilRow, ...]:
    """The Stadtteile in the file's order, with their point where the data folder has one."""
    return tuple(
        StadtteilRow(
            r["stadtteil"].strip(),
            r["stadtbezirk"].strip(),
            _int(r.get("population") or ""),
            _float(r.get("lat")),
            _float(r.get("lon")),
        )
        for r in _rows(city_dir, STADTTEILE)
    )


@cache
def load_boroughs(city_dir: Path) -> Mapping[str, tuple[float, float] | None]:
    """Each Stadtbezirk's representative point (None where the data folder has none)."""
    points: dict[str, tuple[float, float] | None] = {}
    for r in _rows(city_dir, STADTBEZIRKE):
        lat, lon = _float(r.get("lat")), _float(r.get("lon"))
        points[r["stadtbezirk"].strip()] = (
            (lat, lon) if lat is not None and lon is not None else None
        )
    return points


FORECAST = "*prognosebezirke*.csv"


def _forecast_units(city_dir: Path) -> dict[str, tuple[str, int]]:
    """Stadtteil name in the forecast -> (its Prognosebezirk, residents forecast for 2034)."""
    units: dict[str, tuple[str, int]] = {}
    for r in _rows(city_dir, FORECAST):
        later = _int(r.get("pop_2034_12_31_forecast") or "")
        if r.get("kind") != "city" or later is None:
            continue
        for name in (r.get("stadtteile") or "").split(";"):
            if name.strip():
                units[name.strip()] = (r["prognosebezirk_id"], later)
    return units


def unit_of(name: str, units: Mapping[str, tuple[str, int]]) -> tuple[str, int] | None:
    """A CSV Stadtteil's Prognosebezirk; a combined row ("Ledeburg/Nordhafen") takes its
    parts' unit when they agree, else None."""
    if name in units:
        return units[name]
    found = {units.get(part.strip()) for part in name.split("/")}
    return found.pop() if len(found) == 1 and None not in found else None


@cache
def forecast_growth(city_dir: Path) -> Mapping[str, float]:
    """Stadtteil (as in the CSV) -> factor that turns its CSV residents into 2034's: each
    Prognosebezirk's forecast number is split over its Stadtteile in proportion to their CSV
    residents (the forecast has no finer level). This also carries the CSV's older counts
    (2016, 2020, 2022) to the forecast's level. Stadtteile without a unit are left out."""
    units = _forecast_units(city_dir)
    rows = [(r, unit_of(r.name, units)) for r in load_stadtteile(city_dir)]
    sums: dict[str, int] = {}
    for row, unit in rows:
        if unit is not None and row.population:
            sums[unit[0]] = sums.get(unit[0], 0) + row.population
    return {
        row.name: unit[1] / sums[unit[0]]
        for row, unit in rows
        if unit is not None and row.population and sums.get(unit[0])
    }


@cache
def planning_config(city_dir: Path) -> PlanningConfig:
    """planning.yaml of the data folder; a missing file or key is a deployment error."""
    data = yaml.safe_load((city_dir / "planning.yaml").read_text(encoding="utf-8"))
    box = data["bbox"]
    return PlanningConfig(
        rate=float(data["visits_per_inhabitant_year"]),
        rate_source=str(data["visits_per_inhabitant_year_source"]),
        detour=float(data["detour_factor"]),
        detour_source=str(data["detour_factor_source"]),
        bbox=(float(box["south"]), float(box["west"]), float(box["north"]), float(box["east"])),
        radii_km=tuple(float(r) for r in data["radii_km"]),
        office_stadtteile={
            str(k): str(v) for k, v in (data.get("office_stadtteile") or {}).items()
        },
        office_stadtteile_source=str(data.get("office_stadtteile_source") or ""),
    )


def in_bbox(config: PlanningConfig, lat: float, lon: float) -> bool:
    south, west, north, east = config.bbox
    return south <= lat <= north and west <= lon <= east


def _located(
    row: StadtteilRow,
    boroughs: Mapping[str, tuple[float, float] | None],
    stored: StoredPoint | None,
) -> tuple[float | None, float | None, str, dict[str, Any] | None]:
    """Where a Stadtteil's demand sits, and how sure that is: a planner's or layer's point wins,
    then the data folder's, then the Stadtbezirk's."""
    if stored is not None:
        precision = "corrected" if stored.corrected else "layer"
        return stored.lat, stored.lon, precision, stored.geometry
    if row.lat is not None and row.lon is not None:
        return row.lat, row.lon, "exact", None
    borough = boroughs.get(row.borough)
    if borough is not None:
        return borough[0], borough[1], "approximate", None
    return None, None, "missing", None


def _point_issues(point: DemandPoint) -> list[DataIssue]:
    issues: list[DataIssue] = []
    if point.precision == "approximate":
        detail = N_("Kein eigener Punkt: der Punkt des Stadtbezirks %(borough)s wird verwendet.")
        issues.append(issue("approximate_point", point.name, detail, borough=point.borough))
    elif point.precision == "missing":
        detail = N_(
            "Weder der Stadtteil noch sein Stadtbezirk %(borough)s hat einen Punkt: "
            "die Nachfrage wird gezählt, aber nicht verortet."
        )
        issues.append(issue("missing_point", point.name, detail, borough=point.borough))
    if not point.population:
        detail = N_("Keine Einwohnerzahl (oder 0): die Nachfrage ist hier 0.")
        issues.append(issue("zero_population", point.name, detail))
    return issues


def stadtteil_points(
    rows: Sequence[StadtteilRow],
    boroughs: Mapping[str, tuple[float, float] | None],
    stored: Mapping[str, StoredPoint],
    *,
    rate: float,
    growth: Mapping[str, float] | None = None,
) -> tuple[list[DemandPoint], list[DataIssue]]:
    """One demand point per Stadtteil (population × rate); `growth` (the 2034 forecast) scales
    the population. Every row stays, with an issue where something is uncertain."""
    points: list[DemandPoint] = []
    issues: list[DataIssue] = []
    seen: dict[str, int] = {}
    for row in rows:
        seen[row.name] = seen.get(row.name, 0) + 1
        point_id = f"st:{row.name}" + (f"~{seen[row.name]}" if seen[row.name] > 1 else "")
        if seen[row.name] == 2:
            detail = N_("Der Name kommt mehrfach vor; jede Zeile bleibt ein eigener Punkt.")
            issues.append(issue("duplicate_name", row.name, detail))
        population = row.population
        if growth is not None and population is not None:
            factor = growth.get(row.name)
            if factor is None:
                detail = N_("Keine Prognose 2034 für diesen Stadtteil: die heutige Zahl bleibt.")
                issues.append(issue("no_forecast", row.name, detail))
            else:
                population = round(population * factor)
        lat, lon, precision, geometry = _located(row, boroughs, stored.get(row.name))
        weight = (population or 0) * rate
        point = DemandPoint(
            point_id, row.name, row.borough, lat, lon, population, weight, precision, geometry
        )
        points.append(point)
        issues += _point_issues(point)
    return points, issues


def grid_points(
    rows: Iterable[tuple[int, str, float, float, float]], *, rate: float
) -> list[DemandPoint]:
    """An imported grid's points (id, label, lat, lon, residents): weight = residents × rate."""
    return [
        DemandPoint(f"grid:{i}", label, None, lat, lon, round(w), w * rate, "exact")
        for i, label, lat, lon, w in rows
    ]


def adjusted(
    points: Sequence[DemandPoint], adjusters: Sequence[WeightAdjuster]
) -> tuple[list[DemandPoint], list[DataIssue]]:
    """Each adjuster multiplies the weights in turn; a factor that is no positive finite number
    is ignored and reported (a broken statistic must not zero out a district silently)."""
    current = list(points)
    issues: list[DataIssue] = []
    for adjuster in adjusters:
        factors = adjuster.factors(current)
        for i, point in enumerate(current):
            factor = factors.get(point.id, 1.0)
            if not (factor >= 0 and factor != float("inf")):
                detail = N_("Faktor %(factor)s von %(name)s ignoriert.")
                issues.append(
                    issue("bad_factor", point.name, detail, factor=factor, name=adjuster.name)
                )
                continue
            current[i] = replace(point, weight=point.weight * factor)
    return current, issues


def summarise(
    points: Sequence[DemandPoint],
    issues: Sequence[DataIssue],
    *,
    basis: str,
    year: str,
    rate: float,
) -> DemandSet:
    """The set with its totals: which share of the weight rests on approximate or no points."""
    total = sum(p.weight for p in points)

    def share(precision: str) -> float:
        part = sum(p.weight for p in points if p.precision == precision)
        return part / total if total else 0.0

    return DemandSet(
        tuple(points),
        tuple(issues),
        total,
        share("approximate"),
        share("missing"),
        basis,
        year,
        rate,
    )


def office_sites(
    offices: Sequence[OfficeRow],
    placed: Mapping[str, tuple[float, float]],
    config: PlanningConfig,
    points_by_name: Mapping[str, DemandPoint],
) -> tuple[list[SiteInfo], list[DataIssue]]:
    """Today's offices as sites: the location's own point ("exact"), a planner's ("placed"),
    the Stadtteil it is named after ("approximate", planning.yaml), or none ("missing")."""
    sites: list[SiteInfo] = []
    issues: list[DataIssue] = []
    for office in offices:
        lat, lon, precision = _office_point(office, placed, config, points_by_name)
        site = SiteInfo(office.id, office.name, "office", lat, lon, precision, office.address)
        sites.append(replace(site, location_id=office.id))
        if precision == "approximate":
            stadtteil = config.office_stadtteile[office.id]
            issues.append(_approximate_office(office, stadtteil, points_by_name[stadtteil]))
        elif precision == "missing":
            detail = N_(
                "Ohne Koordinaten: der Standort fehlt in den Berechnungen, bis ihn jemand auf "
                "der Karte setzt."
            )
            issues.append(issue("unplaced_site", office.name, detail))
    return sites, issues


def _approximate_office(office: OfficeRow, stadtteil: str, point: DemandPoint) -> DataIssue:
    """Say how far the approximation goes: the Stadtteil's own point, or only its borough's."""
    if point.precision == "approximate":
        detail = N_(
            "Ohne eigenen Punkt: der Punkt des Stadtteils %(stadtteil)s (gleicher Name) wird "
            "verwendet – und der ist selbst nur der Punkt des Stadtbezirks %(borough)s."
        )
        return issue(
            "approximate_site", office.name, detail, stadtteil=stadtteil, borough=point.borough
        )
    detail = N_(
        "Ohne eigenen Punkt: der Punkt des Stadtteils %(stadtteil)s (gleicher Name) wird verwendet."
    )
    return issue("approximate_site", office.name, detail, stadtteil=stadtteil)


def _office_point(
    office: OfficeRow,
    placed: Mapping[str, tuple[float, float]],
    config: PlanningConfig,
    points_by_name: Mapping[str, DemandPoint],
) -> tuple[float | None, float | None, str]:
    if office.lat is not None and office.lon is not None:
        return office.lat, office.lon, "exact"
    if office.id in placed:
        return placed[office.id][0], placed[office.id][1], "placed"
    point = points_by_name.get(config.office_stadtteile.get(office.id, ""))
    if point is not None and point.lat is not None and point.lon is not None:
        return point.lat, point.lon, "approximate"
    return None, None, "missing"
