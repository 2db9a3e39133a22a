"""A service with an online form in the data folder leads to our own form (/antrag/<id>): in
the seeded catalog, the API, the service and tutorial pages and the assistant's answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import CatalogFileError, load_services
from servicepoint.catalog.seed import with_online_forms
from tests.conftest import DATA_DIR

FIVE = ("meldebescheinigung", "bewohnerparkausweis", "briefwahl", "hundesteuer",
        "uebermittlungssperren")  # fmt: skip


@pytest.mark.parametrize("service_id", FIVE)
def test_seeding_hannover_links_the_five_services_to_our_form(
    session: Session, service_id: str
) -> None:
    svc = catalog_service.get_service(session, service_id=service_id)
    assert svc.channels[0] == "online"
    assert svc.online_url == f"/antrag/{service_id}"
    assert svc.data["online_url"] == svc.online_url and svc.data["channels"] == svc.channels
    assert svc.data["tutorial"]["steps"]


def test_other_channels_stay_and_other_services_keep_their_portal(session: Session) -> None:
    melde = catalog_service.get_service(session, service_id="meldebescheinigung")
    assert melde.channels == ["online", "appointment", "mobile"]
    portal = catalog_service.get_service(session, service_id="fuehrungszeugnis")
    assert portal.online_url == "https://www.fuehrungszeugnis.bund.de"


def test_the_api_gives_our_form_as_an_absolute_address(client: TestClient) -> None:
    items = {i["id"]: i for i in client.get("/api/services").json()}
    for service_id in FIVE:
        assert items[service_id]["online_url"] == f"http://testserver/antrag/{service_id}"
        assert items[service_id]["channels"][0] == "online"
    detail = client.get("/api/services/briefwahl").json()
    assert detail["online_url"] == "http://testserver/antrag/briefwahl"
    assert detail["tutorial"]["title"] == "Briefwahl online beantragen"


def test_service_and_tutorial_pages_link_our_form_as_no_external_page(client: TestClient) -> None:
    page = client.get("/leistungen/meldebescheinigung-beantragen").text
    assert 'href="/antrag/meldebescheinigung"' in page
    assert "Das geht online" in page and "externe Seite" not in page.split("online-box")[1][:900]
    tutorial = client.get("/leistungen/meldebescheinigung-beantragen/anleitung").text
    assert 'href="/antrag/meldebescheinigung"' in tutorial and "externe Seite" not in tutorial
    portal = client.get("/leistungen/fuehrungszeugnis-beantragen/anleitung").text
    assert "externe Seite" in portal


def test_the_assistant_leads_to_our_form_first(client: TestClient) -> None:
    reply = client.post(
        "/api/assistant/ask", json={"message": "Ich brauche eine Meldebescheinigung für die Bank"}
    ).json()
    assert reply["service"]["id"] == "meldebescheinigung"
    first = reply["actions"][0]
    assert first["type"] == "online_service"
    assert first["url"] == "http://testserver/antrag/meldebescheinigung"


# --- the mechanism on a city folder of its own ------------------------------------------------


@pytest.fixture
def city(tmp_path: Path) -> Path:
    shutil.copytree(DATA_DIR / "services", tmp_path / "services")
    (tmp_path / "forms").mkdir()
    return tmp_path


def test_a_city_without_forms_keeps_its_catalog_as_written(city: Path) -> None:
    records = load_services(city / "services")
    assert with_online_forms(records, city) == records


def test_a_form_for_an_unknown_service_is_refused(city: Path) -> None:
    (city / "forms" / "hochzeit.yaml").write_text("service_id: hochzeit\n", encoding="utf-8")
    with pytest.raises(CatalogFileError, match=r"forms/hochzeit\.yaml: there is no service"):
        with_online_forms(load_services(city / "services"), city)


def test_a_service_with_a_form_needs_a_tutorial(city: Path) -> None:
    (city / "forms" / "personalausweis.yaml").write_text("service_id: x\n", encoding="utf-8")
    with pytest.raises(CatalogFileError) as info:
        with_online_forms(load_services(city / "services"), city)
    message = str(info.value)
    assert "personalausweis-beantragen.yaml" in message and "needs a tutorial" in message
