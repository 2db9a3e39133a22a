"""Today's network on /planung, and a scenario from the form through the job runner to its
result page and exports (real inputs, solver and result JSON)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.config import Settings
from servicepoint.planning import jobs
from tests.conftest import csrf_in, login, make_user


@pytest.fixture
def planner(client: TestClient, session: Session) -> TestClient:
    make_user(session, "plan-anna", "planner")
    login(client, "plan-anna")
    return client


def test_todays_network_shows_map_metrics_and_the_worst_served(planner: TestClient) -> None:
    html = planner.get("/planung").text
    assert "<h1>Planung: das heutige Netz</h1>" in html
    data = json.loads(re.search(r'id="map-data-today">(.*?)</script>', html, re.S).group(1))
    assert len(data["points"]) > 5 and data["sites"]
    assert any(p["approx"] for p in data["points"])  # shown as approximate, not as exact
    assert re.search(r"Mittlere Entfernung</th><td>[\d,]+ km</td></tr>", html)
    assert "Anteil der Nachfrage innerhalb von 1 km" in html
    assert re.search(r'<ol class="worst">\s*<li>', html)
    assert "Ungefähre Punkte:" in html and 'role="img"' in html


def test_a_scenario_runs_from_the_form_to_its_result_and_exports(
    planner: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    token = csrf_in(planner.get("/planung/szenarien").text)
    form = {"csrf_token": token, "kind": "tradeoff", "name": "Kurve", "k_min": "3", "k_max": "5"}
    created = planner.post("/planung/szenarien", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    assert "hx-get" in planner.get(url).text
    assert jobs.run_pending(session_factory, settings) == 1
    page = planner.get(url + "?ergebnis=1")
    assert "Die Berechnung ist fertig." in page.text, page.text[-2000:]
    assert 'id="result-title"' in page.text and "hx-get" not in page.text
    assert page.text.count('role="img"') == 2  # trade-off curve and histogram
    curve = re.search(r'<figure class="chart-figure">.*?</figure>', page.text, re.S).group(0)
    assert curve.count('<th scope="row">') >= 2  # one row per k the sites allow
    rows = list(csv.DictReader(io.StringIO(planner.get(url + ".csv").content.decode("utf-8-sig"))))
    assert len(rows) > 10
    assert planner.get(url + ".geojson").json()["type"] == "FeatureCollection"


def test_todays_network_says_why_it_cannot_be_evaluated(
    planner: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicepoint.errors import Unprocessable
    from servicepoint.planning import scenarios

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise Unprocessable("Kein Standort hat Koordinaten.")

    monkeypatch.setattr(scenarios, "network_result", refuse)
    page = planner.get("/planung")
    assert page.status_code == 200
    assert (
        "Das heutige Netz lässt sich gerade nicht bewerten: Kein Standort hat Koordinaten."
        in page.text
    )
    assert "Einwohner je Stadtteil" in page.text  # the rest of the page stays
