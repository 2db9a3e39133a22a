"""Admins import the city's official location files (CSV, GeoJSON); a bad row changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.catalog import locations as location_service
from servicepoint.catalog.errors import InvalidLocationData, LocationNotFound
from tests.account.account_support import audit as audit_entries
from tests.catalog.location_support import all_locations, location
from tests.conftest import csrf_of, login, make_user

IMPORT = "/verwaltung/standorte/import"


# -- import through the admin page ----------------------------------------------------------------
def upload(
    client: TestClient,
    name: str,
    content: bytes,
    source: str = "Amtliche Liste 2026",
    token: str | None = None,
) -> Any:
    data = {"csrf_token": csrf_of(client) if token is None else token, "source": source}
    return client.post(IMPORT, data=data, files={"file": (name, content, "text/plain")})


GOOD_CSV = (
    "id,street,house_number,postcode,lat,lon,opening_hours\n"
    "bemerode,Bemeroder Rathausplatz,1,30539,52.3449,9.8129,Mo-Fr 08:00-12:00\n"
    "doehren,Peiner Straße,3,30519,52.3462,9.7723,\n"
).encode()


def test_csv_import_updates_locations_with_their_source(
    admin: TestClient, session: Session
) -> None:
    resp = upload(admin, "buergeraemter.csv", GOOD_CSV)
    assert resp.status_code == 200, resp.text
    assert "Import abgeschlossen." in resp.text
    bemerode, doehren = location(admin, "bemerode"), location(admin, "doehren")
    assert bemerode["street"] == "Bemeroder Rathausplatz"
    assert bemerode["lat"] == pytest.approx(52.3449)
    assert bemerode["opening_hours"] == {
        d: [["08:00", "12:00"]] for d in ("mo", "tu", "we", "th", "fr")
    }
    assert doehren["house_number"] == "3" and doehren["postcode"] == "30519"
    assert doehren["opening_hours"] is None  # empty cell: still unknown
    assert bemerode["provenance"]["lat"] == {
        **bemerode["provenance"]["lat"],
        "source": "Amtliche Liste 2026",
        "by": "admin1",
    }
    entry = audit_entries(session, "location.import")[0]
    assert entry.username == "admin1" and entry.target == "buergeraemter.csv"
    assert set(entry.detail["changed"]) == {"bemerode", "doehren"}


def test_semicolon_csv_with_bom_and_name_column(admin: TestClient) -> None:
    content = ("\ufeffname;postcode;phone\nBürgeramt Linden;30449;0511 168-0\n").encode()
    resp = upload(admin, "linden.csv", content)
    assert resp.status_code == 200, resp.text
    loc = location(admin, "linden")
    assert loc["postcode"] == "30449" and loc["phone"] == "0511 168-0"


def test_comma_csv_whose_hours_contain_semicolons(admin: TestClient) -> None:
    content = (
        b"id,opening_hours\n"
        b'linden,"Mo 08:00-12:00; Di 08:00-12:00; Mi 08:00-12:00; Do 14:00-18:00"\n'
    )
    resp = upload(admin, "linden.csv", content)
    assert resp.status_code == 200, resp.text
    assert location(admin, "linden")["opening_hours"]["th"] == [["14:00", "18:00"]]


def test_geojson_import_places_locations(admin: TestClient) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [9.8129, 52.3449]},
                "properties": {"id": "bemerode", "street": "Bemeroder Rathausplatz"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [9.7386, 52.3745]},
                "properties": {"name": "Bürgeramt Aegi"},
            },
        ],
    }
    resp = upload(admin, "standorte.geojson", json.dumps(doc).encode())
    assert resp.status_code == 200, resp.text
    bemerode, aegi = location(admin, "bemerode"), location(admin, "aegi")
    assert (bemerode["lat"], bemerode["lon"]) == (pytest.approx(52.3449), pytest.approx(9.8129))
    assert bemerode["street"] == "Bemeroder Rathausplatz"
    assert (aegi["lat"], aegi["lon"]) == (pytest.approx(52.3745), pytest.approx(9.7386))
    assert aegi["provenance"]["lat"]["source"] == "Amtliche Liste 2026"


def _unchanged(client: TestClient, before: list[dict[str, Any]]) -> None:
    assert all_locations(client) == before


def test_file_with_one_bad_row_changes_nothing(admin: TestClient, session: Session) -> None:
    before = all_locations(admin)
    content = GOOD_CSV + b"aegi,,,12,,,\n"
    resp = upload(admin, "liste.csv", content)
    assert resp.status_code == 400
    assert "3: postcode" in resp.text  # the row and the field
    _unchanged(admin, before)
    assert audit_entries(session, "location.import") == []


@pytest.mark.parametrize(
    "hours", ["Mo-Fr 12:00-08:00", "immer offen", "Mo 08:00-12:00, 11:00-13:00"]
)
def test_invalid_opening_hours_in_a_file_change_nothing(admin: TestClient, hours: str) -> None:
    before = all_locations(admin)
    resp = upload(admin, "liste.csv", f'id,street,opening_hours\naegi,Testweg,"{hours}"\n'.encode())
    assert resp.status_code == 400, resp.text[:300]
    assert "1: opening_hours" in resp.text
    _unchanged(admin, before)


def test_unknown_location_is_rejected(admin: TestClient) -> None:
    before = all_locations(admin)
    content = GOOD_CSV + b"atlantis,Meeresgrund,1,,,,\n"
    resp = upload(admin, "liste.csv", content)
    assert resp.status_code == 400
    assert "unbekannter Standort (atlantis)" in resp.text
    _unchanged(admin, before)


def test_non_utf8_file_is_rejected(admin: TestClient) -> None:
    before = all_locations(admin)
    content = "id,street\ndoehren,Peiner Straße\n".encode("latin-1")
    resp = upload(admin, "liste.csv", content)
    assert resp.status_code == 400
    assert "UTF-8" in resp.text
    _unchanged(admin, before)


@pytest.mark.parametrize(
    "content",
    [
        b'{"type": "FeatureCollection", "features": [',
        b"{not json}",
    ],
)
def test_invalid_json_is_rejected(admin: TestClient, content: bytes) -> None:
    before = all_locations(admin)
    resp = upload(admin, "standorte.geojson", content)
    assert resp.status_code == 400
    assert "kein gültiges GeoJSON" in resp.text
    _unchanged(admin, before)


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "Feature", "properties": {"id": "aegi"}},
        [1, 2, 3],
        {"type": "FeatureCollection", "features": []},
        {"type": "FeatureCollection", "features": 5},
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": [1, 2], "geometry": None}],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": "aegi"},
                    "geometry": {"type": "Point", "coordinates": 5},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": "aegi"},
                    "geometry": {"type": "Point", "coordinates": [200, 100]},
                }
            ],
        },
    ],
)
def test_malformed_geojson_is_a_400_not_a_500(admin: TestClient, doc: Any) -> None:
    before = all_locations(admin)
    resp = upload(admin, "standorte.json", json.dumps(doc).encode())
    assert resp.status_code == 400, resp.text[:300]
    _unchanged(admin, before)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"id,street\n",
        b"id,street\naegi,Aegidientorplatz,zu viele Spalten\n",
        b'id,street\naegi,"' + b"x" * 200_000 + b'"\n',
    ],
)
def test_malformed_csv_is_a_400_not_a_500(admin: TestClient, content: bytes) -> None:
    before = all_locations(admin)
    resp = upload(admin, "liste.csv", content)
    assert resp.status_code == 400, resp.text[:300]
    _unchanged(admin, before)


def test_file_over_2_mb_is_rejected(admin: TestClient) -> None:
    content = b"id,notes\n" + b"aegi,x\n" * 300_000
    resp = upload(admin, "gross.csv", content)
    assert resp.status_code in (400, 413)


def test_import_needs_a_source(admin: TestClient) -> None:
    resp = upload(admin, "liste.csv", GOOD_CSV, source="")
    assert resp.status_code == 422


def test_import_needs_csrf(admin: TestClient) -> None:
    before = all_locations(admin)
    assert upload(admin, "liste.csv", GOOD_CSV, token="").status_code == 403
    _unchanged(admin, before)


def test_import_refuses_non_admins(client: TestClient, session: Session) -> None:
    make_user(session, "staff2", "staff")
    login(client, "staff2")
    before = all_locations(client)
    assert upload(client, "liste.csv", GOOD_CSV).status_code == 403
    _unchanged(client, before)


def test_import_refuses_anonymous(client: TestClient) -> None:
    resp = client.post(
        IMPORT,
        data={"csrf_token": csrf_of(client), "source": "x" * 5},
        files={"file": ("liste.csv", GOOD_CSV, "text/csv")},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login")


def test_admin_overview_lists_missing_facts(admin: TestClient) -> None:
    resp = admin.get("/verwaltung/standorte")
    assert resp.status_code == 200
    assert "Koordinaten" in resp.text and "Öffnungszeiten" in resp.text
    assert resp.text.count('href="/verwaltung/standorte/') == 9


# -- import_locations directly --------------------------------------------------------------------
def test_import_locations_function_applies_all_rows(session: Session) -> None:
    changed = location_service.import_locations(
        session, text=GOOD_CSV.decode(), filename="liste.csv", source="Stadt", by="cli"
    )
    assert changed == {
        "bemerode": ["house_number", "lat", "lon", "opening_hours", "postcode", "street"],
        "doehren": ["house_number", "lat", "lon", "postcode"],
    }  # street known
    loc = location_service.get_location(session, location_id="doehren")
    assert loc.provenance["postcode"]["by"] == "cli"
    assert loc.provenance["postcode"]["source"] == "Stadt"
    assert loc.provenance["street"]["by"] == "seed"  # same value: the origin stays


def test_import_locations_again_changes_nothing(session: Session) -> None:
    location_service.import_locations(
        session, text=GOOD_CSV.decode(), filename="l.csv", source="Stadt", by="cli"
    )
    again = location_service.import_locations(
        session, text=GOOD_CSV.decode(), filename="l.csv", source="Stadt", by="cli"
    )
    assert again == {"bemerode": [], "doehren": []}


def test_import_locations_rejects_a_bad_row_atomically(session: Session) -> None:
    text = GOOD_CSV.decode() + "sahlkamp,,,,95,,\n"
    with pytest.raises(InvalidLocationData) as info:
        location_service.import_locations(
            session, text=text, filename="l.csv", source="Stadt", by="cli"
        )
    assert info.value.params["rows"] == "3: lat"
    assert location_service.get_location(session, location_id="bemerode").street is None


def test_import_locations_lists_every_bad_row(session: Session) -> None:
    text = "id,postcode\natlantis,30159\naegi,1\nlinden,30449\n"
    with pytest.raises(InvalidLocationData) as info:
        location_service.import_locations(
            session, text=text, filename="l.csv", source="Stadt", by="cli"
        )
    assert info.value.params["rows"] == "1: unbekannter Standort (atlantis); 2: postcode"


def test_update_of_unknown_location_raises_not_found(session: Session) -> None:
    with pytest.raises(LocationNotFound):
        location_service.update_location(
            session,
            location_id="atlantis",
            patch=location_service.LocationPatch(street="x"),
            source="s",
            by="b",
        )


# -- what the shared input rules refuse in an imported file ---------------------------------------
HUGE_NUMBER = "9" * 5000  # past Python's 4300-digit limit for converting text to int


def _feature(properties: str) -> bytes:
    return (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, '
        f'"properties": {properties}}}]}}'
    ).encode()


@pytest.mark.parametrize(
    "properties",
    [
        f'{{"id": "aegi", "phone": {HUGE_NUMBER}}}',
        f'{{"id": "aegi", "extra": {{"deep": [{HUGE_NUMBER}]}}}}',
    ],
)
def test_number_with_too_many_digits_is_a_400_in_the_users_language(
    admin: TestClient, properties: str
) -> None:
    before = all_locations(admin)
    resp = upload(admin, "standorte.geojson", _feature(properties))
    assert resp.status_code == 400, resp.text[:300]
    assert "Zahl mit zu vielen Ziffern" in resp.text
    english = admin.post(
        f"{IMPORT}?lang=en",
        data={"csrf_token": csrf_of(admin), "source": "Official list 2026"},
        files={"file": ("standorte.geojson", _feature(properties), "text/plain")},
    )
    assert english.status_code == 400
    assert "number with too many digits" in english.text
    _unchanged(admin, before)


def test_csv_number_with_too_many_digits_is_a_400(admin: TestClient) -> None:
    before = all_locations(admin)
    resp = upload(
        admin, "liste.csv", f"id,lat,postcode\naegi,{HUGE_NUMBER},{HUGE_NUMBER}\n".encode()
    )
    assert resp.status_code == 400, resp.text[:300]
    _unchanged(admin, before)


BAD_TEXT = "enthält unerlaubte Steuer- oder Sonderzeichen"


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ('{"id": "ae\\u0000gi"}', "id"),
        ('{"id": "ae\\u202egi"}', "id"),
        ('{"name": "B\\u00fcrgeramt \\u202eAegi"}', "name"),
        ('{"id": "aegi", "notes": "Eingang \\u0000 hinten"}', "notes"),
        ('{"id": "aegi", "extra": {"note": ["x\\u200by"]}}', "extra.note.0"),
        ('{"id": "aegi", "no\\u0000te": "x"}', "?"),
    ],
)
def test_bad_characters_in_geojson_are_refused_like_everywhere_else(
    admin: TestClient, properties: str, field: str
) -> None:
    before = all_locations(admin)
    resp = upload(admin, "standorte.geojson", _feature(properties))
    assert resp.status_code == 400, resp.text[:300]
    assert f"Ungültige Eingabe – Zeile 1, {field}: {BAD_TEXT}" in resp.text
    assert "\x00" not in resp.text and "\u202e" not in resp.text
    _unchanged(admin, before)


@pytest.mark.parametrize(
    "content",
    [
        "id,street\nae\x00gi,Aegidientorplatz\n",
        "id,street\naegi,Aegidien\u202etorplatz\n",
        "id,str\x00eet\naegi,Aegidientorplatz\n",
    ],
)
def test_bad_characters_in_csv_are_refused_like_everywhere_else(
    admin: TestClient, content: str
) -> None:
    before = all_locations(admin)
    resp = upload(admin, "liste.csv", content.encode())
    assert resp.status_code == 400, resp.text[:300]
    assert BAD_TEXT in resp.text and "Zeile 1" in resp.text
    assert "\x00" not in resp.text and "\u202e" not in resp.text
    _unchanged(admin, before)


def test_bad_characters_are_refused_in_english_too(admin: TestClient) -> None:
    resp = admin.post(
        f"{IMPORT}?lang=en",
        data={"csrf_token": csrf_of(admin), "source": "Official list 2026"},
        files={"file": ("standorte.geojson", _feature('{"id": "ae\\u202egi"}'), "text/plain")},
    )
    assert resp.status_code == 400
    assert (
        "Invalid input – row 1, id: contains forbidden control or invisible characters" in resp.text
    )
