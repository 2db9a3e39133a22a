"""What location planning rests on, read from the data folder and what planners stored: the
demand points and their weights, the sites, and the planners' changes to both (map
corrections, an imported district layer or demand grid, candidate sites, offices' points).

Services take `session` first, the rest keyword-only, and never commit. Every change is audited.
Functions that check coordinates against the city's box take `settings` for its data folder;
without it they read the environment's settings (the same folder in a running app).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.appointment.stats import booking_counts
from servicepoint.catalog import locations as location_service
from servicepoint.catalog.models import Location
from servicepoint.config import Settings
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import first_bad_char
from servicepoint.errors import Conflict, NotFound, Unprocessable
from servicepoint.planning import demand as dm
from servicepoint.planning.adjusters import BookingAdjuster
from servicepoint.planning.demand import DataIssue, DemandSet, SiteInfo, SiteSet, WeightAdjuster
from servicepoint.planning.imports import ImportReport, parse_district_layer, parse_grid_csv
from servicepoint.planning.models import DistrictPoint, GridPoint, Site

Basis = Literal["stadtteile", "grid"]
Year = Literal["current", "2034"]
# count(session, since=date, until=date) -> bookings per location id in [since, until): the
# appointment domain's statistic (appointment.stats.booking_counts by default).
BookingCounter = Callable[..., Mapping[str, int]]

CORRECTION = "Korrektur auf der Karte"
MAX_SITE_ID = 64
MAX_COST_CENTS = 2_000_000_000  # the column is a 32-bit integer
MAX_RATE = 100.0  # visits per inhabitant and year: far above any office's real rate


def _save(session: Session, row: object) -> None:
    """Add (if new) and write now, in a savepoint: a planner saving the same thing at the same
    moment (same Stadtteil, site id or office) gets a 409 instead of a 500, and the session
    stays usable (the savepoint's rollback takes the new row out again)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("Gleichzeitig geändert: bitte die Seite neu laden und noch einmal versuchen.")
        ) from None


def _config(settings: Settings | None) -> dm.PlanningConfig:
    return dm.planning_config((settings or Settings()).city_dir)


def _rate(config: dm.PlanningConfig, rate: float | None) -> float:
    value = config.rate if rate is None else rate
    if not (math.isfinite(value) and 0 < value <= MAX_RATE):
        raise Unprocessable(
            N_("Die Besuchsrate muss größer als 0 und höchstens %(max)s sein."), max=MAX_RATE
        )
    return value


def _stored_points(session: Session) -> dict[str, dm.StoredPoint]:
    return {
        row.name: dm.StoredPoint(row.lat, row.lon, row.geometry, row.source == CORRECTION)
        for row in session.scalars(select(DistrictPoint))
    }


def _stadtteil_points(
    session: Session, settings: Settings, *, rate: float, forecast: bool
) -> tuple[list[dm.DemandPoint], list[DataIssue]]:
    city_dir = settings.city_dir
    growth = dm.forecast_growth(city_dir) if forecast else None
    if forecast and not growth:
        raise Unprocessable(N_("Für 2034 fehlt die Bevölkerungsprognose im Datenordner."))
    rows, boroughs = dm.load_stadtteile(city_dir), dm.load_boroughs(city_dir)
    return dm.stadtteil_points(rows, boroughs, _stored_points(session), rate=rate, growth=growth)


def _grid_points(session: Session, *, rate: float, forecast: bool) -> list[dm.DemandPoint]:
    if forecast:
        raise Unprocessable(
            N_("Die Prognose 2034 gibt es nur je Stadtteil, nicht für ein importiertes Raster.")
        )
    rows = session.scalars(select(GridPoint).order_by(GridPoint.id)).all()
    if not rows:
        raise Unprocessable(N_("Es ist noch kein Nachfrage-Raster importiert."))
    return dm.grid_points(((r.id, r.label, r.lat, r.lon, r.weight) for r in rows), rate=rate)


