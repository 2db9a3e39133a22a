"""Appointments and walk-ins in a real browser (issue 3).

A citizen books from a service page, gets the confirmation with code, checklist and .ics, moves
and cancels the booking; the proof-of-work challenge runs in the page on a server with bot
protection on; the kiosk issues a waiting number, a clerk calls it and the call display and
the ticket page update live (SSE); axe-core and the phone viewport check the same pages.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import new_context
from tests.e2e.support import (
    MODULE_MARKS,
    STAFF,
    AxeResult,
    LiveServer,
    RequestLog,
    fill_login,
    format_violations,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = MODULE_MARKS

SERVICE = "meldebescheinigung"
SERVICE_PAGE = "/leistungen/meldebescheinigung-beantragen"
SECRET = "e2e"  # the live server's secret key (conftest), needed to check a solved challenge
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mo", "tu", "we", "th", "fr", "sa", "su")}
TICKET_LABEL = re.compile(r"^W\d{3}$")
ESTIMATE = re.compile(r"Geschätzte Wartezeit: (\d+)–(\d+) Minuten\.")
KIOSK_ESTIMATE = re.compile(r"^Geschätzte Wartezeit gerade: \d+–\d+ Minuten\.$")


# -- helpers ----------------------------------------------------------------------------------
def js_errors(page: Page) -> list[str]:
    """Collect uncaught JavaScript errors of a page (asserted empty at the end of a test)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return errors


def slot_of(href: str) -> tuple[str, dt.datetime]:
    """(location, start) of a slot link on /termine."""
    query = parse_qs(urlsplit(href).query)
    return query["location"][0], dt.datetime.fromisoformat(query["start"][0])


def capacity_left(page: Page, location: str, start: dt.datetime) -> int:
    """What the public API says is left of one slot (0 when it is not offered any more)."""
    from servicepoint.core.clock import BERLIN

    day = start.astimezone(BERLIN).date()
    response = page.request.get(
        "/api/appointments/slots",
        params={
            "service": SERVICE,
            "location": location,
            "date_from": day.isoformat(),
            "date_to": day.isoformat(),
        },
    )
    assert response.ok, response.text()
    for slot in response.json():
        if dt.datetime.fromisoformat(slot["start"]) == start:
            assert slot["location_id"] == location
            return int(slot["capacity_left"])
    return 0


def booking_code(page: Page) -> str:
    match = re.fullmatch(r"/termine/([A-Z0-9]+)", urlsplit(page.url).path)
    assert match, page.url
    return match.group(1)


@pytest.fixture
def open_all_day(live_server: LiveServer) -> Iterator[Callable[[str], None]]:
    """Serve walk-ins around the clock at a location, so no test depends on the wall clock.

    Writes the location's `capacity` row on the live server's database and restores the hours
    afterwards. Public holidays stay closed (the rules), so those days skip."""
    from servicepoint.appointment.models import Capacity
    from servicepoint.appointment.slots import is_holiday
    from servicepoint.catalog.models import Location
    from servicepoint.core.clock import today_local
    from servicepoint.core.db import make_engine

    if is_holiday(today_local()):
        pytest.skip(
            f"today ({today_local():%d.%m.%Y}) is a public holiday in Lower Saxony: "
            "ServicePoints are closed and issue no waiting numbers"
        )
    engine = make_engine(live_server.database_url)
    saved: dict[str, dict[str, list[list[str]]]] = {}

    def open_(location_id: str) -> None:
        with Session(engine) as session:
            cap = session.get(Capacity, location_id)
            assert cap is not None, location_id
            saved.setdefault(location_id, cap.hours)
            cap.hours = ALL_DAY
            # 24 and 31 December follow the city's calendar (closed); opening hours bound all.
            loc = session.get(Location, location_id)
            assert loc is not None
            loc.opening_hours, loc.dec24, loc.dec31 = None, "regular", "regular"
            session.commit()

    try:
        yield open_
    finally:
        with Session(engine) as session:
            for location_id, hours in saved.items():
                cap = session.get(Capacity, location_id)
                assert cap is not None
                cap.hours = hours
            session.commit()
        engine.dispose()


def draw_ticket(page: Page, location_id: str) -> str:
    """Take a walk-in number at the kiosk; returns the ticket page's path."""
    page.goto(f"/standorte/{location_id}/kiosk")
    expect(page.locator("p.lead")).to_have_text(KIOSK_ESTIMATE)
    with page.expect_navigation():
        page.get_by_role("button", name="Nummer ziehen").click()
    expect(page).to_have_url(re.compile(r"/wartenummer/[\w-]+\?kiosk=1$"))
    return urlsplit(page.url).path


