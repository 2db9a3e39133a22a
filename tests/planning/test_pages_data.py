"""The planners' data page: demand points and sites with how exact they are, the forms that
change them (a point, an office's point, candidates) and the file imports with their reports."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.planning.models import DistrictPoint, Site
from tests.conftest import csrf_in, login, make_user


@pytest.fixture
def planner(client: TestClient, session: Session) -> TestClient:
    make_user(session, "plan-anna", "planner")
    login(client, "plan-anna")
    return client


def _token(client: TestClient) -> str:
    return csrf_in(client.get("/planung/daten").text)


def test_the_data_page_shows_points_sites_and_what_is_approximate(planner: TestClient) -> None:
    page = planner.get("/planung/daten")
    assert page.status_code == 200
    html = page.text
    data = json.loads(re.search(r'id="map-data-data">(.*?)</script>', html, re.S).group(1))
    assert data["editable"] is True and data["points"]
    assert any(p["approx"] for p in data["points"])  # Stadtteile on their Stadtbezirk's point
    assert "Auf ungefähren Punkten (Punkt des Stadtbezirks):" in html
    assert "<strong>ungefähr (Punkt des Stadtbezirks)</strong>" in html
    assert 'class="map-lat"' in html and 'id="map-picked"' in html and 'role="status"' in html
    assert 'action="/planung/daten/gebiete" enctype="multipart/form-data"' in html


def test_a_point_is_corrected_and_refused_outside_the_city(
    planner: TestClient, session: Session
) -> None:
    token = _token(planner)
    form = {"csrf_token": token, "name": "Bult", "lat": "52.365", "lon": "9.77"}
    done = planner.post("/planung/daten/punkt", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(
        "/planung/daten?ok=punkt"
    )
    assert "Der Punkt ist gespeichert." in planner.get(done.headers["location"]).text
    session.expire_all()
    assert session.get(DistrictPoint, "Bult") is not None
    far = planner.post("/planung/daten/punkt", data=form | {"lat": "48.1"})
    assert far.status_code == 422
    assert "Der Punkt liegt nicht im Stadtgebiet" in far.text
    assert re.search(r'id="correct-lat"[^>]*value="48.1"', far.text)
    assert planner.post("/planung/daten/punkt", data=form | {"lat": "200"}).status_code == 422
    assert planner.post("/planung/daten/punkt", data=form | {"lat": "abc"}).status_code == 422
    no_csrf = planner.post("/planung/daten/punkt", data=form | {"csrf_token": ""})
    assert no_csrf.status_code == 403


def test_candidates_are_added_refused_twice_and_deleted(
    planner: TestClient, session: Session
) -> None:
    token = _token(planner)
    form = {
        "csrf_token": token,
        "name": "Stadtbibliothek",
        "address": "Hildesheimer Str. 12",
        "lat": "52.366",
        "lon": "9.744",
        "cost_euros": "120000",
    }
    done = planner.post("/planung/daten/kandidaten", data=form, follow_redirects=False)
    assert done.status_code == 303
    page = planner.get(done.headers["location"]).text
    assert "Der Kandidat ist angelegt." in page and "Stadtbibliothek" in page
    assert "120.000,00 €" in page
    again = planner.post("/planung/daten/kandidaten", data=form)
    assert again.status_code == 409 and "gibt es schon" in again.text
    session.expire_all()
    site = session.query(Site).filter_by(name="Stadtbibliothek").one()
    gone = planner.post(
        f"/planung/daten/kandidaten/{site.id}/loeschen",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    missing = planner.post("/planung/daten/kandidaten/nix/loeschen", data={"csrf_token": token})
    assert missing.status_code == 404


def test_an_office_without_coordinates_is_placed(planner: TestClient, session: Session) -> None:
    token = _token(planner)
    form = {"csrf_token": token, "location_id": "ricklingen", "lat": "52.345", "lon": "9.72"}
    resp = planner.post("/planung/daten/buero", data=form, follow_redirects=False)
    assert resp.status_code in (303, 409), resp.text  # 409: the seed already has its point
    unknown = planner.post("/planung/daten/buero", data=form | {"location_id": "nirgends"})
    assert unknown.status_code == 404


def test_a_grid_with_a_bad_row_is_reported_by_line(planner: TestClient) -> None:
    token = _token(planner)
    csv = b"lat,lon,weight,label\n52.37,9.74,100,A\n52.38,nope,50,B\n"
    resp = planner.post(
        "/planung/daten/raster",
        data={"csrf_token": token},
        files={"file": ("raster.csv", csv, "text/csv")},
    )
    assert resp.status_code == 200
    assert "Importbericht für raster.csv" in resp.text
    assert "Kein Nachfrageraster importiert." in resp.text  # a file with a bad row changes nothing
    good = planner.post(
        "/planung/daten/raster",
        data={"csrf_token": token},
        files={
            "file": ("raster.csv", b"lat,lon,weight\n52.37,9.74,100\n52.38,9.75,50\n", "text/csv")
        },
    )
    assert "Importiertes Raster: 2 Punkte" in good.text and "2 übernommen" in good.text
    assert "<li>Zeile 3: lat/lon" in resp.text  # the bad row by its line


def test_a_district_layer_gives_a_stadtteil_its_shape(
    planner: TestClient, session: Session
) -> None:
    ring = [[9.76, 52.36], [9.78, 52.36], [9.78, 52.37], [9.76, 52.37], [9.76, 52.36]]
    layer = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Bult"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    resp = planner.post(
        "/planung/daten/gebiete",
        data={"csrf_token": _token(planner)},
        files={"file": ("stadtteile.geojson", json.dumps(layer).encode(), "application/geo+json")},
    )
    assert resp.status_code == 200
    assert "1 übernommen" in resp.text
    session.expire_all()
    point = session.get(DistrictPoint, "Bult")
    assert point is not None and point.geometry is not None
    broken = planner.post(
        "/planung/daten/gebiete",
        data={"csrf_token": _token(planner)},
        files={"file": ("kaputt.geojson", b"{nope", "application/geo+json")},
    )
    assert 400 <= broken.status_code < 500 or "Importbericht" in broken.text
