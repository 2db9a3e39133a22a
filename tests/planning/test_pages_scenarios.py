"""Planner pages of scenarios: list and create forms, a scenario's live progress and result
(map, metrics against today, charts, gains and losses), exports, deletion and the comparison."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from servicepoint.core.i18n import N_
from servicepoint.errors import Unprocessable
from servicepoint.planning import jobs
from servicepoint.planning.models import Scenario
from tests.conftest import csrf_in, login, make_user
from tests.planning.page_fixtures import metrics, scenario


@pytest.fixture
def planner(client: TestClient, session: Session) -> TestClient:
    make_user(session, "plan-anna", "planner")
    login(client, "plan-anna")
    return client


def test_a_finished_scenario_shows_map_metrics_charts_and_changes(
    planner: TestClient, session: Session
) -> None:
    row = scenario(session)
    page = planner.get(f"/planung/szenarien/{row.id}")
    assert page.status_code == 200
    html = page.text
    assert "Szenario: Fünf bis sieben" in html
    assert "Kleinste Zahl von Standorten: 5; Größte Zahl von Standorten: 7" in html
    # the map's data: shaded points, the approximate one flagged, the one without a point left out
    found = re.search(r'id="map-data-s">(.*?)</script>', html, re.S)
    assert found
    data = json.loads(found.group(1))
    assert [p["name"] for p in data["points"]] == ["Mitte", "Bult"]
    assert (
        data["points"][1]["approx"] is True and data["points"][0]["geometry"]["type"] == "Polygon"
    )
    assert {s["name"]: s["open"] for s in data["sites"]} == {
        "Bürgeramt Mitte": True,
        "Kandidat Nord": False,
    }
    # legend, metrics against today, worst served, gains, charts with their tables
    assert "Entfernung zum nächsten Standort:" in html
    assert re.search(r"Mittlere Entfernung</th><td>1,80 km</td><td>2,10 km</td><td>−0,30 km", html)
    assert "Ungefähre Punkte: 25,0 % der Nachfrage." in html
    assert "Bult (Südstadt-Bult): 3,60 km <strong>– Punkt ungefähr</strong>" in html
    assert "Näher als heute (1)" in html
    assert html.count('role="img"') == 2 and '<title id="s-curve-title">' in html
    assert "nicht als optimal bewiesen (hohler Punkt)" in html
    assert f'href="/planung/szenarien/{row.id}.csv"' in html
    assert "hx-get" not in html  # nothing to poll any more
    english = planner.get(f"/planung/szenarien/{row.id}?lang=en")
    assert english.status_code == 200 and '<html lang="en">' in english.text


def test_a_running_scenario_polls_its_progress_in_a_live_region(
    planner: TestClient, session: Session
) -> None:
    row = scenario(
        session, status="running", progress=40, progress_note="Entfernungen werden berechnet"
    )
    html = planner.get(f"/planung/szenarien/{row.id}").text
    found = re.search(r'<div id="scenario-progress"[^>]*>', html)
    assert found
    box = found.group(0)
    assert 'role="status"' in box and 'aria-live="polite"' in box
    assert f'hx-get="/planung/szenarien/{row.id}/fortschritt"' in box
    fragment = planner.get(f"/planung/szenarien/{row.id}/fortschritt")
    assert fragment.status_code == 200
    assert '<progress max="100" value="40"' in fragment.text
    assert "Entfernungen werden berechnet" in fragment.text
    row.status, row.progress = "done", 100
    session.commit()
    done = planner.get(f"/planung/szenarien/{row.id}/fortschritt")
    assert done.status_code == 286  # HTMX stops polling
    assert "Ergebnis anzeigen" in done.text


def test_the_progress_poll_does_not_load_the_result(
    planner: TestClient, session: Session, connection: Connection
) -> None:
    """Polled every 2 s: reads the state, not the result's megabytes of polygons."""
    row = scenario(session)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        fragment = planner.get(f"/planung/szenarien/{row.id}/fortschritt")
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert fragment.status_code == 286 and "Ergebnis anzeigen" in fragment.text
    reads = [sql for sql in statements if "FROM planning_scenario" in sql]
    assert reads and not any("planning_scenario.result" in sql for sql in reads), reads


