"""Staff in a real browser: login, roles, logout; an admin places a location on the map."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ADMIN,
    MODULE_MARKS,
    STAFF,
    AxeResult,
    fill_login,
    format_violations,
)

pytestmark = MODULE_MARKS


def test_staff_login_roles_and_logout(page: Page) -> None:
    page.goto("/mitarbeiter")
    expect(page).to_have_url(re.compile(r"/mitarbeiter/login\?next=/mitarbeiter$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung für Mitarbeitende")

    fill_login(page, STAFF[0], "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Benutzername oder Passwort ist falsch.")
    expect(page.get_by_label("Benutzername")).to_have_value(STAFF[0])
    expect(page.get_by_label("Passwort")).to_have_value("")

    fill_login(page, STAFF[0], STAFF[1])
    expect(page).to_have_url(re.compile(r"/mitarbeiter$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bereich für Mitarbeitende")
    expect(page.get_by_text(f"Angemeldet als {STAFF[0]} (Rolle: staff).")).to_be_visible()
    expect(page.get_by_role("link", name="Standorte verwalten")).to_have_count(0)

    response = page.goto("/verwaltung/standorte")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Kein Zugriff")
    response = page.goto("/verwaltung/standorte/aegi")
    assert response is not None and response.status == 403

    page.goto("/mitarbeiter")
    with page.expect_navigation():
        page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(re.compile(r"/$"))
    cookies = {c["name"] for c in page.context.cookies()}
    assert "sp_session" not in cookies
    page.goto("/mitarbeiter")
    expect(page).to_have_url(re.compile(r"/mitarbeiter/login\?next=/mitarbeiter$"))


def location_json(page: Page, location_id: str) -> dict[str, object]:
    response = page.request.get("/api/locations")
    assert response.ok
    by_id = {loc["id"]: loc for loc in response.json()}
    return dict(by_id[location_id])


def test_admin_places_location_by_clicking_on_the_map(
    page: Page, axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    before = location_json(page, "bemerode")
    assert before["lat"] is None and before["lon"] is None  # the public data lacks them

    page.goto("/verwaltung/standorte/bemerode")
    expect(page).to_have_url(re.compile(r"/mitarbeiter/login\?next="))
    fill_login(page, ADMIN[0], ADMIN[1])
    expect(page).to_have_url(re.compile(r"/verwaltung/standorte/bemerode$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bürgeramt Bemerode")
    lat_box, lon_box = page.get_by_label("Breitengrad"), page.get_by_label("Längengrad")
    expect(lat_box).to_have_value("")

    the_map = page.locator("#map")
    expect(the_map.locator(".leaflet-overlay-pane")).to_be_attached()  # Leaflet is running
    the_map.scroll_into_view_if_needed()
    box = the_map.bounding_box()
    assert box is not None
    # A plain click on the map (not on a district point): Leaflet turns it into coordinates.
    the_map.click(position={"x": box["width"] * 0.62, "y": box["height"] * 0.35})
    expect(lat_box).to_have_value(re.compile(r"^\d+\.\d{5}$"))
    expect(lon_box).to_have_value(re.compile(r"^\d+\.\d{5}$"))
    lat, lon = float(lat_box.input_value()), float(lon_box.input_value())
    assert 52.2 < lat < 52.5 and 9.5 < lon < 10.0, (lat, lon)  # somewhere in Hannover

    page.get_by_label("Quelle der Angaben").fill("Ortsbesichtigung e2e-Test")
    with page.expect_navigation():
        page.get_by_role("button", name="Speichern").click()
    expect(page).to_have_url(re.compile(r"/standorte/bemerode\?gespeichert=1$"))
    expect(page.get_by_role("status")).to_have_text("Die Änderungen wurden gespeichert.")
    expect(page.get_by_text("Die genaue Lage ist noch nicht erfasst.")).to_have_count(0)
    expect(page.locator("figcaption")).to_contain_text("1 von 1 Standorten")
    data = json.loads(page.locator("#map-data").inner_text())
    assert [(m["lat"], m["lon"]) for m in data["markers"]] == [(lat, lon)]
    expect(page.locator("#map path.leaflet-interactive[stroke='#b3001b']")).to_have_count(1)
    page.get_by_text("Woher stammen diese Angaben?").click()
    provenance = page.locator("details.provenance tbody")
    expect(provenance.locator("tr", has_text="lat")).to_contain_text("Ortsbesichtigung e2e-Test")
    expect(provenance.locator("tr", has_text="lon")).to_contain_text(ADMIN[0])

    after = location_json(page, "bemerode")
    assert (after["lat"], after["lon"]) == (lat, lon)

    # axe on the location page now that it has a marker (axe needs a CSP-bypassing context).
    axe_page.goto("/standorte/bemerode")
    violations = axe(axe_page)
    assert not violations, "axe on the saved location page:\n" + format_violations(violations)