def demand_set(
    session: Session,
    *,
    settings: Settings,
    basis: Basis = "stadtteile",
    year: Year = "current",
    rate: float | None = None,
    adjusters: Sequence[WeightAdjuster] = (),
) -> DemandSet:
    """The demand points with weights (population × rate, then each adjuster), every point
    kept and every doubt an issue; `placed()` gives the points a run can solve for."""
    if basis not in ("stadtteile", "grid") or year not in ("current", "2034"):
        raise Unprocessable(N_("Unbekannte Grundlage oder unbekanntes Jahr."))
    config = _config(settings)
    value = _rate(config, rate)
    forecast = year == "2034"
    issues: list[DataIssue] = []
    if basis == "grid":
        points = _grid_points(session, rate=value, forecast=forecast)
    else:
        points, issues = _stadtteil_points(session, settings, rate=value, forecast=forecast)
    points, more = dm.adjusted(points, adjusters)
    return dm.summarise(points, issues + more, basis=basis, year=year, rate=value)


def _address(loc: Location) -> str | None:
    street = " ".join(part for part in (loc.street, loc.house_number) if part)
    return ", ".join(part for part in (loc.building, street) if part) or None


def _offices(session: Session) -> list[Location]:
    return [loc for loc in location_service.list_locations(session) if loc.kind == "buergeramt"]


def site_set(session: Session, *, settings: Settings) -> SiteSet:
    """Today's Bürgerämter (with how sure their point is) and the planners' candidates."""
    config = _config(settings)
    points, _ = _stadtteil_points(session, settings, rate=config.rate, forecast=False)
    by_name = {p.name: p for p in points}
    offices = [
        dm.OfficeRow(loc.id, loc.name, loc.lat, loc.lon, _address(loc)) for loc in _offices(session)
    ]
    rows = session.scalars(select(Site).order_by(Site.name, Site.id)).all()
    placed = {r.location_id: (r.lat, r.lon) for r in rows if r.kind == "office" and r.location_id}
    sites, issues = dm.office_sites(offices, placed, config, by_name)
    sites += [
        SiteInfo(r.id, r.name, "candidate", r.lat, r.lon, "exact", r.address, r.fixed_cost_cents)
        for r in rows
        if r.kind == "candidate"
    ]
    return SiteSet(tuple(sites), tuple(issues))


def booking_adjuster(
    session: Session,
    *,
    settings: Settings,
    since: dt.date,
    until: dt.date,
    count: BookingCounter = booking_counts,
) -> BookingAdjuster:
    """Observed bookings per office in [since, until) as a WeightAdjuster (see BookingAdjuster)."""
    if not since < until:
        raise Unprocessable(N_("Der Zeitraum muss mindestens einen Tag umfassen."))
    bookings = count(session, since=since, until=until)
    return BookingAdjuster(site_set(session, settings=settings).sites, bookings)


def _checked_point(config: dm.PlanningConfig, lat: float, lon: float) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lon) and dm.in_bbox(config, lat, lon)):
        south, west, north, east = config.bbox
        raise Unprocessable(
            N_(
                "Der Punkt liegt nicht im Stadtgebiet (Breite %(south)s–%(north)s, "
                "Länge %(west)s–%(east)s)."
            ),
            south=south,
            north=north,
            west=west,
            east=east,
        )
    return round(lat, 6), round(lon, 6)


def _stadtteil_names(settings: Settings | None) -> list[str]:
    return [row.name for row in dm.load_stadtteile((settings or Settings()).city_dir)]


def correct_point(
    session: Session,
    *,
    name: str,
    lat: float,
    lon: float,
    user: str,
    settings: Settings | None = None,
) -> DistrictPoint:
    """A planner sets a Stadtteil's point on the map; an imported shape stays for shading."""
    if name not in _stadtteil_names(settings):
        raise NotFound(N_("Diesen Stadtteil gibt es nicht."))
    lat, lon = _checked_point(_config(settings), lat, lon)
    row = session.get(DistrictPoint, name)
    before = None if row is None else [row.lat, row.lon]
    if row is None:
        row = DistrictPoint(name=name, lat=lat, lon=lon, geometry=None)
    row.lat, row.lon, row.source, row.updated_by = lat, lon, CORRECTION, user
    _save(session, row)
    detail = {"lat": lat, "lon": lon, "before": before}
    account_service.audit(
        session, username=user, action="planning.point_correct", target=name, detail=detail
    )
    return row