def test_a_failed_scenario_says_why(planner: TestClient, session: Session) -> None:
    row = scenario(session, status="failed", error="Zu wenige Standorte mit Koordinaten.")
    html = planner.get(f"/planung/szenarien/{row.id}").text
    assert "Die Berechnung ist fehlgeschlagen:" in html and "Zu wenige Standorte" in html


def test_a_failed_job_says_why_in_the_page_language(planner: TestClient, session: Session) -> None:
    stored = jobs.failure_record(
        Unprocessable(
            N_("Die Berechnung wurde unterbrochen (der Prozess endete); bitte neu starten.")
        )
    )
    row = scenario(session, status="failed", error=stored)
    german = planner.get(f"/planung/szenarien/{row.id}").text
    assert "Die Berechnung wurde unterbrochen" in german and "msgid" not in german
    english = planner.get(f"/planung/szenarien/{row.id}?lang=en").text
    assert "interrupted" in english and "msgid" not in english


def test_the_form_offers_weights_by_bookings_and_the_result_says_so(
    planner: TestClient, session: Session
) -> None:
    assert 'name="adjust"' in planner.get("/planung/szenarien").text
    row = scenario(session)
    assert row.result is not None
    row.result = {
        **row.result,
        "demand": {**row.result["demand"], "adjusted_by": "bookings", "adjust_days": 90},
    }
    session.commit()
    html = planner.get(f"/planung/szenarien/{row.id}?ergebnis=1").text
    assert "Buchungen der letzten 90 Tage" in html


def test_exports_are_downloads_of_finished_scenarios_only(
    planner: TestClient, session: Session
) -> None:
    row = scenario(session)
    csv = planner.get(f"/planung/szenarien/{row.id}.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"].startswith("attachment;")
    assert "Bult" in csv.content.decode("utf-8-sig")
    geo = planner.get(f"/planung/szenarien/{row.id}.geojson")
    assert geo.status_code == 200 and geo.json()["type"] == "FeatureCollection"
    queued = scenario(session, name="Wartet", status="queued")
    assert planner.get(f"/planung/szenarien/{queued.id}.csv").status_code == 409


