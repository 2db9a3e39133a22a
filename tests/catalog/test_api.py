"""JSON API of the catalog as fixed in ../shared/API.md: services, locations, health, errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from servicepoint.catalog.datafile import load_services
from servicepoint.catalog.seed import with_online_forms
from tests.conftest import DATA_DIR

ITEM_KEYS = {"id", "name", "summary", "url", "channels", "online_url"}
LOCATION_KEYS = {"id", "name", "address", "lat", "lon", "kind", "opening_hours"}
CHANNELS = {"online", "appointment", "video", "mobile", "external"}
# As seeded: a service with a form in the data folder links to our own form (catalog/seed.py).
RECORDS = {svc.id: svc for svc in with_online_forms(load_services(DATA_DIR / "services"), DATA_DIR)}
BASE = "http://testserver"


def _is_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert set(body) - {"fields"} == {"error", "detail"}
    assert isinstance(body["detail"], str) and body["detail"]
    if code:
        assert body["error"] == code
    return body


# -- /health ------------------------------------------------------------------------------------
def test_health(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


# -- /api/services --------------------------------------------------------------------------------
def test_list_has_exactly_the_contract_shape(client: TestClient) -> None:
    resp = client.get("/api/services")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    items = resp.json()
    assert isinstance(items, list) and items
    for item in items:
        assert set(item) == ITEM_KEYS
        assert isinstance(item["channels"], list) and set(item["channels"]) <= CHANNELS
        assert item["channels"], item["id"]


def test_list_is_the_whole_catalog_with_canonical_german_names(client: TestClient) -> None:
    items = client.get("/api/services").json()
    assert {i["id"] for i in items} == set(RECORDS)
    assert len(items) == len(RECORDS)
    for item in items:
        record = RECORDS[item["id"]]
        assert item["name"] == record.name.de
        assert item["summary"] == record.summary.de
        assert item["channels"] == list(record.channels)
        url = record.online_url
        assert item["online_url"] == (BASE + url if url and url.startswith("/") else url)


def test_online_url_is_set_exactly_for_online_services(client: TestClient) -> None:
    for item in client.get("/api/services").json():
        if "online" in item["channels"]:
            url = item["online_url"]
            assert url and url.startswith(("https://", f"{BASE}/antrag/")), item["id"]
        else:
            assert item["online_url"] is None, item["id"]


def test_item_url_is_absolute_and_leads_to_the_service_page(client: TestClient) -> None:
    items = {i["id"]: i for i in client.get("/api/services").json()}
    item = items["personalausweis"]
    assert item["url"] == "http://testserver/leistungen/personalausweis-beantragen"
    page = client.get(item["url"])
    assert page.status_code == 200
    assert "Personalausweis beantragen" in page.text


def test_search_puts_the_best_match_first(client: TestClient) -> None:
    resp = client.get("/api/services", params={"q": "perso"})
    assert resp.status_code == 200
    items = resp.json()
    assert items[0]["id"] == "personalausweis"
    assert items[0]["name"] == "Personalausweis beantragen"
    for item in items:
        assert set(item) >= ITEM_KEYS  # the contract's fields; more may be added
    scores = [i["score"] for i in items if "score" in i]  # an addition to the contract
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Reisepas", "reisepass"),
        ("ummelden", "wohnsitz-anmelden"),
        ("passport", "reisepass"),
        ("criminal record certificate", "fuehrungszeugnis"),
    ],
)
def test_search_with_typos_colloquial_and_english(
    client: TestClient, query: str, expected: str
) -> None:
    assert client.get("/api/services", params={"q": query}).json()[0]["id"] == expected


def test_search_without_match_is_an_empty_list(client: TestClient) -> None:
    resp = client.get("/api/services", params={"q": "xyzzyq"})
    assert resp.status_code == 200
    assert resp.json() == []


@pytest.mark.parametrize("query", ["", "   "])
def test_blank_query_lists_the_whole_catalog(client: TestClient, query: str) -> None:
    items = client.get("/api/services", params={"q": query}).json()
    assert len(items) == len(RECORDS)
    assert all(set(i) == ITEM_KEYS for i in items)


def test_query_of_exactly_500_characters_is_accepted(client: TestClient) -> None:
    resp = client.get("/api/services", params={"q": ("perso " * 100)[:500]})
    assert resp.status_code == 200
    assert resp.json()[0]["id"] == "personalausweis"


def test_list_in_english(client: TestClient) -> None:
    items = {i["id"]: i for i in client.get("/api/services", params={"lang": "en"}).json()}
    pa = items["personalausweis"]
    assert pa["summary"] == RECORDS["personalausweis"].summary.en
    assert pa["name"] == "Personalausweis beantragen"  # canonical name stays German


# -- /api/services/{id} ---------------------------------------------------------------------------
def test_detail_has_documents_fees_and_responsibility(client: TestClient) -> None:
    resp = client.get("/api/services/personalausweis")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) >= ITEM_KEYS
    for key in (
        "documents",
        "fees",
        "processing_time",
        "legal_basis",
        "responsible",
        "tutorial",
        "appointment_minutes",
        "fees_as_of",
    ):
        assert key in body, key
    assert body["name"] == "Personalausweis beantragen"
    assert body["lang"] == "de"
    assert all(set(d) == {"text", "condition"} for d in body["documents"])
    assert any("digital" in d["text"].lower() for d in body["documents"])
    amounts = {f["amount_cents"] for f in body["fees"]}
    assert {4600, 2760} <= amounts
    assert all(isinstance(f["amount_cents"], int) for f in body["fees"])
    assert body["fees_as_of"] == str(RECORDS["personalausweis"].fees_as_of)
    assert body["legal_basis"] == RECORDS["personalausweis"].legal_basis
    assert body["responsible"]["name"] == RECORDS["personalausweis"].responsible.name.de
    assert body["appointment_minutes"] == RECORDS["personalausweis"].appointment_minutes
    assert body["tutorial"] is None  # no online channel, no tutorial


def test_detail_of_an_online_service_has_the_tutorial_steps(client: TestClient) -> None:
    record = RECORDS["fuehrungszeugnis"]
    assert record.tutorial is not None
    body = client.get("/api/services/fuehrungszeugnis").json()
    tut = body["tutorial"]
    assert tut["url"] == "http://testserver/leistungen/fuehrungszeugnis-beantragen/anleitung"
    assert [s["title"] for s in tut["steps"]] == [s.title.de for s in record.tutorial.steps]
    assert [s["text"] for s in tut["steps"]] == [s.text.de for s in record.tutorial.steps]
    assert tut["prerequisites"] == [p.de for p in record.tutorial.prerequisites]
    assert tut["afterwards"] == record.tutorial.afterwards.de
    assert body["online_url"] == record.online_url


def test_detail_unknown_fields_are_null_not_invented(client: TestClient) -> None:
    for service_id, record in RECORDS.items():
        body = client.get(f"/api/services/{service_id}").json()
        if record.processing_time is None:
            assert body["processing_time"] is None, service_id
        if record.legal_basis is None:
            assert body["legal_basis"] is None, service_id
        if not record.fees:
            assert body["fees"] == [] and body["fees_as_of"] is None, service_id


def test_detail_in_english(client: TestClient) -> None:
    record = RECORDS["personalausweis"]
    body = client.get("/api/services/personalausweis", params={"lang": "en"}).json()
    assert body["lang"] == "en"
    assert body["name"] == record.name.de
    assert body["name_en"] == record.name.en
    assert body["summary"] == record.summary.en
    assert [d["text"] for d in body["documents"]] == [d.text.en for d in record.documents]
    assert body["responsible"]["name"] == record.responsible.name.en
    assert {f["label"] for f in body["fees"]} == {f.label.en for f in record.fees}
    assert set(body["keywords"]) == set(record.keywords["en"])


def test_language_cookie_switches_the_api_too(client: TestClient) -> None:
    client.cookies.set("sp_lang", "en")
    body = client.get("/api/services/personalausweis").json()
    assert body["lang"] == "en"
    assert body["summary"] == RECORDS["personalausweis"].summary.en
    # An explicit ?lang= wins over the cookie.
    body = client.get("/api/services/personalausweis", params={"lang": "de"}).json()
    assert body["summary"] == RECORDS["personalausweis"].summary.de


def test_unknown_service_is_a_404_json_error(client: TestClient) -> None:
    body = _is_error(client.get("/api/services/gibt-es-nicht"), 404, "service_not_found")
    assert body["detail"] == "Diese Leistung gibt es nicht."


def test_unknown_service_error_in_english(client: TestClient) -> None:
    body = _is_error(client.get("/api/services/gibt-es-nicht", params={"lang": "en"}), 404)
    assert body["detail"] == "This service does not exist."


def test_unknown_api_path_is_a_json_404(client: TestClient) -> None:
    _is_error(client.get("/api/gibt-es-nicht"), 404, "not_found")


def test_wrong_method_is_a_json_405(client: TestClient) -> None:
    _is_error(client.delete("/api/services"), 405, "method_not_allowed")


# -- /api/locations -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_locations() -> dict[str, dict[str, Any]]:
    raw = yaml.safe_load((DATA_DIR / "locations.yaml").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in raw}


def test_locations_shape(client: TestClient) -> None:
    resp = client.get("/api/locations")
    assert resp.status_code == 200
    for loc in resp.json():
        assert set(loc) >= LOCATION_KEYS
        assert isinstance(loc["id"], str) and isinstance(loc["name"], str)
        assert loc["kind"] == "buergeramt"
        assert loc["address"] is None or isinstance(loc["address"], str)
        assert loc["lat"] is None or -90 <= loc["lat"] <= 90
        assert loc["lon"] is None or -180 <= loc["lon"] <= 180


def test_the_nine_buergeraemter_of_the_public_list(client: TestClient) -> None:
    with (DATA_DIR / "hannover_buergeraemter.csv").open(encoding="utf-8") as fh:
        expected = {row["name"] for row in csv.DictReader(fh)}
    names = [loc["name"] for loc in client.get("/api/locations").json()]
    assert len(expected) == 9
    assert sorted(names) == sorted(expected)


def test_unknown_location_facts_are_null_never_invented(
    client: TestClient, seed_locations: dict[str, dict[str, Any]]
) -> None:
    for loc in client.get("/api/locations").json():
        seed = seed_locations[loc["id"]]
        for field in ("lat", "lon", "street", "house_number", "building", "postcode", "phone"):
            assert loc[field] == seed.get(field), f"{loc['id']}.{field}"
        if seed.get("opening_hours") is None:
            assert loc["opening_hours"] is None, loc["id"]
        # Every value we show has a recorded source.
        for field in (
            "street",
            "house_number",
            "building",
            "postcode",
            "lat",
            "lon",
            "opening_hours",
            "phone",
        ):
            if loc[field] is not None:
                assert loc["provenance"][field]["source"], f"{loc['id']}.{field}"


def test_location_without_any_address_fact_has_null_address(
    client: TestClient, seed_locations: dict[str, dict[str, Any]]
) -> None:
    bare = [
        i
        for i, s in seed_locations.items()
        if not any(s.get(f) for f in ("street", "house_number", "building", "postcode"))
    ]
    assert bare, "expected at least one office without a known address (e.g. Bemerode)"
    by_id = {loc["id"]: loc for loc in client.get("/api/locations").json()}
    for loc_id in bare:
        assert by_id[loc_id]["address"] is None


def test_address_is_built_only_from_known_parts(client: TestClient) -> None:
    by_id = {loc["id"]: loc for loc in client.get("/api/locations").json()}
    aegi = by_id["aegi"]
    assert aegi["address"] is not None
    assert aegi["address"].startswith("Aegidientorplatz 1")
    assert "None" not in aegi["address"]


def test_one_location_and_unknown_location(client: TestClient) -> None:
    resp = client.get("/api/locations/aegi")
    assert resp.status_code == 200
    assert resp.json()["name"] == "Bürgeramt Aegi"
    _is_error(client.get("/api/locations/atlantis"), 404, "location_not_found")


# -- bad input: 4xx with a clear message, never a 500 -------------------------------------------
def test_overlong_query_is_a_422_in_german_by_default(client: TestClient) -> None:
    body = _is_error(client.get("/api/services", params={"q": "x" * 501}), 422, "invalid_input")
    assert body["detail"].startswith("Ungültige Eingabe")
    assert "q" in body["detail"]
    assert "zu lang" in body["detail"]


def test_overlong_query_in_english_with_lang_parameter(client: TestClient) -> None:
    body = _is_error(client.get("/api/services", params={"q": "x" * 501, "lang": "en"}), 422)
    assert body["detail"].startswith("Invalid input")
    assert "too long" in body["detail"]
    assert "Ungültig" not in body["detail"]


def test_overlong_query_in_english_with_language_cookie(client: TestClient) -> None:
    client.cookies.set("sp_lang", "en")
    body = _is_error(client.get("/api/services", params={"q": "x" * 501}), 422)
    assert body["detail"].startswith("Invalid input")
    assert "too long" in body["detail"]


def test_unsupported_language_is_a_422(client: TestClient) -> None:
    _is_error(client.get("/api/services", params={"lang": "fr"}), 422, "invalid_input")


def test_huge_body_is_a_413(client: TestClient) -> None:
    body = _is_error(
        client.post("/api/services", content=b"x" * 1_000_001), 413, "payload_too_large"
    )
    assert body["detail"] == "Die Anfrage ist zu groß."


def test_huge_body_413_message_in_english(client: TestClient) -> None:
    resp = client.post("/api/services?lang=en", content=b"x" * 1_000_001)
    assert _is_error(resp, 413)["detail"] == "The request is too large."


def test_huge_chunked_body_without_length_is_a_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b"a" * 100_000

    token = client.get("/mitarbeiter/login").cookies.get("sp_csrf") or ""
    resp = client.post(
        "/mitarbeiter/login",
        content=chunks(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-csrf-token": token,
            "accept": "application/json",
        },
    )
    assert resp.status_code == 413, resp.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/services/%00",
        "/api/services/" + "x" * 2000,
        "/api/services/%F0%9F%90%B6",
        "/api/services/..%2F..%2Fetc%2Fpasswd",
        "/api/services?q=%00",
        "/api/services?q=%F0%9F%90%B6%F0%9F%90%B6",
        "/api/services?q=%25%25%25",
        "/api/services?q=" + "%C3%A4" * 250,
        "/api/services?q=a&q=b",
        "/api/services?lang=",
        "/api/locations/%00",
        "/api/locations/" + "y" * 2000,
    ],
)
def test_odd_input_is_never_a_500(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        _is_error(resp, resp.status_code)


# -- OpenAPI ------------------------------------------------------------------------------------
def test_openapi_documents_the_catalog_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/services", "/api/services/{service_id}", "/api/locations", "/health"):
        assert path in spec["paths"], path
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
