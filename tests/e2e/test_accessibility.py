"""axe-core (WCAG 2.1 A/AA) finds no violations on the public pages; nothing leaves the server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ADMIN,
    MODULE_MARKS,
    AxeResult,
    LiveServer,
    RequestLog,
    fill_login,
    format_violations,
)

pytestmark = MODULE_MARKS

PAGES = {
    "home": ("/", 200),
    "search results": ("/suche?q=perso", 200),
    "services A-Z": ("/leistungen", 200),
    "service": ("/leistungen/fuehrungszeugnis-beantragen", 200),
    "service without online channel": ("/leistungen/personalausweis-beantragen", 200),
    "tutorial start": ("/leistungen/fuehrungszeugnis-beantragen/anleitung", 200),
    "tutorial step": ("/leistungen/fuehrungszeugnis-beantragen/anleitung?schritt=2", 200),
    "tutorial end": ("/leistungen/fuehrungszeugnis-beantragen/anleitung?schritt=50", 200),
    "locations": ("/standorte", 200),
    "location": ("/standorte/aegi", 200),
    "login": ("/mitarbeiter/login", 200),
    "callback request": ("/rueckruf", 200),
    "callback requested": ("/rueckruf/danke", 200),
    "404": ("/gibt-es-nicht", 404),
}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_finds_no_violations(
    axe_page: Page,
    axe: Callable[[Page], list[AxeResult]],
    live_server: LiveServer,
    request_log: RequestLog,
    lang: str,
) -> None:
    failures = []
    for name, (path, status) in PAGES.items():
        sep = "&" if "?" in path else "?"
        response = axe_page.goto(f"{path}{sep}lang={lang}")
        assert response is not None and response.status == status, (name, path)
        violations = axe(axe_page)
        if violations:
            failures.append(f"{name} ({path}, {lang}):\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)
    assert request_log.urls, "the request listener saw nothing"
    assert not request_log.foreign(live_server.host)


def test_axe_on_admin_pages(axe_page: Page, axe: Callable[[Page], list[AxeResult]]) -> None:
    axe_page.goto("/mitarbeiter/login")
    fill_login(axe_page, ADMIN[0], ADMIN[1])
    failures = []
    for path in (
        "/mitarbeiter",
        "/mitarbeiter/rueckrufe",
        "/verwaltung/standorte",
        "/verwaltung/standorte/aegi",
        "/verwaltung/leistungen",
        "/verwaltung/leistungen/neu",
        "/verwaltung/leistungen/reisepass",
    ):
        axe_page.goto(path)
        expect(axe_page.get_by_role("heading", level=1)).to_be_visible()
        violations = axe(axe_page)
        if violations:
            failures.append(f"{path}:\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_no_request_leaves_for_another_host(
    page: Page, live_server: LiveServer, request_log: RequestLog
) -> None:
    """Every page, script, style, image and map asset comes from our own server."""
    for path in (
        "/",
        "/suche?q=perso",
        "/leistungen/fuehrungszeugnis-beantragen",
        "/leistungen/fuehrungszeugnis-beantragen/anleitung?schritt=1",
        "/standorte",
        "/standorte/aegi",
        "/mitarbeiter/login",
        "/docs",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    hosts = {u.split("/")[2] for u in request_log.urls if u.startswith("http")}
    assert hosts == {live_server.host}, request_log.foreign(live_server.host)
    assert any(u.endswith("/static/vendor/leaflet/leaflet.js") for u in request_log.urls)
    assert any(u.endswith("/static/vendor/htmx/htmx.min.js") for u in request_log.urls)


LEGAL_PAGES = ("/impressum", "/datenschutz", "/barrierefreiheit")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_on_the_legal_pages(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]], lang: str
) -> None:
    failures = []
    for path in LEGAL_PAGES:
        response = axe_page.goto(f"{path}?lang={lang}")
        assert response is not None and response.status == 200, path
        expect(axe_page.locator("footer a[href='/datenschutz']")).to_be_visible()
        violations = axe(axe_page)
        if violations:
            failures.append(f"{path} ({lang}):\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_on_the_planners_home(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]], lang: str
) -> None:
    axe_page.goto("/mitarbeiter/login")
    fill_login(axe_page, ADMIN[0], ADMIN[1])
    axe_page.goto(f"/planung?lang={lang}")
    # The residents table is folded away under the network's figures: open it, so axe sees it too.
    axe_page.locator("section[aria-labelledby=demand-title] details > summary").click()
    expect(axe_page.locator("table.demand tbody tr").first).to_be_visible()
    violations = axe(axe_page)
    assert not violations, format_violations(violations)
