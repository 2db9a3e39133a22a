"""Planners get a home page behind login and the planner role; staff do not."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.planning import service as planning_service
from servicepoint.planning.demand import load_districts, share_of_largest
from tests.conftest import DATA_DIR, login, make_user


def test_a_planner_sees_what_planning_offers_now_and_next(
    client: TestClient, session: Session
) -> None:
    make_user(session, "plan-anna", "planner")
    login(client, "plan-anna")
    resp = client.get("/planung")
    assert resp.status_code == 200
    assert '<a href="/standorte">' in resp.text
    for page in ("/planung/daten", "/planung/szenarien", "/planung/vergleich"):
        assert f'<a href="{page}"' in resp.text
    assert re.search(r"<th scope=\"row\">Mitte</th><td>Mitte</td>\s*<td>.*11\.412", resp.text)
    english = client.get("/planung?lang=en").text
    assert '<html lang="en">' in english and "11,412" in english


def test_the_staff_home_links_planning_for_planners_only(
    client: TestClient, session: Session
) -> None:
    make_user(session, "plan-ben", "planner")
    login(client, "plan-ben")
    assert '<a href="/planung">' in client.get("/mitarbeiter").text
    client.cookies.clear()
    make_user(session, "desk-cem", "staff")
    login(client, "desk-cem")
    assert '<a href="/planung">' not in client.get("/mitarbeiter").text


def test_staff_without_the_planner_role_are_refused(client: TestClient, session: Session) -> None:
    make_user(session, "desk-dora", "staff")
    login(client, "desk-dora")
    assert client.get("/planung").status_code == 403


def test_admins_may_plan_too(client: TestClient, session: Session) -> None:
    make_user(session, "chef-eva", "admin")
    login(client, "chef-eva")
    assert client.get("/planung").status_code == 200


def test_anonymous_visitors_are_sent_to_the_login(client: TestClient) -> None:
    resp = client.get("/planung", follow_redirects=False)
    assert resp.status_code in (303, 401)
    if resp.status_code == 303:
        assert resp.headers["location"].startswith("/mitarbeiter/login")


def test_districts_come_from_the_data_folder_largest_first() -> None:
    districts = load_districts(DATA_DIR)
    assert len(districts) == 49
    sizes = [d.population or 0 for d in districts]
    assert sizes == sorted(sizes, reverse=True)
    bars = share_of_largest(districts)
    assert bars[districts[0].name] == 100 and all(0 <= v <= 100 for v in bars.values())


def test_a_city_without_district_figures_gets_an_empty_list(tmp_path: Path) -> None:
    assert load_districts(tmp_path) == []
    assert share_of_largest([]) == {}


def test_another_citys_district_table_is_found_by_its_pattern(tmp_path: Path) -> None:
    (tmp_path / "bremen_stadtteile.csv").write_text(
        "stadtteil,stadtbezirk,population,population_date\n"
        "Findorff,Bremen-West,26000,2023-12-31\n"
        "Vegesack,Bremen-Nord,34000,\n",
        encoding="utf-8",
    )
    districts = load_districts(tmp_path)
    assert [d.name for d in districts] == ["Vegesack", "Findorff"]
    assert districts[1].borough == "Bremen-West" and districts[0].as_of is None


def test_the_district_figures_are_read_once_per_data_folder(tmp_path: Path) -> None:
    table = tmp_path / "muster_stadtteile.csv"
    table.write_text("stadtteil,stadtbezirk,population,population_date\nA,B,10,\n", "utf-8")
    first = planning_service.demand_overview(tmp_path)
    table.unlink()  # a second request does not touch the file again
    again = planning_service.demand_overview(tmp_path)
    assert again is first
    assert [d.name for d in again.districts] == ["A"] and again.bars == {"A": 100}
