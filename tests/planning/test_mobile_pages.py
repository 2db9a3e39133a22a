"""The mobile ServicePoint's planner pages: stops, proposals, plans with live progress, the
routes on a map and in tables, publication; planner role and CSRF on every form."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.appointment import capacity as capacity_service
from servicepoint.catalog import locations as location_service
from servicepoint.config import Settings
from servicepoint.planning import evaluate as evaluation
from servicepoint.planning import jobs, mobile_periodic
from servicepoint.planning import mobile_service as ms
from servicepoint.planning.mobile_model import Violation
from tests.conftest import csrf_in, login, make_user
from tests.planning.test_mobile_service import _nearest, fake_plan_weeks

BASE = "/planung/mobil"
STOP = {
    "name": "Stadtteilbibliothek Vahrenheide",
    "kind": "library",
    "address": "Musterweg 2",
    "lat": "52.405",
    "lon": "9.765",
    "hours": "Di 10:00-13:00; Do 10:00-13:00",
    "frequency_weeks": "2",
    "min_spacing_days": "5",
    "service_minutes": "90",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"planning_jobs_in_app": False})


@pytest.fixture
def planner(client: TestClient, session: Session) -> TestClient:
    make_user(session, "plan-mo", "planner")
    login(client, "plan-mo")
    return client


def post(client: TestClient, path: str, data: dict[str, Any], page: str = BASE) -> Any:
    token = csrf_in(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def map_data(html: str) -> dict[str, Any]:
    found = re.search(r'id="mobile-map-data">(.*?)</script>', html, re.S)
    assert found, "no map data on the page"
    return dict(json.loads(found.group(1)))


def test_planners_only(client: TestClient, session: Session) -> None:
    resp = client.get(BASE, follow_redirects=False)
    assert resp.status_code in (303, 401)
    make_user(session, "desk-ida", "staff")
    login(client, "desk-ida")
    assert client.get(BASE).status_code == 403


def test_the_overview_has_a_map_tables_and_forms(planner: TestClient) -> None:
    page = planner.get(BASE)
    assert page.status_code == 200
    assert "Mobiler ServicePoint" in page.text and 'role="region"' in page.text
    data = map_data(page.text)
    assert data["stops"] == [] and data["pick"] == {"lat": "depot-lat", "lon": "depot-lon"}
    assert data["references"], "district points for orientation"
    assert 'name="csrf_token"' in page.text and "/static/planning/mobile.js" in page.text
    assert page.headers["cache-control"] == "no-store"
    english = planner.get(BASE + "?lang=en")
    assert english.status_code == 200 and '<html lang="en">' in english.text


def test_a_planner_adds_edits_deactivates_and_deletes_a_stop(
    planner: TestClient, session: Session
) -> None:
    resp = post(planner, BASE + "/halte", STOP, page=BASE + "/halte/neu")
    assert resp.status_code == 303 and resp.headers["location"] == BASE + "?ok=halt"
    stop = ms.get_stop(session, stop_id="stadtteilbibliothek-vahrenheide")
    assert stop.opening_hours == {"tu": [["10:00", "13:00"]], "th": [["10:00", "13:00"]]}
    overview = planner.get(resp.headers["location"])
    assert "Der Halt ist gespeichert." in overview.text
    assert map_data(overview.text)["stops"][0]["name"] == STOP["name"]
    edit = planner.get(f"{BASE}/halte/{stop.id}")
    assert 'value="Musterweg 2"' in edit.text and 'id="f-lat"' in edit.text
    moved = post(planner, f"{BASE}/halte/{stop.id}", {**STOP, "lat": "52.41"}, page=BASE)
    assert moved.status_code == 303
    session.refresh(stop)
    assert stop.lat == 52.41
    off = post(planner, f"{BASE}/halte/{stop.id}/aktiv", {"active": "0"})
    assert off.status_code == 303 and off.headers["location"].endswith("ok=inaktiv")
    session.refresh(stop)
    assert stop.active is False
    gone = post(planner, f"{BASE}/halte/{stop.id}/loeschen", {})
    assert gone.status_code == 303
    assert planner.get(f"{BASE}/halte/{stop.id}").status_code == 404


def test_refused_stop_values_come_back_in_the_form(planner: TestClient) -> None:
    resp = post(
        planner,
        BASE + "/halte",
        {**STOP, "hours": "immer montags", "service_minutes": "5"},
        page=BASE + "/halte/neu",
    )
    assert resp.status_code == 422
    assert "Bitte korrigieren Sie" in resp.text and 'value="immer montags"' in resp.text
    assert 'aria-invalid="true"' in resp.text and "Öffnungszeiten des Gastgebers" in resp.text
    outside = post(planner, BASE + "/halte", {**STOP, "lat": "48.1"}, page=BASE + "/halte/neu")
    assert outside.status_code == 422 and "Stadtgebiet" in outside.text


def test_forms_need_the_csrf_token(planner: TestClient) -> None:
    resp = planner.post(BASE + "/halte", data=STOP, follow_redirects=False)
    assert resp.status_code == 403


def test_route_parameters_are_bounded(planner: TestClient) -> None:
    assert planner.get(f"{BASE}/halte/{'x' * 65}").status_code == 422
    assert planner.get(f"{BASE}/plaene/0").status_code == 422
    assert planner.get(f"{BASE}/plaene/2147483648").status_code == 422
    assert planner.get(f"{BASE}/plaene/999999").status_code == 404


def test_proposals_from_the_form(planner: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation, "evaluate", _nearest)
    resp = post(planner, BASE + "/vorschlag", {"count": "2"})
    assert resp.status_code == 200 and "Neu angelegt: 2" in resp.text
    assert len(map_data(resp.text)["stops"]) == 2
    bad = post(planner, BASE + "/vorschlag", {"count": "999"})
    assert bad.status_code == 422 and "zwischen 1 und 30" in bad.text


PLAN = {
    "plan_name": "Februar",
    "start_date": "2027-02-01",
    "weeks": "4",
    "depot_lat": "52.3745",
    "depot_lon": "9.7386",
    "workdays": ["0", "1", "2", "3", "4"],
    "day_start": "08:00",
    "day_end": "16:00",
    "speed_kmh": "25",
    "detour": "1.3",
}


def test_a_plan_is_computed_shown_live_and_published(
    planner: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mobile_periodic, "plan_weeks", fake_plan_weeks())
    post(planner, BASE + "/halte", STOP, page=BASE + "/halte/neu")
    created = post(planner, BASE + "/plaene", PLAN)
    assert created.status_code == 303
    url = created.headers["location"]
    waiting = planner.get(url)
    assert 'role="status"' in waiting.text and "<progress" in waiting.text
    assert f'hx-get="{url}/fortschritt"' in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    fragment = planner.get(url + "/fortschritt")
    assert "wartet auf die Berechnung" in fragment.text and fragment.status_code == 200
    assert jobs.run_pending(jobs.sessions_beside(session), settings) == 1
    finished = planner.get(url + "/fortschritt")
    # 286 stops HTMX's poll; the link loads the result (a new URL, so the page really loads).
    assert finished.status_code == 286 and "Ergebnis anzeigen" in finished.text
    assert f'href="{url}?ergebnis=1#result-title"' in finished.text
    page = planner.get(url)
    assert "hx-get" not in page.text and "keinen Verstoß" in page.text
    assert "<caption>" in page.text and "09:00–10:30" in page.text
    data = map_data(page.text)
    assert len(data["routes"]) == 2 and data["depot"] == [52.3745, 9.7386]
    published = post(planner, url + "/veroeffentlichen", {}, page=url)
    # Post/Redirect/Get: a reload of the answer does not publish again.
    assert published.status_code == 303
    assert published.headers["location"] == f"{url}#publication"
    shown = planner.get(url)  # the summary comes from the plan as stored
    assert 'id="publication"' in shown.text and "1 Halte mit 2 Besuchstagen" in shown.text
    loc = location_service.get_location(
        session, location_id="mobil-stadtteilbibliothek-vahrenheide"
    )
    assert loc.kind == "mobile" and loc.opening_hours == {}
    cap = capacity_service.get_capacity(session, location_id=loc.id)
    assert cap.dates and min(cap.dates) == "2027-02-02"
    assert "Veröffentlichte Halte" in planner.get(BASE).text
    stop_page = planner.get(f"{BASE}/halte/stadtteilbibliothek-vahrenheide").text
    assert f'href="/standorte/{loc.id}"' in stop_page
    assert post(planner, url + "/loeschen", {}, page=url).status_code == 409


def test_refused_plan_values_come_back_in_the_form(planner: TestClient) -> None:
    post(planner, BASE + "/halte", STOP, page=BASE + "/halte/neu")
    resp = post(planner, BASE + "/plaene", {**PLAN, "depot_lat": "", "day_end": "25:99"})
    assert resp.status_code == 422
    assert "Breitengrad des Depots: Bitte ausfüllen." in resp.text
    assert 'value="Februar"' in resp.text
    nostops = post(planner, BASE + "/plaene", {**PLAN, "workdays": []})
    assert nostops.status_code == 422 and "Einsatztage" in nostops.text
    late = dt.date.today() + dt.timedelta(days=366 * 6)
    far = post(planner, BASE + "/plaene", {**PLAN, "start_date": late.isoformat()})
    assert far.status_code == 422


def test_a_plan_the_checker_refuses_shows_why_and_cannot_be_published(
    planner: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = Violation(
        "window",
        dt.date(2027, 2, 2),
        "x",
        "Besuch außerhalb der Öffnungszeit (x)",
        message="Besuch außerhalb der Öffnungszeit (%(stop)s)",
        params={"stop": "x"},
    )
    monkeypatch.setattr(mobile_periodic, "plan_weeks", fake_plan_weeks((found,)))
    post(planner, BASE + "/halte", STOP, page=BASE + "/halte/neu")
    url = post(planner, BASE + "/plaene", PLAN).headers["location"]
    assert jobs.run_pending(jobs.sessions_beside(session), settings) == 1
    page = planner.get(url)
    assert "1 Verstöße" in page.text and "Besuch außerhalb der Öffnungszeit (x)" in page.text
    assert "Plan veröffentlichen" not in page.text
    refused = post(planner, url + "/veroeffentlichen", {}, page=url)
    assert refused.status_code == 409 and 'role="alert"' in refused.text


def test_a_refused_publication_names_the_stops_and_the_stop_page_says_how_to_fix_them(
    planner: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mobile_periodic, "plan_weeks", fake_plan_weeks())
    post(planner, BASE + "/halte", {**STOP, "address": ""}, page=BASE + "/halte/neu")
    url = post(planner, BASE + "/plaene", PLAN).headers["location"]
    assert jobs.run_pending(jobs.sessions_beside(session), settings) == 1
    refused = post(planner, url + "/veroeffentlichen", {}, page=url)
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert "Stadtteilbibliothek Vahrenheide" in refused.text and "genauen Ort" in refused.text
    stop_page = planner.get(f"{BASE}/halte/stadtteilbibliothek-vahrenheide").text
    assert 'id="place-notice"' in stop_page and "keine Adresse" in stop_page
    fixed = post(
        planner,
        f"{BASE}/halte/stadtteilbibliothek-vahrenheide",
        STOP,
        page=f"{BASE}/halte/stadtteilbibliothek-vahrenheide",
    )
    assert fixed.status_code == 303
    stale = post(planner, url + "/veroeffentlichen", {}, page=url)
    assert stale.status_code == 409 and "neu berechnen" in stale.text
    assert (
        'id="place-notice"' not in planner.get(f"{BASE}/halte/stadtteilbibliothek-vahrenheide").text
    )