def reset_point(session: Session, *, name: str, user: str) -> None:
    """Drop a planner's point or imported shape: the data folder's point counts again."""
    row = session.get(DistrictPoint, name)
    if row is None:
        raise NotFound(N_("Für diesen Stadtteil ist kein eigener Punkt gespeichert."))
    session.delete(row)
    session.flush()
    account_service.audit(session, username=user, action="planning.point_reset", target=name)


def import_district_layer(
    session: Session,
    *,
    data: bytes,
    filename: str,
    user: str,
    settings: Settings | None = None,
) -> ImportReport:
    """The official district layer: each known Stadtteil gets its shape and a point inside it
    (replacing an earlier point or correction); every feature not used is in the report."""
    config = _config(settings)
    layer = parse_district_layer(data, _stadtteil_names(settings))
    issues = list(layer.issues)
    source = _source(filename)
    imported = replaced = 0
    for name, feature in layer.features.items():
        if not dm.in_bbox(config, feature.lat, feature.lon):
            detail = N_("Der Mittelpunkt liegt außerhalb des Stadtgebiets; nicht übernommen.")
            issues.append(dm.issue("outside_area", name, detail))
            continue
        row = session.get(DistrictPoint, name)
        if row is None:
            row = DistrictPoint(name=name)
            session.add(row)
        else:
            replaced += 1
        row.lat, row.lon = round(feature.lat, 6), round(feature.lon, 6)
        row.geometry, row.source, row.updated_by = feature.geometry, source, user
        imported += 1
    session.flush()
    counts = {"file": source, "imported": imported, "issues": len(issues)}
    account_service.audit(session, username=user, action="planning.layer_import", detail=counts)
    return ImportReport(source, imported, replaced, tuple(issues))


def _source(filename: str) -> str:
    name = "".join(ch for ch in filename if first_bad_char(ch) is None).strip()
    return (name or "upload")[-300:]


def import_grid(
    session: Session,
    *,
    data: bytes,
    filename: str,
    user: str,
    settings: Settings | None = None,
) -> ImportReport:
    """A finer demand grid replaces the earlier one – only when every row is valid, so that a
    planner never solves on a half-read file; otherwise nothing changes and the report lists
    each bad row with its line."""
    grid = parse_grid_csv(data, bbox=_config(settings).bbox)
    issues = list(grid.issues)
    source = _source(filename)
    if any(issue.kind == "bad_row" for issue in issues) or not grid.rows:
        return ImportReport(source, 0, 0, tuple(issues))
    replaced = session.execute(select(func.count()).select_from(GridPoint)).scalar_one()
    session.execute(delete(GridPoint))
    session.add_all(
        GridPoint(label=r.label, lat=r.lat, lon=r.lon, weight=r.weight, source=source)
        for r in grid.rows
    )
    session.flush()
    counts = {"file": source, "rows": len(grid.rows), "replaced": replaced}
    account_service.audit(session, username=user, action="planning.grid_import", detail=counts)
    return ImportReport(source, len(grid.rows), replaced, tuple(issues))


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _slug(text: str) -> str:
    text = text.lower().translate(_UMLAUTS)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40].strip("-") or "standort"


