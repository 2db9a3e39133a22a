"""Admins complete location facts (form and official files); every value keeps its source."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.catalog import locations as location_service
from servicepoint.catalog.errors import InvalidLocationData, LocationNotFound
from servicepoint.web import form_errors
from tests.conftest import DATA_DIR, csrf_of, login, make_user

EDIT = "/verwaltung/standorte/bemerode"
SEED_NOTES = {
    e["id"]: e.get("notes")
    for e in yaml.safe_load((DATA_DIR / "locations.yaml").read_text(encoding="utf-8"))
}
IMPORT = "/verwaltung/standorte/import"


@pytest.fixture
def admin(client: TestClient, session: Session) -> TestClient:
    make_user(session, "admin1", "admin")
    login(client, "admin1")
    return client


def location(client: TestClient, location_id: str = "bemerode") -> dict[str, Any]:
    resp = client.get(f"/api/locations/{location_id}")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    return body


def all_locations(client: TestClient) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = client.get("/api/locations").json()
    return body


def audit_entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def form(client: TestClient, **values: str) -> dict[str, str]:
    return {"csrf_token": csrf_of(client), "source": "Aushang vor Ort, 25.11.2026", **values}


def full_form(client: TestClient, loc: dict[str, Any], **changes: str) -> dict[str, str]:
    """What the browser sends: every field of the edit form, unknown ones as empty strings."""
    fields = (
        "name",
        "building",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "lat",
        "lon",
    )
    values = {f: "" if loc[f] is None else str(loc[f]) for f in fields}
    values["opening_hours"] = ""
    values["notes"] = SEED_NOTES.get(loc["id"]) or ""  # not in the API; the seed's text
    values.update(changes)
    return form(client, **values)


# -- edit form ------------------------------------------------------------------------------------
def test_admin_sees_the_edit_form(admin: TestClient) -> None:
    resp = admin.get(EDIT)
    assert resp.status_code == 200
    assert 'name="csrf_token"' in resp.text
    assert 'name="source"' in resp.text
    assert "Bürgeramt Bemerode" in resp.text


def test_edit_changes_values_and_records_provenance(admin: TestClient, session: Session) -> None:
    resp = admin.post(
        EDIT,
        data=form(
            admin,
            street="Bemeroder Rathausplatz",
            house_number="1",
            postcode="30539",
            lat="52.3449",
            lon="9.8129",
            opening_hours="Mo-Fr 08:00-12:00; Do 14:00-18:00",
        ),
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/standorte/bemerode?gespeichert=1"
    loc = location(admin)
    assert loc["street"] == "Bemeroder Rathausplatz"
    assert loc["house_number"] == "1"
    assert loc["postcode"] == "30539"
    assert loc["lat"] == pytest.approx(52.3449) and loc["lon"] == pytest.approx(9.8129)
    assert loc["opening_hours"]["th"] == [["08:00", "12:00"], ["14:00", "18:00"]]
    assert loc["address"] == "Bemeroder Rathausplatz 1, 30539 Hannover"
    for field in ("street", "house_number", "postcode", "lat", "lon", "opening_hours"):
        prov = loc["provenance"][field]
        assert prov["source"] == "Aushang vor Ort, 25.11.2026"
        assert prov["by"] == "admin1"
        assert prov["at"]
    assert loc["provenance"]["name"]["by"] == "seed"  # untouched field keeps its origin


def test_edit_writes_an_audit_entry(admin: TestClient, session: Session) -> None:
    admin.post(EDIT, data=form(admin, house_number="7"), follow_redirects=False)
    entries = audit_entries(session, "location.update")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.username == "admin1"
    assert entry.target == "bemerode"
    assert entry.detail == {"fields": ["house_number"], "source": "Aushang vor Ort, 25.11.2026"}


def test_saved_page_confirms_and_shows_the_new_value(admin: TestClient) -> None:
    resp = admin.post(EDIT, data=form(admin, street="Testweg"))
    assert resp.status_code == 200
    assert "Die Änderungen wurden gespeichert." in resp.text
    assert "Testweg" in resp.text


def test_full_form_with_empty_coordinates_saves_the_one_new_value(admin: TestClient) -> None:
    before = location(admin)
    assert before["lat"] is None
    resp = admin.post(
        EDIT, data=full_form(admin, before, house_number="12"), follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    after = location(admin)
    assert after["house_number"] == "12"
    assert after["lat"] is None and after["lon"] is None
    assert set(after["provenance"]) - set(before["provenance"]) == {"house_number"}


def test_unchanged_submit_changes_nothing(admin: TestClient, session: Session) -> None:
    before = location(admin, "aegi")
    resp = admin.post(
        "/verwaltung/standorte/aegi", data=full_form(admin, before), follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    assert location(admin, "aegi") == before
    assert audit_entries(session, "location.update")[0].detail["fields"] == []


def test_empty_value_clears_a_field_and_records_who_cleared_it(admin: TestClient) -> None:
    resp = admin.post(
        "/verwaltung/standorte/aegi", data=form(admin, house_number=""), follow_redirects=False
    )
    assert resp.status_code == 303
    loc = location(admin, "aegi")
    assert loc["house_number"] is None
    assert loc["provenance"]["house_number"]["by"] == "admin1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", "200"),
        ("lat", "-91"),
        ("lon", "181"),
        ("lat", "nördlich"),
        ("lat", "nan"),
        ("postcode", "12"),
        ("postcode", "3016A"),
        ("opening_hours", "Mo-Fr 12:00-08:00"),
        ("opening_hours", "immer offen"),
        ("opening_hours", "Mo 08:00-12:00, 11:00-13:00"),
        ("name", "X"),
        ("house_number", "1" * 21),
    ],
)
def test_invalid_value_is_a_400_and_nothing_changes(
    admin: TestClient, session: Session, field: str, value: str
) -> None:
    before = location(admin)
    resp = admin.post(
        EDIT,
        data=form(admin, street="Soll nicht gespeichert werden", **{field: value}),
        follow_redirects=False,
    )
    assert resp.status_code == 400, resp.text
    assert "Bitte korrigieren Sie" in resp.text
    assert f"{form_errors.label('de', field)}: " in resp.text  # the error names the field
    assert 'value="Soll nicht gespeichert werden"' in resp.text  # input kept for correction
    assert location(admin) == before
    assert audit_entries(session, "location.update") == []


def test_missing_source_is_a_400(admin: TestClient) -> None:
    before = location(admin)
    data = form(admin, street="Ohne Quelle")
    data["source"] = "   "
    resp = admin.post(EDIT, data=data, follow_redirects=False)
    assert resp.status_code == 400
    assert "Quelle" in resp.text
    assert location(admin) == before


def test_control_characters_are_rejected_not_a_500(admin: TestClient) -> None:
    before = location(admin)
    resp = admin.post(EDIT, data=form(admin, street="Haupt\x00straße"), follow_redirects=False)
    assert resp.status_code == 422, resp.text  # refused by the shared input guard
    assert location(admin) == before


def test_missing_csrf_token_is_a_403(admin: TestClient) -> None:
    before = location(admin)
    data = form(admin, street="Ohne Token")
    del data["csrf_token"]
    resp = admin.post(EDIT, data=data, follow_redirects=False)
    assert resp.status_code == 403
    assert location(admin) == before


def test_wrong_csrf_token_is_a_403(admin: TestClient) -> None:
    before = location(admin)
    resp = admin.post(
        EDIT,
        data=form(admin, street="Falscher Token") | {"csrf_token": "nope"},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert location(admin) == before


def test_staff_without_admin_role_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "staff1", "staff")
    login(client, "staff1")
    before = location(client)
    assert client.get(EDIT).status_code == 403
    resp = client.post(EDIT, data=form(client, street="Darf nicht"), follow_redirects=False)
    assert resp.status_code == 403
    assert location(client) == before


def test_planner_is_refused_too(client: TestClient, session: Session) -> None:
    make_user(session, "planner1", "planner")
    login(client, "planner1")
    assert client.get(EDIT).status_code == 403
    assert client.get("/verwaltung/standorte").status_code == 403


def test_anonymous_is_sent_to_the_login(client: TestClient) -> None:
    before = location(client)
    resp = client.get(EDIT, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/mitarbeiter/login?next={EDIT}"
    resp = client.post(EDIT, data=form(client, street="Anonym"), follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login")
    assert location(client) == before


def test_editing_an_unknown_location_is_a_404(admin: TestClient) -> None:
    resp = admin.post("/verwaltung/standorte/atlantis", data=form(admin, street="x"))
    assert resp.status_code == 404


def test_location_name_cannot_break_out_of_the_map_data(admin: TestClient) -> None:
    evil = "Amt</script><script>alert(1)</script>"
    resp = admin.post(
        EDIT, data=form(admin, name=evil, lat="52.3", lon="9.8"), follow_redirects=False
    )
    assert resp.status_code == 303
    for page in ("/standorte", "/standorte/bemerode"):
        html = admin.get(page).text
        assert "<script>alert(1)</script>" not in html, page


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