# -- 1. book, move, cancel --------------------------------------------------------------------
def test_citizen_books_moves_and_cancels(page: Page) -> None:
    errors = js_errors(page)
    page.goto(SERVICE_PAGE)
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Termin buchen").click()
    expect(page).to_have_url(re.compile(rf"/termine\?service={SERVICE}$"))
    expect(
        page.get_by_role("checkbox", name=re.compile("^Meldebescheinigung beantragen"))
    ).to_be_checked()

    with page.expect_navigation():
        page.get_by_role("button", name="Freie Termine anzeigen").click()
    # The filter form sends its empty fields too (date_from= etc.): that is not bad input.
    expect(page).to_have_url(
        re.compile(r"/termine\?service=meldebescheinigung&location=&date_from=")
    )
    expect(page.get_by_role("heading", level=2, name=re.compile("^Freie Termine"))).to_be_visible()
    first = page.locator("ul.slot-list a.slot").first
    href = first.get_attribute("href")
    assert href
    location, start = slot_of(href)
    assert start > dt.datetime.now(dt.UTC)
    before = capacity_left(page, location, start)
    assert before >= 1

    with page.expect_navigation():
        first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin bestätigen")
    # The live server runs with bot_protection "off": no challenge (see the test below for on).
    expect(page.locator("form[data-challenge], input[name=pow_nonce]")).to_have_count(0)
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("Ihre E-Mail-Adresse").fill("erika.mustermann@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Verbindlich buchen").click()

    # Confirmation: code, checklist, calendar file, move and cancel links.
    expect(page).to_have_url(re.compile(r"/termine/[A-Z0-9]+\?neu=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    code = booking_code(page)
    expect(page.locator(".booking-code strong")).to_have_text(
        re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4})+$")
    )
    assert page.locator(".booking-code strong").inner_text().replace("-", "") == code
    expect(page.get_by_role("heading", name="Was Sie mitbringen müssen")).to_be_visible()
    expect(page.locator("ul.checklist li").first).to_contain_text("Personalausweis oder Reisepass")
    ics_link = page.get_by_role("link", name="In den Kalender (.ics)")
    ics_href = ics_link.get_attribute("href")
    assert ics_href
    ics = page.request.get(ics_href)
    assert ics.ok
    assert ics.headers["content-type"].startswith("text/calendar")
    body = ics.text()
    assert body.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in body
    assert f"DTSTART:{start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in body, body
    expect(page.get_by_role("link", name="Termin verschieben")).to_be_visible()
    expect(page.get_by_role("link", name="Termin absagen")).to_be_visible()
    assert capacity_left(page, location, start) == before - 1

    # Move to another free time: the old one is free again, the new one is taken.
    with page.expect_navigation():
        page.get_by_role("link", name="Termin verschieben").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin verschieben")
    # Narrow to the same office; the form also sends its empty date field (date_from=).
    page.get_by_label("Standort").select_option(location)
    with page.expect_navigation():
        page.get_by_role("button", name="Anzeigen", exact=True).click()
    # ... and opens at the results (#ergebnisse), which are below the form on a phone.
    expect(page).to_have_url(
        re.compile(rf"verschieben\?location={location}&date_from=#ergebnisse$")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin verschieben")
    offers: list[list[str]] = page.locator("ul.slot-list form").evaluate_all(
        """forms => forms.map(f => [f.elements.location.value, f.elements.start.value])"""
    )
    target = next(
        i
        for i, (loc, st) in enumerate(offers)
        if (loc, dt.datetime.fromisoformat(st)) != (location, start)
    )
    new_location, new_start = offers[target][0], dt.datetime.fromisoformat(offers[target][1])
    new_before = capacity_left(page, new_location, new_start)
    with page.expect_navigation():
        page.locator("ul.slot-list form").nth(target).get_by_role("button").click()
    expect(page).to_have_url(re.compile(rf"/termine/{code}\?verschoben=1$"))
    expect(page.get_by_role("status")).to_have_text("Ihr Termin wurde verschoben.")
    assert capacity_left(page, location, start) == before
    assert capacity_left(page, new_location, new_start) == new_before - 1

    # Cancel: the page says so and the slot is bookable again at once.
    with page.expect_navigation():
        page.get_by_role("link", name="Termin absagen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin absagen")
    with page.expect_navigation():
        page.get_by_role("button", name="Ja, Termin absagen").click()
    expect(page).to_have_url(re.compile(rf"/termine/{code}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin abgesagt")
    expect(page.get_by_role("status")).to_have_text(
        "Dieser Termin ist abgesagt. Die Zeit ist wieder für andere frei."
    )
    expect(page.get_by_role("link", name="Termin absagen")).to_have_count(0)
    assert capacity_left(page, new_location, new_start) == new_before
    assert capacity_left(page, location, start) == before
    assert not errors, errors


# -- 1b. the same form with bot protection on --------------------------------------------------
@pytest.fixture(scope="module")
def protected_server(live_server: LiveServer) -> Iterator[LiveServer]:
    """A second, small live server on the same database with bot protection on (default
    proof-of-work difficulty), so the challenge runs in the page as in production."""
    import uvicorn

    from servicepoint.app import create_app
    from servicepoint.config import Settings

    app = create_app(
        Settings(
            database_url=live_server.database_url,
            secret_key=SECRET,
            bot_protection="on",
            redis_url=None,
        )
    )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name="e2e-uvicorn-protected", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the protected live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            host=f"127.0.0.1:{port}",
            database_url=live_server.database_url,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_booking_form_solves_the_proof_of_work_in_the_page(
    browser: Browser, protected_server: LiveServer, request_log: RequestLog
) -> None:
    from servicepoint.core import challenge

    ctx = new_context(browser, protected_server, request_log)
    try:
        page = ctx.new_page()
        errors = js_errors(page)
        page.goto(f"/termine?service={SERVICE}")
        first = page.locator("ul.slot-list a.slot").first
        href = first.get_attribute("href")
        assert href
        location, start = slot_of(href)
        before = capacity_left(page, location, start)
        with page.expect_navigation():
            first.click()
        form = page.locator("form[data-challenge]")
        expect(form).to_have_count(1)
        token = form.get_attribute("data-challenge")
        assert token and token.count(":") == 3
        # challenge.js finds the nonce with WebCrypto, then enables the button.
        status = page.locator("[data-challenge-status]")
        expect(status).to_have_text("Sicherheitsprüfung erledigt.")
        button = page.get_by_role("button", name="Verbindlich buchen")
        expect(button).to_be_enabled()
        nonce = page.locator("input[name=pow_nonce]").input_value()
        assert nonce.isdigit()
        assert challenge.verify(SECRET, token, nonce), "the page's nonce does not solve it"

        page.get_by_label("Ihr Name").fill("Max Mustermann")
        page.get_by_label("Ihre E-Mail-Adresse").fill("max@example.org")
        with page.expect_navigation():
            button.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
        code = booking_code(page)
        assert capacity_left(page, location, start) == before - 1

        # Clean up through the page, as a citizen would.
        page.get_by_role("link", name="Termin absagen").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Ja, Termin absagen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Termin abgesagt")
        assert booking_code(page) == code
        assert capacity_left(page, location, start) == before
        assert not errors, errors
    finally:
        ctx.close()
    foreign = request_log.foreign(protected_server.host)
    assert not foreign, f"requests left for other hosts: {foreign}"


# -- 2. walk-in, counter console and call display ---------------------------------------------
def test_walk_in_is_called_and_the_display_updates_live(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    request_log: RequestLog,
    open_all_day: Callable[[str], None],
) -> None:
    location = "linden"
    open_all_day(location)
    errors = js_errors(page)

    # The citizen draws a number at the kiosk and sees position and an estimated range.
    ticket_path = draw_ticket(page, location)
    label = page.locator(".ticket-label").inner_text().strip()
    assert TICKET_LABEL.match(label), label
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wartenummer")
    expect(page.locator(".ticket-position")).to_have_text("Sie sind als Nächstes dran.")
    estimate = page.locator("#ticket-status").get_by_text(ESTIMATE)
    expect(estimate).to_be_visible()
    match = ESTIMATE.search(estimate.inner_text())
    assert match and int(match.group(1)) < int(match.group(2)), "a range, not a point"
    ticket = page

    # The call display of the waiting area, connected to the live stream before the call.
    display = page.context.new_page()
    errors += js_errors(display)
    with display.expect_response(lambda r: f"/live/standorte/{location}" in r.url):
        display.goto(f"/standorte/{location}/aufruf")
    expect(display.locator("#board")).to_contain_text("Noch niemand aufgerufen.")
    expect(display.locator("#board .display-waiting")).to_have_text("1 Person wartet.")
    # Markers that a reload would wipe: the updates below must arrive without one.
    display.evaluate("() => { window.__noReload = true; }")
    ticket.evaluate("() => { window.__noReload = true; }")

    # The clerk logs in and calls the next number at counter 1.
    clerk_ctx = new_context(browser, live_server, request_log)
    try:
        clerk = clerk_ctx.new_page()
        errors += js_errors(clerk)
        clerk.goto(f"/mitarbeiter/schalter/{location}/1")
        fill_login(clerk, *STAFF)
        expect(clerk).to_have_url(re.compile(rf"/mitarbeiter/schalter/{location}/1$"))
        expect(clerk.get_by_role("heading", level=1)).to_have_text(re.compile(r"– Schalter 1$"))
        expect(clerk.get_by_text("Niemand am Schalter.")).to_be_visible()
        with clerk.expect_navigation():
            clerk.get_by_role("button", name="Nächste Nummer aufrufen").click()
        expect(clerk.locator(".console-now .ticket-label")).to_have_text(label)

        row = display.locator("#board tbody tr.latest td")
        expect(row).to_have_text([label, "1"], timeout=5_000)
        expect(display.locator("#board .display-waiting")).to_have_text("0 Personen warten.")
        expect(ticket.locator(".ticket-called")).to_have_text(
            "Sie sind dran: bitte zu Schalter 1.", timeout=5_000
        )
        assert display.evaluate("() => window.__noReload === true"), "the display reloaded"
        assert ticket.evaluate("() => window.__noReload === true"), "the ticket page reloaded"
        assert urlsplit(ticket.url).path == ticket_path

        with clerk.expect_navigation():
            clerk.get_by_role("button", name="Erledigt").click()
        expect(clerk.get_by_text("Niemand am Schalter.")).to_be_visible()
        expect(clerk.locator("section[aria-labelledby=counters-title]")).to_contain_text(
            f"{label} (erledigt)"
        )
        expect(ticket.locator("#ticket-status")).to_have_text(
            "Erledigt. Vielen Dank für Ihren Besuch!", timeout=5_000
        )
        assert ticket.evaluate("() => window.__noReload === true"), "the ticket page reloaded"
    finally:
        clerk_ctx.close()
    assert not errors, errors


# -- 3. axe-core ------------------------------------------------------------------------------
def test_axe_finds_no_violations_on_appointment_pages(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]], open_all_day: Callable[[str], None]
) -> None:
    location = "sahlkamp"
    open_all_day(location)
    page = axe_page
    errors = js_errors(page)
    failures: list[str] = []

    def check(name: str) -> None:
        if violations := axe(page):
            failures.append(f"{name} ({page.url}):\n{format_violations(violations)}")

    page.goto(f"/termine?service={SERVICE}")
    expect(page.locator("ul.slot-list a.slot").first).to_be_visible()
    check("slot search with results")
    with page.expect_navigation():
        page.locator("ul.slot-list a.slot").first.click()
    check("booking form")
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("Ihre E-Mail-Adresse").fill("erika@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    check("confirmation")
    code = booking_code(page)
    assert page.request.delete(f"/api/appointments/{code}").status == 204

    page.goto(f"/standorte/{location}/kiosk")
    check("kiosk")
    ticket_path = draw_ticket(page, location)
    check("ticket page (waiting)")

    page.goto(f"/mitarbeiter/schalter/{location}/1")
    fill_login(page, *STAFF)
    with page.expect_navigation():
        page.get_by_role("button", name="Nächste Nummer aufrufen").click()
    expect(page.locator(".console-now .ticket-label")).to_have_text(TICKET_LABEL)
    check("counter console (with a called number)")
    page.goto(f"/standorte/{location}/aufruf")
    expect(page.locator("#board tbody tr.latest")).to_have_count(1)
    check("call display")
    page.goto(ticket_path)
    expect(page.locator(".ticket-called")).to_be_visible()
    check("ticket page (called)")

    page.goto(f"/mitarbeiter/schalter/{location}/1")
    with page.expect_navigation():
        page.get_by_role("button", name="Erledigt").click()
    check("counter console (idle)")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)
    assert not errors, errors


# -- 4. phone viewport ------------------------------------------------------------------------
def horizontal_overflow(page: Page) -> str | None:
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})"
    )
    # With is_mobile, an overflowing page widens the layout viewport instead of scrolling.
    if widths["scroll"] <= 390 and widths["inner"] == 390:
        return None
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 390.5).slice(-5)
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                  + ' right=' + Math.round(e.getBoundingClientRect().right))""")
    return f"{page.url}: scrollWidth {widths['scroll']}, innerWidth {widths['inner']}: {wide}"


def test_phone_has_no_horizontal_scrolling(
    phone_page: Page, open_all_day: Callable[[str], None]
) -> None:
    location = "ricklingen"
    open_all_day(location)
    page = phone_page
    failures = []
    page.goto(f"/termine?service={SERVICE}")
    expect(page.locator("ul.slot-list a.slot").first).to_be_visible()
    if msg := horizontal_overflow(page):
        failures.append(msg)
    draw_ticket(page, location)
    expect(page.locator(".ticket-label")).to_have_text(TICKET_LABEL)
    if msg := horizontal_overflow(page):
        failures.append(msg)
    assert not failures, "horizontal scrolling on a phone:\n" + "\n".join(failures)
