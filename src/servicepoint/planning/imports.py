"""Parsing of planners' uploads (pure): the official district layer (GeoJSON) and a finer
demand grid (CSV). Nothing is dropped silently: every refused row or feature is an issue, and
a file that cannot be read at all is a clear 4xx."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from servicepoint.core.i18n import N_
from servicepoint.core.inputs import first_bad_char
from servicepoint.errors import PayloadTooLarge, Unprocessable
from servicepoint.planning import utm
from servicepoint.planning.demand import DataIssue, issue

MAX_BYTES = 20_000_000  # the app's upload limit comes first; this guards direct callers
MAX_FEATURES = 1_000  # Hannover has 51 Stadtteile; a layer of buildings is the wrong file
MAX_VERTICES = 2_000_000
MAX_GRID_ROWS = 10_000  # the largest run the solvers are measured for
MAX_RESIDENTS = 1_000_000  # per grid point: no cell of a city holds more people than that
# The grid's residents column, by any of these names (compared case-insensitively); "weight"
# is the old name, still read as residents and reported as such.
RESIDENT_COLUMNS = ("residents", "population", "einwohner", "weight")
# Property names that usually hold a district's name, compared case-insensitively.
NAME_KEYS = ("stadtteil", "name", "stadtteilname", "stt_name", "bezeichnung", "gen")


@dataclass(frozen=True)
class LayerFeature:
    lat: float
    lon: float
    geometry: dict[str, Any]


@dataclass(frozen=True)
class LayerImport:
    features: dict[str, LayerFeature]  # Stadtteil name (as in the CSV) -> its point and shape
    issues: tuple[DataIssue, ...]


@dataclass(frozen=True)
class GridRow:
    line: int
    label: str
    lat: float
    lon: float
    weight: float  # residents the point stands for (the rate makes visits of them)


@dataclass(frozen=True)
class GridImport:
    rows: tuple[GridRow, ...]
    issues: tuple[DataIssue, ...]


@dataclass(frozen=True)
class ImportReport:
    """What an import did: shown to the planner after the upload."""

    filename: str
    imported: int  # features or rows stored
    replaced: int  # rows of the earlier import that this one replaced
    issues: tuple[DataIssue, ...]


def _size(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(
            N_("Die Datei ist zu groß (höchstens %(mb)s MB)."), mb=MAX_BYTES // 1_000_000
        )
    if not data.strip():
        raise Unprocessable(N_("Die Datei ist leer."))


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unprocessable(N_("Die Datei ist nicht UTF-8-kodiert.")) from None


# -- district layer (GeoJSON) -----------------------------------------------------------------
def _collection(data: bytes) -> tuple[list[Any], bool]:
    """The features, and whether their coordinates are ETRS89/UTM 32N (to be converted)."""
    _size(data)
    try:
        doc = json.loads(_text(data))
    except (ValueError, RecursionError):
        raise Unprocessable(N_("Die Datei ist kein gültiges GeoJSON.")) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise Unprocessable(N_("Erwartet wird eine GeoJSON-FeatureCollection."))
    projected = _projected(doc.get("crs"))
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise Unprocessable(N_("Die FeatureCollection enthält keine Features."))
    if len(features) > MAX_FEATURES:
        raise Unprocessable(
            N_("Zu viele Features (höchstens %(max)s): ist das die Stadtteil-Ebene?"),
            max=MAX_FEATURES,
        )
    return features, projected


def _projected(crs: object) -> bool:
    """GeoJSON is WGS84 (RFC 7946); older exports name their system in a "crs" member. ETRS89/
    UTM 32N (EPSG:25832), the system of German official geodata, is converted; other
    projections are refused with what to do."""
    if not isinstance(crs, dict):
        return False
    name = str((crs.get("properties") or {}).get("name") or "")
    digits = "".join(ch if ch.isalnum() else " " for ch in name.lower()).split()
    if not name or any(code in digits for code in utm.DEGREE_CODES):
        return False
    if any(code in digits for code in utm.UTM32_CODES):
        return True
    raise Unprocessable(
        N_(
            "Die Datei nutzt das Koordinatensystem %(crs)s; bitte als WGS84 "
            "(EPSG:4326, Längen-/Breitengrade) oder ETRS89/UTM 32N (EPSG:25832) exportieren."
        ),
        crs=name[:80],
    )


def _name_of(properties: Mapping[str, Any], name_property: str | None) -> str | None:
    keys = {str(k).lower(): k for k in properties}
    wanted = [name_property.lower()] if name_property else list(NAME_KEYS)
    for key in wanted:
        if key in keys and isinstance(properties[keys[key]], str | int):
            value = " ".join(str(properties[keys[key]]).split())
            return value if value and first_bad_char(value) is None else None
    return None


def _fold(name: str) -> str:
    return " ".join(name.casefold().replace("-", " ").replace("‐", " ").split())


def _targets(known_names: Collection[str]) -> dict[str, str]:
    """Folded name -> CSV name; the parts of a combined row ("Ledeburg/Nordhafen") lead to it."""
    targets: dict[str, str] = {}
    for name in known_names:
        for part in name.split("/"):
            targets.setdefault(_fold(part), name)
        targets[_fold(name)] = name
    return targets


def _geometry(raw: object, projected: bool) -> BaseGeometry | str:
    """The shape, or why it cannot be used (a msgid)."""
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        return N_("Keine Fläche (Polygon oder MultiPolygon).")
    try:
        geom = shape(raw)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError):
        return N_("Die Koordinaten der Fläche sind ungültig.")
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or not np.isfinite(coords).all():
        return N_("Die Koordinaten der Fläche sind ungültig.")
    if projected:
        geom = shapely.transform(geom, utm.to_lonlat)
        coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all() or (np.abs(coords) > (180, 90)).any():
        return N_("Keine Längen-/Breitengrade (WGS84); bitte als EPSG:4326 exportieren.")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return shapely.transform(geom, lambda a: np.round(a, 6))


def _features(
    features: list[Any], projected: bool, name_property: str | None, issues: list[DataIssue]
) -> Iterator[tuple[int, str, BaseGeometry]]:
    vertices = 0
    for number, feature in enumerate(features, start=1):
        subject = _subject(number)
        props = feature.get("properties") if isinstance(feature, dict) else None
        name = _name_of(props, name_property) if isinstance(props, dict) else None
        if name is None:
            issues.append(issue("bad_row", subject, N_("Feature ohne (lesbaren) Namen.")))
            continue
        geom = _geometry(feature.get("geometry"), projected)
        if isinstance(geom, str):
            issues.append(issue("bad_row", f"{subject}: {name}", geom))
            continue
        vertices += int(shapely.get_num_coordinates(geom))
        if vertices > MAX_VERTICES:
            raise Unprocessable(
                N_("Die Flächen haben zu viele Punkte (höchstens %(max)s)."), max=MAX_VERTICES
            )
        yield number, name, geom


def _subject(number: int) -> str:
    return f"Feature {number}"


def _inside(geom: BaseGeometry) -> tuple[float, float]:
    """The centroid where it lies inside the shape (a crescent's does not), else a point that
    surely does; returned as lat, lon."""
    point = geom.centroid
    if not geom.contains(point):
        point = geom.representative_point()
    return float(point.y), float(point.x)


def parse_district_layer(
    data: bytes, known_names: Collection[str], *, name_property: str | None = None
) -> LayerImport:
    """A GeoJSON FeatureCollection of the Stadtteile's polygons -> each known Stadtteil's shape
    and a point inside it. Parts of a combined row are joined; a repeated name keeps its first
    feature; unknown names, Stadtteile without a feature and unusable features are issues."""
    issues: list[DataIssue] = []
    targets = _targets(known_names)
    parts: dict[str, dict[str, BaseGeometry]] = {}
    raw, projected = _collection(data)
    if projected:
        detail = N_("Koordinaten aus ETRS89/UTM 32N (EPSG:25832) in Grad umgerechnet.")
        issues.append(issue("converted_crs", "EPSG:25832", detail))
    for number, name, geom in _features(raw, projected, name_property, issues):
        target = targets.get(_fold(name))
        if target is None:
            detail = N_("„%(name)s“ ist kein Stadtteil der Einwohnertabelle; nicht übernommen.")
            issues.append(issue("unknown_name", _subject(number), detail, name=name))
            continue
        found = parts.setdefault(target, {})
        if _fold(name) in found:
            detail = N_("„%(name)s“ kommt mehrfach vor; das erste Feature gilt.")
            issues.append(issue("duplicate_name", _subject(number), detail, name=name))
            continue
        found[_fold(name)] = geom
    features: dict[str, LayerFeature] = {}
    for target, shapes in parts.items():
        geom = shapely.union_all(list(shapes.values()))
        lat, lon = _inside(geom)
        features[target] = LayerFeature(lat, lon, dict(mapping(geom)))
    for name in known_names:
        if name not in features:
            detail = N_("Nicht in der Datei: der bisherige Punkt bleibt.")
            issues.append(issue("not_in_layer", name, detail))
    return LayerImport(features, tuple(issues))


# -- demand grid (CSV) ------------------------------------------------------------------------
def _reader(text: str) -> tuple[Any, str]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return csv.reader(io.StringIO(text), delimiter=delimiter, strict=True), delimiter


def _columns(header: list[str]) -> dict[str, int]:
    """Column positions by role (lat, lon, weight = residents, label)."""
    names = [cell.strip().lower() for cell in header]
    resident = next((n for n in RESIDENT_COLUMNS if n in names), None)
    missing = [c for c in ("lat", "lon") if c not in names] + ([] if resident else ["residents"])
    if missing or resident is None:
        raise Unprocessable(
            N_(
                "Zeile 1: es fehlen die Spalten %(columns)s (erwartet: lat, lon, residents, label)."
            ),
            columns=", ".join(missing),
        )
    columns: dict[str, int] = {n: names.index(n) for n in ("lat", "lon", "label") if n in names}
    columns["weight"] = names.index(resident)
    if resident == "weight":
        columns["weight_alias"] = columns["weight"]
    return columns


def _value(cell: str, decimal_comma: bool) -> float | None:
    text = cell.strip()
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".") if "," in text else text
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _grid_row(
    row: list[str],
    line: int,
    columns: Mapping[str, int],
    decimal_comma: bool,
    bbox: tuple[float, float, float, float] | None,
) -> GridRow | str:
    """The row, or what is wrong with it (a msgid with %(line)s)."""
    if len(row) <= max(columns.values()):
        return N_("Zeile %(line)s: zu wenige Spalten.")
    lat, lon = (
        _value(row[columns["lat"]], decimal_comma),
        _value(row[columns["lon"]], decimal_comma),
    )
    weight = _value(row[columns["weight"]], decimal_comma)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return N_("Zeile %(line)s: lat/lon sind keine gültigen Grad-Angaben.")
    if bbox is not None and not (bbox[0] <= lat <= bbox[2] and bbox[1] <= lon <= bbox[3]):
        return N_("Zeile %(line)s: der Punkt liegt außerhalb des Stadtgebiets.")
    if weight is None or not 0 <= weight <= MAX_RESIDENTS:
        return N_("Zeile %(line)s: die Einwohnerzahl muss eine Zahl von 0 bis 1.000.000 sein.")
    label = " ".join(row[columns["label"]].split()) if "label" in columns else ""
    if len(label) > 200 or first_bad_char(label) is not None:
        return N_("Zeile %(line)s: die Bezeichnung ist zu lang oder enthält unerlaubte Zeichen.")
    return GridRow(line, label or f"Zeile {line}", lat, lon, weight)


def parse_grid_csv(
    data: bytes, *, bbox: tuple[float, float, float, float] | None = None
) -> GridImport:
    """A CSV of points with residents (columns lat, lon, residents[, label]; comma, or semicolon
    with decimal commas as spreadsheets in Germany write them). The residents column may also be
    called population, einwohner or weight (read as residents all the same, and reported): the
    visit rate makes visits of them. `bbox` (south, west, north, east) bounds the points. Each
    bad row is an issue with its line number; 0 residents are kept and reported."""
    _size(data)
    reader, delimiter = _reader(_text(data))
    try:
        columns = _columns(next(reader))
    except (StopIteration, csv.Error):
        raise Unprocessable(N_("Zeile 1: keine Kopfzeile lesbar.")) from None
    rows: list[GridRow] = []
    issues: list[DataIssue] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) + len(issues) >= MAX_GRID_ROWS:
                raise Unprocessable(
                    N_("Zu viele Zeilen (höchstens %(max)s Punkte)."), max=MAX_GRID_ROWS
                )
            parsed = _grid_row(row, line, columns, delimiter == ";", bbox)
            if isinstance(parsed, str):
                issues.append(issue("bad_row", f"Zeile {line}", parsed, line=line))
                continue
            if parsed.weight == 0:
                detail = N_("Zeile %(line)s: 0 Einwohner – der Punkt zählt nicht.")
                issues.append(issue("zero_population", parsed.label, detail, line=line))
            rows.append(parsed)
    except csv.Error:
        raise Unprocessable(
            N_("Zeile %(line)s: die CSV-Datei ist fehlerhaft."), line=reader.line_num
        ) from None
    if not rows and not issues:
        raise Unprocessable(N_("Die Datei enthält keine Punkte."))
    if "weight_alias" in columns:
        detail = N_(
            "Die Spalte „weight“ wird als Einwohnerzahl gelesen (Besuche = Einwohner × Quote)."
        )
        issues.insert(0, issue("weight_as_residents", "weight", detail))
    return GridImport(tuple(rows), tuple(issues))
