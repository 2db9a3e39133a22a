"""Admins complete location facts on the edit form; every value keeps its source."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.catalog import locations as location_service
from servicepoint.web import form_errors
from tests.account.account_support import audit as audit_entries
from tests.catalog.location_support import location
from tests.conftest import DATA_DIR, csrf_of, login, make_user

EDIT = "/verwaltung/standorte/bemerode"
SEED_NOTES = {
    e["id"]: e.get("notes")
    for e in yaml.safe_load((DATA_DIR / "locations.yaml").read_text(encoding="utf-8"))
}


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
    assert loc["address"] == "Bemeroder Rathausplatz 1, 30539 Hannover"
    for field in ("street", "house_number", "postcode", "lat", "lon"):
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


def test_the_location_form_does_not_change_office_hours_or_the_year_end(
    admin: TestClient, session: Session
) -> None:
    """One place edits the office facts: the capacity page, which checks them against the
    service hours. The location form ignores them, whatever a client posts."""
    loc = location_service.get_location(session, location_id="aegi")
    before = (loc.opening_hours, loc.dec24, loc.dec31, dict(loc.provenance or {}))
    office_facts = {"opening_hours": "Mo 08:00-09:00", "dec24": "regular", "dec31": "closed"}
    resp = admin.post(
        "/verwaltung/standorte/aegi",
        data=form(admin, house_number="9", **office_facts),
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    session.expire_all()
    loc = location_service.get_location(session, location_id="aegi")
    assert loc.house_number == "9"  # the rest of the form is saved
    assert (loc.opening_hours, loc.dec24, loc.dec31) == before[:3]
    unchanged = {k: v for k, v in loc.provenance.items() if k != "house_number"}
    assert unchanged == {k: v for k, v in before[3].items() if k != "house_number"}
    assert audit_entries(session, "location.update")[0].detail["fields"] == ["house_number"]


def test_the_edit_form_links_the_one_place_for_office_hours(admin: TestClient) -> None:
    html = admin.get("/verwaltung/standorte/aegi").text
    assert 'name="opening_hours"' not in html and 'name="dec24"' not in html
    assert 'href="/verwaltung/kapazitaet/aegi"' in html
