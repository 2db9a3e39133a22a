"""A service's sources are links a citizen can follow: one http(s) URL each, never a file path."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servicepoint.catalog.datafile import (
    MACHINE_PATH,
    CatalogFileError,
    load_service_file,
    load_services,
)
from tests.catalog.conftest import ServiceDict, write_service
from tests.conftest import DATA_DIR


@pytest.mark.parametrize(
    "bad",
    [
        "/Users/anna/daten/SOURCES.md (Servicetelefon)",
        "/home/someone/notes.md",
        "C:\\Daten\\quellen.txt",
        "Bundesmeldegesetz § 51 (Bundesrecht)",
        "https://example.org/a (mit Anmerkung)",
        "https://example.org/a; https://example.org/b",
        "ftp://example.org/file",
        "https://",
    ],
)
def test_a_source_that_is_not_one_url_is_rejected_on_load(
    tmp_path: Path, service_dict: ServiceDict, bad: str
) -> None:
    data = service_dict(sources=["https://example.org/ok", bad])
    with pytest.raises(CatalogFileError) as info:
        load_service_file(write_service(tmp_path, data, name="quelle"))
    message = str(info.value)
    assert "quelle.yaml" in message and "'sources.1'" in message
    assert "one http(s) URL" in message


def test_plain_urls_load(tmp_path: Path, service_dict: ServiceDict) -> None:
    urls = ["https://example.org/a?x=1&y=%C3%BC", "http://www.example.org/b#teil"]
    record = load_service_file(write_service(tmp_path, service_dict(sources=urls)))
    assert record.sources == urls


def test_a_fee_source_naming_a_machine_path_is_rejected(
    tmp_path: Path, service_dict: ServiceDict
) -> None:
    data = service_dict(fees=True)
    data["fees"][0]["source"] = "https://example.org/x (via /home/anna/daten/fees.csv)"
    with pytest.raises(CatalogFileError, match=r"fees\.0\.source.*file path"):
        load_service_file(write_service(tmp_path, data))


def test_every_source_of_the_city_data_is_one_url() -> None:
    for service in load_services(DATA_DIR / "services"):
        for source in service.sources:
            assert source.startswith(("https://", "http://")) and " " not in source, source


def test_service_pages_link_their_sources_and_show_no_path(client: TestClient) -> None:
    page = client.get("/leistungen/personalausweis-beantragen").text
    assert '<a href="https://langenhagener-news.de/?p=12529"' in page
    assert not MACHINE_PATH.search(page)
    for needle in ("SOURCES.md", "federal_fees.csv"):
        assert needle not in page