def test_the_list_links_scenarios_and_deletes_with_csrf(
    planner: TestClient, session: Session
) -> None:
    row = scenario(session)
    row_id = row.id
    page = planner.get("/planung/szenarien")
    assert page.status_code == 200
    assert f'<a href="/planung/szenarien/{row.id}">Fünf bis sieben</a>' in page.text
    url = f"/planung/szenarien/{row.id}/loeschen"
    assert planner.post(url, data={}, follow_redirects=False).status_code == 403
    gone = planner.post(url, data={"csrf_token": csrf_in(page.text)}, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/planung/szenarien?ok=geloescht"
    assert "Das Szenario ist gelöscht." in planner.get(gone.headers["location"]).text
    session.expire_all()
    assert session.get(Scenario, row_id) is None
    assert planner.get(f"/planung/szenarien/{row_id}").status_code == 404


def test_bad_scenario_input_is_a_clear_422_with_the_form_kept(
    planner: TestClient, session: Session
) -> None:
    token = csrf_in(planner.get("/planung/szenarien").text)
    resp = planner.post(
        "/planung/szenarien",
        data={
            "csrf_token": token,
            "kind": "tradeoff",
            "name": "Zu weit",
            "k_min": "9",
            "k_max": "3",
        },
    )
    assert resp.status_code == 422
    assert 'role="alert"' in resp.text
    assert "Das größte k muss mindestens so groß wie das kleinste sein." in resp.text
    assert re.search(r'id="f-tradeoff-k_max"[^>]*value="3"[^>]*aria-invalid="true"', resp.text)
    unknown = planner.post(
        "/planung/szenarien", data={"csrf_token": token, "kind": "x" * 50, "name": "a"}
    )
    assert unknown.status_code == 422
    assert planner.get("/planung/szenarien/99999999999").status_code == 422


def test_a_new_scenario_is_queued_and_its_page_shows_the_progress(
    planner: TestClient, session: Session
) -> None:
    token = csrf_in(planner.get("/planung/szenarien").text)
    resp = planner.post(
        "/planung/szenarien",
        data={"csrf_token": token, "kind": "pmedian", "name": "Neun beste", "p": "3"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    page = planner.get(resp.headers["location"])
    assert "Neun beste" in page.text and "wartet auf den Start" in page.text
    assert 'hx-trigger="every 2s"' in page.text


def test_two_scenarios_compare_side_by_side(planner: TestClient, session: Session) -> None:
    first, second = scenario(session, name="Erstes"), scenario(session, name="Zweites")
    page = planner.get(f"/planung/vergleich?ids={first.id}&ids={second.id}")
    assert page.status_code == 200
    assert page.text.count('class="map planning-map"') == 2
    # each result beside its own today (here the same), and what both rest on
    assert re.search(
        r"Mittlere Entfernung</th><td>2,10 km</td><td>1,80 km</td><td>2,10 km</td><td>1,80 km</td>",
        page.text,
    )
    assert re.search(r'Jahr der Einwohnerzahlen</th><td colspan="2">heute</td>', page.text)
    assert "compare-mixed" not in page.text
    one = planner.get(f"/planung/vergleich?ids={first.id}")
    assert one.status_code == 422 and "Bitte wählen Sie zwei bis vier Szenarien" in one.text
    assert 'role="alert"' in one.text and f'value="{first.id}" checked' in one.text
    five = "&".join(f"ids={i}" for i in range(1, 6))
    assert planner.get(f"/planung/vergleich?{five}").status_code == 422
    assert planner.get("/planung/vergleich").status_code == 200


def test_scenarios_on_different_bases_each_keep_their_own_today(
    planner: TestClient, session: Session
) -> None:
    """A forecast on road distances beside today's demand on great-circle distances: no single
    "today" from the first one; the bases are shown and the mix is flagged."""
    first, second = scenario(session, name="Heute"), scenario(session, name="Prognose")
    assert second.result is not None
    second.result = {
        **second.result,
        "demand": {**second.result["demand"], "year": "2034", "rate": 1.1},
        "distance": {"method": "osrm", "detour": 1.0},
        "baseline": metrics(2.6, 5.0, 5.0, (0.4, 0.5, 0.6)),
    }
    session.commit()
    page = planner.get(f"/planung/vergleich?ids={first.id}&ids={second.id}")
    assert page.status_code == 200
    html = page.text
    assert re.search(
        r"Mittlere Entfernung</th><td>2,10 km</td><td>1,80 km</td><td>2,60 km</td><td>1,80 km</td>",
        html,
    )
    for label, one, two in (
        ("Jahr der Einwohnerzahlen", "heute", "Prognose 2034"),
        ("Besuche je Einwohner und Jahr", "1,03", "1,10"),
        ("Entfernungen", "Luftlinie mal Umwegfaktor", "Routing-Dienst \\(OSRM\\)"),
        ("Umwegfaktor", "1,30", "1,00"),
        ("Nachfrage", "Stadtteile", "Stadtteile"),
    ):
        cells = f'<td colspan="2">{one}</td><td colspan="2">{two}</td>'
        assert re.search(f"{label}</th>{cells}", html), label
    assert 'id="compare-mixed"' in html and "nicht direkt vergleichbar" in html
    english = planner.get(f"/planung/vergleich?ids={first.id}&ids={second.id}&lang=en")
    assert english.status_code == 200


def test_staff_without_the_planner_role_get_no_scenario_page(
    client: TestClient, session: Session
) -> None:
    row = scenario(session)
    make_user(session, "desk-cem", "staff")
    login(client, "desk-cem")
    for url in (
        "/planung/szenarien",
        f"/planung/szenarien/{row.id}",
        f"/planung/szenarien/{row.id}.csv",
        f"/planung/szenarien/{row.id}/fortschritt",
        "/planung/vergleich",
        "/planung/daten",
    ):
        assert client.get(url).status_code == 403, url
