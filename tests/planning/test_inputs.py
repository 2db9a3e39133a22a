"""Planning inputs with the database (SQLite and PostgreSQL): demand and sites from the city's
data plus what planners stored, and each planner's change with its checks and audit entry."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.appointment.models import Booking
from servicepoint.catalog.models import Location
from servicepoint.config import Settings
from servicepoint.errors import Conflict, NotFound, Unprocessable
from servicepoint.planning import inputs
from servicepoint.planning.models import DistrictPoint, GridPoint, Site


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _layer(*named: tuple[str, dict[str, Any]]) -> bytes:
    features = [{"type": "Feature", "properties": {"name": n}, "geometry": g} for n, g in named]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_demand_from_the_citys_data_keeps_every_stadtteil(
    session: Session, settings: Settings
) -> None:
    demand = inputs.demand_set(session, settings=settings)
    assert (demand.basis, demand.year, demand.rate) == ("stadtteile", "current", 1.03)
    assert len(demand.points) == 49 and len(demand.placed()) == 42
    assert demand.total_weight == pytest.approx(
        sum(p.population or 0 for p in demand.points) * 1.03
    )
    assert 0 < demand.missing_share < demand.approximate_share < 1
    kinds = {i.kind for i in demand.issues}
    assert kinds == {"approximate_point", "missing_point"}


def test_rate_and_year_and_their_bounds(session: Session, settings: Settings) -> None:
    doubled = inputs.demand_set(session, settings=settings, rate=2.06)
    base = inputs.demand_set(session, settings=settings)
    assert doubled.total_weight == pytest.approx(2 * base.total_weight)
    future = inputs.demand_set(session, settings=settings, year="2034", rate=1.0)
    assert future.total_weight == pytest.approx(566_836, abs=30)
    for rate in (0.0, -1.0, float("nan"), 101.0):
        with pytest.raises(Unprocessable, match="Besuchsrate"):
            inputs.demand_set(session, settings=settings, rate=rate)
    with pytest.raises(Unprocessable):
        inputs.demand_set(session, settings=settings, year="2050")  # type: ignore[arg-type]


def test_a_correction_on_the_map_wins_and_is_audited(session: Session, settings: Settings) -> None:
    inputs.correct_point(
        session, name="Nordstadt", lat=52.385, lon=9.72, user="plan-anna", settings=settings
    )
    point = next(
        p for p in inputs.demand_set(session, settings=settings).points if p.name == "Nordstadt"
    )
    assert (point.lat, point.lon, point.precision) == (52.385, 9.72, "corrected")
    inputs.correct_point(session, name="Nordstadt", lat=52.386, lon=9.72, user="plan-ben")
    entries = _audit(session, "planning.point_correct")
    assert [e.username for e in entries] == ["plan-anna", "plan-ben"]
    assert entries[1].detail["before"] == [52.385, 9.72]
    inputs.reset_point(session, name="Nordstadt", user="plan-ben")
    point = next(
        p for p in inputs.demand_set(session, settings=settings).points if p.name == "Nordstadt"
    )
    assert point.precision == "missing"
    with pytest.raises(NotFound):
        inputs.reset_point(session, name="Nordstadt", user="plan-ben")


@pytest.mark.parametrize(
    ("lat", "lon"), [(9.72, 52.385), (0.0, 0.0), (float("nan"), 9.7), (52.385, float("inf"))]
)
def test_points_outside_the_city_are_refused(
    session: Session, settings: Settings, lat: float, lon: float
) -> None:
    with pytest.raises(Unprocessable, match="nicht im Stadtgebiet"):
        inputs.correct_point(session, name="Mitte", lat=lat, lon=lon, user="p", settings=settings)
    assert session.get(DistrictPoint, "Mitte") is None


def test_an_unknown_stadtteil_is_404(session: Session, settings: Settings) -> None:
    with pytest.raises(NotFound):
        inputs.correct_point(
            session, name="Atlantis", lat=52.37, lon=9.73, user="p", settings=settings
        )


def test_the_district_layer_gives_shapes_and_reports_the_rest(
    session: Session, settings: Settings
) -> None:
    inputs.correct_point(session, name="Mitte", lat=52.37, lon=9.73, user="p", settings=settings)
    data = _layer(
        ("Mitte", _square(9.73, 52.37)),
        ("Nordstadt", _square(9.72, 52.38)),
        ("Atlantis", _square(9.72, 52.38)),
        ("Wülferode", _square(8.0, 52.37)),  # a typo far west of the city
    )
    report = inputs.import_district_layer(
        session, data=data, filename="stadtteile\x00.geojson", user="plan-anna", settings=settings
    )
    assert (report.filename, report.imported, report.replaced) == ("stadtteile.geojson", 2, 1)
    kinds = {(i.kind, i.subject) for i in report.issues if i.kind != "not_in_layer"}
    assert kinds == {("unknown_name", "Feature 3"), ("outside_area", "Wülferode")}
    points = {p.name: p for p in inputs.demand_set(session, settings=settings).points}
    assert points["Nordstadt"].precision == "layer"
    assert (
        points["Nordstadt"].geometry is not None
        and points["Nordstadt"].geometry["type"] == "Polygon"
    )
    assert points["Mitte"].precision == "layer"  # the layer replaced the correction
    # A correction afterwards keeps the shape (for shading) and moves only the point.
    inputs.correct_point(
        session, name="Nordstadt", lat=52.384, lon=9.724, user="p", settings=settings
    )
    stored = session.get(DistrictPoint, "Nordstadt")
    assert stored is not None and stored.geometry is not None and stored.source == inputs.CORRECTION
    assert _audit(session, "planning.layer_import")[0].detail["imported"] == 2


def test_the_grid_replaces_the_old_one_only_when_every_row_is_valid(
    session: Session, settings: Settings
) -> None:
    with pytest.raises(Unprocessable, match="kein Nachfrage-Raster"):
        inputs.demand_set(session, settings=settings, basis="grid")
    good = b"lat,lon,residents,label\n52.37,9.73,1000,A\n52.40,9.70,500,B\n"
    report = inputs.import_grid(
        session, data=good, filename="raster.csv", user="p", settings=settings
    )
    assert (report.imported, report.replaced, report.issues) == (2, 0, ())
    demand = inputs.demand_set(session, settings=settings, basis="grid", rate=1.0)
    assert [(p.name, p.weight) for p in demand.points] == [("A", 1000.0), ("B", 500.0)]
    assert demand.points[0].id.startswith("grid:")
    bad = b"lat,lon,einwohner\n52.37,9.73,10\n52.37,19.73,10\n52.37,9.73,x\n"
    report = inputs.import_grid(session, data=bad, filename="neu.csv", user="p", settings=settings)
    assert report.imported == 0
    assert [i.subject for i in report.issues] == ["Zeile 3", "Zeile 4"]
    assert "außerhalb des Stadtgebiets" in report.issues[0].detail
    assert len(session.scalars(select(GridPoint)).all()) == 2  # the old grid stays
    again = inputs.import_grid(
        session,
        data=b"lat,lon,weight\n52.37,9.73,7\n",
        filename="r.csv",
        user="p",
        settings=settings,
    )
    assert (again.imported, again.replaced) == (1, 2)
    # The old column name is read as residents, and the report says so.
    assert [i.kind for i in again.issues] == ["weight_as_residents"]
    grid = inputs.demand_set(session, settings=settings, basis="grid", rate=2.0)
    assert [(p.population, p.weight) for p in grid.points] == [(7, 14.0)]
    with pytest.raises(Unprocessable, match="nur je Stadtteil"):
        inputs.demand_set(session, settings=settings, basis="grid", year="2034")


def test_sites_today_offices_with_how_sure_their_point_is(
    session: Session, settings: Settings
) -> None:
    sites = inputs.site_set(session, settings=settings)
    by_id = {s.id: s for s in sites.sites}
    offices = [s for s in sites.sites if s.kind == "office"]
    assert len(offices) == 9 and all(s.location_id == s.id for s in offices)
    # Sahlkamp's Stadtteil has its own point; Bemerode's lies on its Stadtbezirk's point;
    # Ricklingen's Stadtbezirk has none; Aegi is named after a square, not a Stadtteil.
    assert (by_id["sahlkamp"].lat, by_id["sahlkamp"].precision) == (52.41194, "approximate")
    assert (by_id["bemerode"].lat, by_id["bemerode"].precision) == (52.34667, "approximate")
    assert by_id["ricklingen"].precision == "missing" and by_id["aegi"].precision == "missing"
    assert by_id["sahlkamp"].address == "Stadtteiltreff Sahlkamp, Elmstraße 15"
    details = {i.subject: i.detail for i in sites.issues if i.kind == "approximate_site"}
    assert "Stadtbezirk" not in details["Bürgeramt Sahlkamp"]
    assert "Stadtbezirks Kirchrode-Bemerode-Wülferode" in details["Bürgeramt Bemerode"]
    unplaced = {i.subject for i in sites.issues if i.kind == "unplaced_site"}
    assert unplaced == {
        "Bürgeramt Aegi",
        "Bürgeramt Linden",
        "Bürgeramt Podbi-Park",
        "Bürgeramt Ricklingen",
        "Bürgeramt Schützenplatz",
    }
    assert len(sites.placed()) == 4


def test_placing_an_office(session: Session, settings: Settings) -> None:
    site = inputs.place_office(
        session, location_id="aegi", lat=52.3717, lon=9.7456, user="p", settings=settings
    )
    assert (site.kind, site.location_id, site.name) == ("office", "aegi", "Bürgeramt Aegi")
    again = inputs.place_office(session, location_id="aegi", lat=52.3718, lon=9.7456, user="q")
    assert again.id == site.id and again.lat == 52.3718
    aegi = next(s for s in inputs.site_set(session, settings=settings).sites if s.id == "aegi")
    assert (aegi.lat, aegi.precision) == (52.3718, "placed")
    assert len(_audit(session, "planning.office_place")) == 2
    # The location's own point (an admin's) wins over a planner's.
    location = session.get(Location, "aegi")
    assert location is not None
    location.lat, location.lon = 52.3720, 9.7460
    session.flush()
    aegi = next(s for s in inputs.site_set(session, settings=settings).sites if s.id == "aegi")
    assert (aegi.lat, aegi.precision) == (52.3720, "exact")
    with pytest.raises(Conflict):
        inputs.place_office(session, location_id="aegi", lat=52.37, lon=9.74, user="p")
    with pytest.raises(NotFound):
        inputs.place_office(session, location_id="nirgendwo\x00", lat=52.37, lon=9.74, user="p")
    with pytest.raises(Unprocessable):
        inputs.place_office(session, location_id="linden", lat=48.1, lon=11.5, user="p")


def test_candidates_added_listed_and_deleted(session: Session, settings: Settings) -> None:
    site = inputs.add_candidate(
        session,
        name="  Stadtteilzentrum  Döhren ",
        lat=52.345,
        lon=9.77,
        address="Peiner Straße",
        fixed_cost_cents=25_000_000,
        user="plan-anna",
        settings=settings,
    )
    assert (site.id, site.name, site.kind) == (
        "kandidat-stadtteilzentrum-doehren",
        "Stadtteilzentrum Döhren",
        "candidate",
    )
    listed = inputs.site_set(session, settings=settings).sites[-1]
    assert (listed.id, listed.precision, listed.fixed_cost_cents) == (site.id, "exact", 25_000_000)
    with pytest.raises(Conflict):
        inputs.add_candidate(
            session,
            name="stadtteilzentrum döhren",
            lat=52.35,
            lon=9.77,
            address=None,
            fixed_cost_cents=None,
            user="p",
        )
    with pytest.raises(Conflict):
        inputs.add_candidate(
            session,
            name="Bürgeramt Aegi",
            lat=52.35,
            lon=9.77,
            address=None,
            fixed_cost_cents=None,
            user="p",
        )
    other = inputs.add_candidate(
        session,
        name="Stadtteilzentrum-Döhren!",
        lat=52.35,
        lon=9.77,
        address=None,
        fixed_cost_cents=None,
        user="p",
    )
    assert other.id == "kandidat-stadtteilzentrum-doehren-2"
    inputs.delete_candidate(session, site_id=site.id, user="plan-anna")
    assert session.get(Site, site.id) is None
    with pytest.raises(NotFound):
        inputs.delete_candidate(session, site_id=site.id, user="p")
    placed = inputs.place_office(session, location_id="linden", lat=52.36, lon=9.72, user="p")
    with pytest.raises(NotFound):
        inputs.delete_candidate(
            session, site_id=placed.id, user="p"
        )  # an office's point is no candidate
    assert [e.target for e in _audit(session, "planning.candidate_delete")] == [site.id]


@pytest.mark.parametrize(
    ("name", "cost", "message"),
    [
        ("   ", None, "braucht einen Namen"),
        ("x" * 201, None, "zu lang"),
        ("Böse\u202eDatei", None, "unerlaubte Zeichen"),
        ("Teuer", -1, "Fixkosten"),
        ("Teuer", 2_000_000_001, "Fixkosten"),
    ],
)
def test_bad_candidates_are_422(
    session: Session, settings: Settings, name: str, cost: int | None, message: str
) -> None:
    with pytest.raises(Unprocessable, match=message):
        inputs.add_candidate(
            session,
            name=name,
            lat=52.35,
            lon=9.77,
            address=None,
            fixed_cost_cents=cost,
            user="p",
            settings=settings,
        )


def test_booking_statistics_adjust_the_weights(session: Session, settings: Settings) -> None:
    calls: list[tuple[dt.date, dt.date]] = []

    def count(_session: Session, *, since: dt.date, until: dt.date) -> dict[str, int]:
        calls.append((since, until))
        return {"sahlkamp": 300, "bemerode": 100}

    since, until = dt.date(2026, 1, 1), dt.date(2026, 7, 1)
    adjuster = inputs.booking_adjuster(
        session, settings=settings, count=count, since=since, until=until
    )
    assert calls == [(since, until)]
    base = inputs.demand_set(session, settings=settings)
    adjusted = inputs.demand_set(session, settings=settings, adjusters=[adjuster])
    factors = {
        a.id: a.weight / b.weight
        for a, b in zip(adjusted.points, base.points, strict=True)
        if b.weight
    }
    catchment = adjuster.catchments(base.points)
    assert all(factors[p] == 1.0 for p in factors if p not in catchment)
    sahlkamp_side = {factors[p] for p, office in catchment.items() if office == "sahlkamp"}
    bemerode_side = {factors[p] for p, office in catchment.items() if office == "bemerode"}
    assert len(sahlkamp_side) == len(bemerode_side) == 1
    assert sahlkamp_side.pop() > 1 > bemerode_side.pop()
    with pytest.raises(Unprocessable, match="Zeitraum"):
        inputs.booking_adjuster(session, settings=settings, count=count, since=until, until=since)


def test_a_simultaneous_save_is_a_409_and_the_session_stays_usable(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another planner's row, written between our check for a free id and our insert.
    values = {
        "id": "kandidat-x",
        "name": "Anderer",
        "kind": "candidate",
        "lat": 52.35,
        "lon": 9.77,
        "source": "planner",
        "created_by": "q",
    }
    session.execute(insert(Site).values(**values))
    monkeypatch.setattr(inputs, "_free_site_id", lambda _session, _base: "kandidat-x")
    with pytest.raises(Conflict, match="Gleichzeitig"):
        inputs.add_candidate(
            session,
            name="Zweiter",
            lat=52.35,
            lon=9.77,
            address=None,
            fixed_cost_cents=None,
            user="p",
            settings=settings,
        )
    assert [s.name for s in session.scalars(select(Site))] == ["Anderer"]
    inputs.correct_point(session, name="Mitte", lat=52.37, lon=9.73, user="p", settings=settings)
    assert session.get(DistrictPoint, "Mitte") is not None


def test_booking_adjuster_reads_the_appointment_statistics_by_default(
    session: Session, settings: Settings
) -> None:
    def book(location: str, n: int, status: str = "booked", channel: str = "in_person") -> None:
        start = dt.datetime(2026, 3, 2, 8 + n, 0, tzinfo=dt.UTC)
        session.add(
            Booking(
                code=f"PLAN{location[:4].upper()}{n}{status[:2]}{channel[:2]}",
                location_id=location,
                start=start,
                end=start + dt.timedelta(minutes=15),
                service_ids=["x"],
                status=status,
                channel=channel,
            )
        )

    for n in range(3):
        book("sahlkamp", n)
    book("bemerode", 0)
    book("bemerode", 1, status="cancelled")
    book("bemerode", 2, channel="video")
    session.flush()
    adjuster = inputs.booking_adjuster(
        session, settings=settings, since=dt.date(2026, 3, 1), until=dt.date(2026, 4, 1)
    )
    assert adjuster.bookings == {"sahlkamp": 3, "bemerode": 1}
