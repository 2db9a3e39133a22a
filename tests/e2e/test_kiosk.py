"""Kiosk and call display in a real browser: a screen with no way out, large type, the chime
on a call (off by default; a button or ?ton=1 turns it on), and still a working kiosk."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests.e2e import test_appointments
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

pytestmark = MODULE_MARKS
js_errors = test_appointments.js_errors
open_all_day = test_appointments.open_all_day  # the fixture, shared with that module

LOCATION = "doehren"
KIOSK = f"/standorte/{LOCATION}/kiosk"
DISPLAY = f"/standorte/{LOCATION}/aufruf"
# The one link allowed out: the privacy notice a form collecting personal data must link.
LEAVING = """() => ({
    links: [...document.querySelectorAll('a[href]')].map(a => new URL(a.href))
        .filter(u => u.origin !== location.origin
                     || ![location.pathname, '/datenschutz'].includes(u.pathname))
        .map(u => u.href),
    chrome: document.querySelectorAll('nav, footer, .chat-widget, .site-header').length,
})"""


def font_px(page: Page, selector: str) -> float:
    return float(
        page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    )


def assert_no_way_out(page: Page) -> None:
    found = page.evaluate(LEAVING)
    assert found["links"] == [], f"{page.url}: links that leave the screen {found['links']}"
    assert found["chrome"] == 0, f"{page.url}: site menu, footer or assistant on a kiosk screen"


@pytest.fixture
def booking_today(live_server: LiveServer) -> Iterator[str]:
    """A booking for now at the location, written straight to the live server's database so
    the test does not depend on free slots at this hour; returns its code."""
    from servicepoint.appointment import service as appointment_service
    from servicepoint.appointment.models import Booking
    from servicepoint.core.clock import utcnow
    from servicepoint.core.db import make_engine

    engine = make_engine(live_server.database_url)
    code = appointment_service.new_code()
    start = utcnow().replace(second=0, microsecond=0)
    with Session(engine) as session:
        session.add(
            Booking(
                code=code,
                location_id=LOCATION,
                start=start,
                end=start + dt.timedelta(minutes=10),
                service_ids=["meldebescheinigung"],
                name="Erika Mustermann",
                email="erika@example.org",
            )
        )
        session.commit()
    yield code
    engine.dispose()


def test_the_kiosk_has_no_way_out_and_still_serves_citizens(
    page: Page,
    open_all_day: Callable[[str], None],
    booking_today: str,
) -> None:
    open_all_day(LOCATION)
    errors = js_errors(page)
    page.goto(KIOSK)
    assert_no_way_out(page)
    assert font_px(page, "body") >= 24
    assert font_px(page, "h1") >= 40
    assert font_px(page, "button.big") >= 30

    with page.expect_navigation():
        page.get_by_role("button", name="Nummer ziehen").click()
    expect(page.locator(".ticket-label")).to_have_text(re.compile(r"^W\d{3}$"))
    assert_no_way_out_but_home(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Fertig – zurück zum Start").click()
    expect(page).to_have_url(re.compile(rf"{KIOSK}\?lang=de$"))

    page.get_by_label("Buchungscode").fill(booking_today)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden").click()
    expect(page.locator(".ticket-label")).to_have_text(re.compile(r"^T\d{3}$"))
    assert not errors, errors


def assert_no_way_out_but_home(page: Page) -> None:
    """The ticket drawn at the kiosk: its only link goes back to the kiosk's start."""
    found = page.evaluate(LEAVING)
    assert [re.sub(r"^https?://[^/]+", "", u) for u in found["links"]] == [f"{KIOSK}?lang=de"]
    assert found["chrome"] == 0


def call_next(browser: Browser, live_server: LiveServer, log: RequestLog) -> None:
    """A clerk at counter 1 calls the next number."""
    ctx = new_context(browser, live_server, log)
    try:
        clerk = ctx.new_page()
        clerk.goto(f"/mitarbeiter/schalter/{LOCATION}/1")
        fill_login(clerk, *STAFF)
        with clerk.expect_navigation():
            clerk.get_by_role("button", name="Nächste Nummer aufrufen").click()
    finally:
        ctx.close()


def chime(page: Page) -> dict[str, object]:
    return dict(page.evaluate("() => ({...window.servicepointChime})"))


def test_the_call_display_is_large_and_chimes_only_when_asked(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    request_log: RequestLog,
    open_all_day: Callable[[str], None],
) -> None:
    open_all_day(LOCATION)
    errors = js_errors(page)
    quiet = page.context.new_page()
    errors += js_errors(quiet)
    loud = page.context.new_page()
    errors += js_errors(loud)
    for screen, url in ((quiet, DISPLAY), (loud, f"{DISPLAY}?ton=1")):
        with screen.expect_response(lambda r: f"/live/standorte/{LOCATION}" in r.url):
            screen.goto(url)
    assert_no_way_out(quiet)
    assert font_px(quiet, "table.display") >= 40

    toggle = quiet.get_by_role("button", name="Ton bei Aufruf")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert chime(quiet) == {"enabled": False, "played": 0}
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()  # and off again: this screen stays silent
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(loud.get_by_role("button", name="Ton bei Aufruf")).to_have_attribute(
        "aria-pressed", "true"
    )

    page.goto(KIOSK)
    with page.expect_navigation():
        page.get_by_role("button", name="Nummer ziehen").click()
    call_next(browser, live_server, request_log)  # earlier tests may have left others waiting
    loud.wait_for_function("() => window.servicepointChime.played === 1", timeout=5_000)
    called = loud.locator("#board table").get_attribute("data-latest")
    assert called
    expect(quiet.locator("#board table")).to_have_attribute("data-latest", called)
    assert chime(quiet)["played"] == 0
    assert not errors, errors


def test_kiosk_screens_pass_axe(
    axe_page: Page,
    axe: Callable[[Page], list[AxeResult]],
    open_all_day: Callable[[str], None],
) -> None:
    open_all_day(LOCATION)
    page = axe_page
    failures = []
    for url in (KIOSK, DISPLAY):
        page.goto(url)
        if violations := axe(page):
            failures.append(f"{url}:\n{format_violations(violations)}")
    page.goto(KIOSK)
    with page.expect_navigation():
        page.get_by_role("button", name="Nummer ziehen").click()
    if violations := axe(page):
        failures.append(f"ticket at the kiosk:\n{format_violations(violations)}")
    page.goto(DISPLAY)
    page.get_by_role("button", name="Ton bei Aufruf").click()
    if violations := axe(page):
        failures.append(f"display, chime on:\n{format_violations(violations)}")
    page.goto(f"{KIOSK}?lang=en")  # last: ?lang= is remembered for the next pages
    if violations := axe(page):
        failures.append(f"English kiosk:\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)