def _free_site_id(session: Session, base: str) -> str:
    candidate, n = base, 1
    while session.get(Site, candidate) is not None or session.get(Location, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate[:MAX_SITE_ID]


# (too long, bad characters) per field, so that each message translates whole.
_TEXT_ERRORS = {
    "name": (
        N_("Der Name ist zu lang (höchstens %(limit)s Zeichen)."),
        N_("Der Name enthält unerlaubte Zeichen."),
    ),
    "address": (
        N_("Die Adresse ist zu lang (höchstens %(limit)s Zeichen)."),
        N_("Die Adresse enthält unerlaubte Zeichen."),
    ),
}


def _clean_text(value: str | None, limit: int, field: str) -> str | None:
    too_long, bad = _TEXT_ERRORS[field]
    text = " ".join((value or "").split())
    if first_bad_char(text) is not None:
        raise Unprocessable(bad)
    if len(text) > limit:
        raise Unprocessable(too_long, limit=limit)
    return text or None


def add_candidate(
    session: Session,
    *,
    name: str,
    lat: float,
    lon: float,
    address: str | None,
    fixed_cost_cents: int | None,
    user: str,
    settings: Settings | None = None,
) -> Site:
    """A candidate site a scenario may open; its name must differ from every site's and office's."""
    clean = _clean_text(name, 200, "name")
    if clean is None:
        raise Unprocessable(N_("Der Standort braucht einen Namen."))
    if fixed_cost_cents is not None and not 0 <= fixed_cost_cents <= MAX_COST_CENTS:
        raise Unprocessable(N_("Die Fixkosten müssen zwischen 0 und 20 Mio. Euro liegen."))
    lat, lon = _checked_point(_config(settings), lat, lon)
    taken = {n.casefold() for n in session.scalars(select(Site.name))}
    taken |= {loc.name.casefold() for loc in _offices(session)}
    if clean.casefold() in taken:
        raise Conflict(N_("Einen Standort namens „%(name)s“ gibt es schon."), name=clean)
    site = Site(
        id=_free_site_id(session, f"kandidat-{_slug(clean)}"),
        name=clean,
        kind="candidate",
        address=_clean_text(address, 300, "address"),
        lat=lat,
        lon=lon,
        fixed_cost_cents=fixed_cost_cents,
        source="planner",
        created_by=user,
    )
    _save(session, site)
    detail = {"name": clean, "lat": lat, "lon": lon, "fixed_cost_cents": fixed_cost_cents}
    account_service.audit(
        session, username=user, action="planning.candidate_add", target=site.id, detail=detail
    )
    return site


def delete_candidate(session: Session, *, site_id: str, user: str) -> None:
    """Remove a planner's candidate (saved scenarios keep their own copy of it)."""
    site = None if "\x00" in site_id else session.get(Site, site_id)
    if site is None or site.kind != "candidate":
        raise NotFound(N_("Diesen Kandidaten gibt es nicht."))
    session.delete(site)
    session.flush()
    account_service.audit(
        session, username=user, action="planning.candidate_delete", target=site_id
    )


def place_office(
    session: Session,
    *,
    location_id: str,
    lat: float,
    lon: float,
    user: str,
    settings: Settings | None = None,
) -> Site:
    """A planner's point for an office without coordinates (used until the location gets its
    own: an admin's point in the location's record always wins)."""
    loc = location_service.get_location(session, location_id=location_id)
    if loc.kind != "buergeramt":
        raise NotFound(N_("Dieses Bürgeramt gibt es nicht."))
    if loc.lat is not None and loc.lon is not None:
        raise Conflict(
            N_(
                "Dieser Standort hat schon Koordinaten; "
                "sie werden in der Standortverwaltung geändert."
            )
        )
    lat, lon = _checked_point(_config(settings), lat, lon)
    site = session.scalars(select(Site).where(Site.location_id == loc.id)).first()
    before = None if site is None else [site.lat, site.lon]
    if site is None:
        site = Site(id=_free_site_id(session, f"buero-{loc.id}"[:50]), kind="office")
        site.location_id, site.created_by = loc.id, user
    site.name, site.lat, site.lon, site.address = loc.name, lat, lon, _address(loc)
    _save(session, site)
    detail = {"lat": lat, "lon": lon, "before": before}
    account_service.audit(
        session, username=user, action="planning.office_place", target=loc.id, detail=detail
    )
    return site
