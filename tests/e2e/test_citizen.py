"""A citizen in a real browser: search → service → tutorial, language switch, keyboard, phone."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import MODULE_MARKS

pytestmark = MODULE_MARKS


def search_from_home(page: Page, words: str) -> None:
    page.goto("/")
    box = page.get_by_role("searchbox", name="Was möchten Sie erledigen?")
    box.fill(words)
    with page.expect_navigation():
        page.get_by_role("button", name="Suchen").click()
    expect(page).to_have_url(re.compile(r"/suche\?q="))
    expect(page.locator("#results")).to_be_visible()


def first_result(page: Page) -> str:
    link = page.locator("#results ol.results > li > a").first
    expect(link).to_be_visible()
    return link.inner_text().strip()


@pytest.mark.parametrize(
    ("words", "service"),
    [
        ("perso", "Personalausweis beantragen"),
        ("Reisepas", "Reisepass beantragen"),
        ("ummelden", "Wohnsitz anmelden (Zuzug oder Umzug)"),
    ],
)
def test_search_leads_to_the_right_service(page: Page, words: str, service: str) -> None:
    search_from_home(page, words)
    assert first_result(page) == service
    with page.expect_navigation():
        page.locator("#results ol.results > li > a").first.click()
    expect(page).to_have_url(re.compile(r"/leistungen/[a-z0-9-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(service)
    expect(page.get_by_role("heading", name="Was Sie mitbringen müssen")).to_be_visible()
    expect(page.get_by_role("heading", name="Gebühren", exact=True)).to_be_visible()


def test_live_search_updates_results_while_typing(page: Page) -> None:
    page.goto("/")
    page.get_by_role("searchbox", name="Was möchten Sie erledigen?").press_sequentially("perso")
    # HTMX swaps the result list in place, without leaving the home page.
    expect(page.locator("#results ol.results > li > a").first).to_have_text(
        "Personalausweis beantragen"
    )
    expect(page).to_have_url(re.compile(r"/$"))


def progress(page: Page) -> tuple[str, str, str]:
    bar = page.locator("progress#tut-progress")
    label = page.locator("label[for='tut-progress']").inner_text().strip()
    return label, bar.get_attribute("value") or "", bar.get_attribute("max") or ""


def test_online_service_tutorial_step_by_step(page: Page) -> None:
    search_from_home(page, "Führungszeugnis")
    with page.expect_navigation():
        page.locator("#results ol.results > li > a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Führungszeugnis beantragen")
    online = page.locator("section.online-box")
    expect(online.get_by_role("heading", name="Das geht online")).to_be_visible()
    # The online channel comes first: its box precedes the other ways to get it done.
    first_h2 = page.locator("main h2").first
    expect(first_h2).to_have_text("Das geht online")
    steps = online.locator("details.tutorial-preview ol > li").count()
    assert steps >= 2

    with page.expect_navigation():
        online.get_by_role("link", name="Schritt-für-Schritt-Anleitung").click()
    expect(page).to_have_url(re.compile(r"/leistungen/fuehrungszeugnis-beantragen/anleitung"))
    assert progress(page) == ("Vorbereitung", "0", str(steps + 1))
    expect(page.get_by_role("heading", name="Das brauchen Sie, bevor Sie anfangen")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Dauer: etwa \d+ Minuten"))).to_be_visible()
    expect(page.locator(".stepper li[aria-current='step']")).to_have_text("Vorbereitung")

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Los geht")).click()
    for n in range(1, steps + 1):
        assert progress(page) == (f"Schritt {n} von {steps}", str(n), str(steps + 1))
        expect(
            page.get_by_role("heading", level=2, name=re.compile(f"^Schritt {n}:"))
        ).to_be_visible()
        expect(page.locator(".stepper li[aria-current='step']")).to_have_count(1)
        expect(page.locator(".stepper li[aria-current='step']")).to_contain_text(f"{n}. ")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("^Weiter")).click()

    assert progress(page) == ("Geschafft", str(steps + 1), str(steps + 1))
    expect(page.get_by_role("heading", name="Was danach passiert")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Weiter"))).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Zurück")).click()
    assert progress(page)[0] == f"Schritt {steps} von {steps}"


def test_language_switch_to_english_and_back(page: Page) -> None:
    page.goto("/leistungen")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    german_h1 = page.get_by_role("heading", level=1).inner_text()

    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/leistungen$"))  # stays on the same page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    english_h1 = page.get_by_role("heading", level=1).inner_text()
    assert english_h1 != german_h1, "the page heading is still German"
    expect(page.get_by_role("link", name="Apply for a certificate of good conduct")).to_be_visible()

    page.goto("/")  # the choice is remembered across pages
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Welcome\b.*HannoverServicePoint")
    )
    for german in ("Das geht online", "Alle Leistungen"):
        expect(page.get_by_role("heading", level=2, name=german, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^Skip to"))).to_have_count(1)

    with page.expect_navigation():
        page.get_by_role("link", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Willkommen beim HannoverServicePoint"
    )
    expect(page.get_by_role("link", name="English")).to_be_visible()


def test_tab_reaches_skip_link_first_and_enter_moves_focus_to_main(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => ({cls: document.activeElement.className,
                   href: document.activeElement.getAttribute('href'),
                   text: document.activeElement.textContent.trim()})"""
    )
    assert focused == {"cls": "skip-link", "href": "#main", "text": "Zum Inhalt springen"}
    skip = page.locator("a.skip-link")
    expect(skip).to_be_in_viewport()  # visible when focused, hidden off-screen otherwise
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab continues inside main, not back at the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


WIDE_ELEMENTS_JS = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > 390.5)
    .slice(-5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className
         ? '.' + e.className.trim().split(/ +/).join('.') : '')
      + ' right=' + Math.round(e.getBoundingClientRect().right))"""


def overflow(page: Page, path: str, status: int = 200) -> str | None:
    """None if the page fits 390 CSS px, else what sticks out (a phone would zoom out)."""
    response = page.goto(path)
    assert response is not None and response.status == status, path
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})"
    )
    # With is_mobile, an overflowing page widens the layout viewport instead of scrolling.
    if widths["scroll"] <= 390 and widths["inner"] == 390:
        return None
    return f"{path}: scrollWidth {widths['scroll']}, innerWidth {widths['inner']}: " + ", ".join(
        page.evaluate(WIDE_ELEMENTS_JS)
    )


def test_phone_viewport_has_no_horizontal_scrolling(phone_page: Page) -> None:
    """Home, search, locations and every service page and tutorial fit a 390 px phone."""
    services = phone_page.request.get("/api/services").json()
    assert len(services) >= 20
    failures = [
        msg
        for path in ("/", "/suche?q=perso", "/standorte", "/standorte/aegi", "/mitarbeiter/login")
        if (msg := overflow(phone_page, path))
    ]
    if msg := overflow(phone_page, "/gibt-es-nicht", status=404):
        failures.append(msg)
    for svc in services:
        path = urlsplit(svc["url"]).path
        if msg := overflow(phone_page, path):
            failures.append(msg)
        if phone_page.locator(f"a[href='{path}/anleitung']").count():
            for step in (0, 1, 50):  # preparation, a step, what happens afterwards (clamped)
                if msg := overflow(phone_page, f"{path}/anleitung?schritt={step}"):
                    failures.append(msg)
    assert not failures, "horizontal scrolling on a phone:\n" + "\n".join(failures)
