"""Distances between demand points and sites: great-circle × detour factor, a planner's CSV
matrix, or a routing server (planning.osrm); `distance_km` picks one."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from servicepoint.config import Settings
from servicepoint.core.i18n import N_
from servicepoint.errors import Unprocessable

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
Method = Literal["great_circle", "osrm", "matrix"]
# A matrix CSV has at most this many cells: 10,000 points × 1,000 sites is the largest run.
MAX_MATRIX_CELLS = 10_000_000


class Located(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...


def haversine_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance in km between two WGS84 points."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def coordinates(items: Sequence[Located]) -> npt.NDArray[np.float64]:
    """(n, 2) array of lat, lon; an item without a point is a caller's error, said clearly."""
    for item in items:
        if item.lat is None or item.lon is None:
            raise Unprocessable(N_("%(id)s hat keine Koordinaten."), id=item.id)
    return np.array([[item.lat, item.lon] for item in items], dtype=np.float64).reshape(-1, 2)


def great_circle_km(
    points: Sequence[Located], sites: Sequence[Located], detour: float
) -> npt.NDArray[np.float64]:
    """n × m matrix: great-circle km × detour factor (a stand-in for street distance)."""
    if not (math.isfinite(detour) and 1.0 <= detour <= 5.0):
        raise Unprocessable(N_("Der Umwegfaktor muss zwischen 1 und 5 liegen."))
    a, b = np.radians(coordinates(points)), np.radians(coordinates(sites))
    dlat = a[:, None, 0] - b[None, :, 0]
    dlon = a[:, None, 1] - b[None, :, 1]
    h = (
        np.sin(dlat / 2) ** 2
        + np.cos(a[:, None, 0]) * np.cos(b[None, :, 0]) * np.sin(dlon / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return np.asarray(km * detour, dtype=np.float64)


def _number(text: str, line: int) -> float:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise Unprocessable(
            N_("Zeile %(line)s: „%(value)s“ ist keine Zahl."), line=line, value=text[:40]
        ) from None
    if not math.isfinite(value) or value < 0:
        raise Unprocessable(
            N_("Zeile %(line)s: die Entfernung muss eine Zahl ≥ 0 sein."), line=line
        )
    return value


def _sniff(text: str) -> list[list[str]]:
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def read_matrix_csv(
    text: str, point_ids: Sequence[str], site_ids: Sequence[str]
) -> npt.NDArray[np.float64]:
    """A planner's distance matrix in km: long (point_id,site_id,km) or wide (point_id, one
    column per site id). Rows for ids not asked for are ignored (a matrix may cover more);
    a pair asked for but absent, a duplicate or a bad number is an error with its line."""
    rows = _sniff(text.lstrip("\ufeff"))
    if not rows or not rows[0]:
        raise Unprocessable(N_("Die Entfernungstabelle ist leer."))
    if len(point_ids) * len(site_ids) > MAX_MATRIX_CELLS:
        raise Unprocessable(N_("Die Entfernungstabelle ist zu groß."))
    header = [cell.strip() for cell in rows[0]]
    found: dict[tuple[str, str], float] = {}
    if [h.lower() for h in header[:3]] == ["point_id", "site_id", "km"]:
        _read_long(rows, set(point_ids), set(site_ids), found)
    elif header and header[0].lower() == "point_id":
        _read_wide(rows, header, set(point_ids), set(site_ids), found)
    else:
        raise Unprocessable(
            N_("Zeile 1: erwartet „point_id,site_id,km“ oder „point_id,<Standort-IDs…>“.")
        )
    return _assemble(found, point_ids, site_ids)


def _keep(
    key: tuple[str, str], value: float, line: int, found: dict[tuple[str, str], float]
) -> None:
    if key in found:
        raise Unprocessable(
            N_("Zeile %(line)s: %(point)s → %(site)s steht doppelt in der Tabelle."),
            line=line,
            point=key[0][:60],
            site=key[1][:60],
        )
    found[key] = value


def _read_long(
    rows: list[list[str]], points: set[str], sites: set[str], found: dict[tuple[str, str], float]
) -> None:
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise Unprocessable(N_("Zeile %(line)s: erwartet 3 Spalten."), line=line)
        point, site = row[0].strip(), row[1].strip()
        if point in points and site in sites:
            _keep((point, site), _number(row[2], line), line, found)


def _read_wide(
    rows: list[list[str]],
    header: list[str],
    points: set[str],
    sites: set[str],
    found: dict[tuple[str, str], float],
) -> None:
    columns = [(i, name) for i, name in enumerate(header) if i and name in sites]
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise Unprocessable(
                N_("Zeile %(line)s: erwartet %(count)s Spalten."), line=line, count=len(header)
            )
        point = row[0].strip()
        if point in points:
            for i, site in columns:
                _keep((point, site), _number(row[i], line), line, found)


def _assemble(
    found: dict[tuple[str, str], float], point_ids: Sequence[str], site_ids: Sequence[str]
) -> npt.NDArray[np.float64]:
    dist = np.empty((len(point_ids), len(site_ids)), dtype=np.float64)
    for i, point in enumerate(point_ids):
        for j, site in enumerate(site_ids):
            value = found.get((point, site))
            if value is None:
                raise Unprocessable(
                    N_("Die Entfernungstabelle hat keinen Wert für %(point)s → %(site)s."),
                    point=point,
                    site=site,
                )
            dist[i, j] = value
    return dist


def distance_km(
    settings: Settings,
    points: Sequence[Located],
    sites: Sequence[Located],
    *,
    method: Method = "great_circle",
    detour: float = 1.3,
    matrix_csv: str | None = None,
) -> npt.NDArray[np.float64]:
    """n × m km by the chosen method; OSRM needs `planning_osrm_url`, a matrix its CSV."""
    if method == "great_circle":
        return great_circle_km(points, sites, detour)
    if method == "matrix":
        if not matrix_csv:
            raise Unprocessable(N_("Für Entfernungen aus einer Tabelle fehlt die CSV-Datei."))
        return read_matrix_csv(matrix_csv, [p.id for p in points], [s.id for s in sites])
    if method == "osrm":
        if not settings.planning_osrm_url:
            raise Unprocessable(N_("Es ist kein Routing-Server eingestellt (planning_osrm_url)."))
        # Imported here: osrm imports this module (Located).
        from servicepoint.planning.osrm import osrm_km

        # The fetch gets the solver's time limit as its own: a job stays well inside the time
        # after which jobs.fail_stale gives it up.
        return osrm_km(
            settings.planning_osrm_url,
            points,
            sites,
            timeout=settings.planning_osrm_timeout,
            total_seconds=settings.planning_time_limit_seconds,
        )
    raise Unprocessable(N_("Unbekannte Entfernungsart: %(method)s."), method=str(method)[:40])
