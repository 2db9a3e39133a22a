"""Booking on a phone (issue 14): after a search the results are on screen and focused, and
the floating assistant button never covers the focused control or the main button."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_context
from tests.e2e.support import MODULE_MARKS, AxeResult, LiveServer, RequestLog, format_violations

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = MODULE_MARKS

PHONE = {"width": 390, "height": 844}
SERVICE = re.compile(r"^Personalausweis beantragen")

# The boxes of the focused element and of the assistant button, and whether the button shows.
BOXES_JS = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const toggle = document.querySelector(".chat-toggle");
  const style = getComputedStyle(toggle);
  const el = document.activeElement;
  return {
    focused: el === document.body ? null : box(el),
    inWidget: !!el.closest(".chat-widget"),
    label: (el.innerText || el.name || el.id || el.tagName).trim().slice(0, 40),
    toggle: box(toggle),
    toggleShown: style.visibility !== "hidden" && parseFloat(style.opacity) > 0,
  };
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def search(page: Page) -> None:
    page.goto("/termine")
    page.get_by_role("checkbox", name=SERVICE).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Freie Termine anzeigen").click()


def test_after_a_search_on_a_phone_the_results_are_in_view_and_focused(phone_page: Page) -> None:
    page = phone_page
    search(page)
    expect(page).to_have_url(re.compile(r"/termine\?service=personalausweis.*#ergebnisse$"))
    heading = page.locator("#ergebnisse")
    expect(heading).to_have_text(re.compile("^Freie Termine"))
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    # the heading really lies below the first screen: the page was moved to it
    top = page.evaluate("() => document.getElementById('ergebnisse').offsetTop")
    assert top > PHONE["height"], "the results were on the first screen anyway: nothing tested"
    summary = page.locator("#slots-summary")
    expect(summary).to_have_attribute("role", "status")
    expect(summary).to_contain_text(re.compile(r"\d+ freie Termine gefunden"))
    # the next Tab goes on within the results, not at the top of the page
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('section.slots')")


@pytest.fixture
def phone_without_js(
    browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> Iterator[Page]:
    ctx = new_context(browser, live_server, request_log, viewport=PHONE, java_script_enabled=False)
    yield ctx.new_page()
    ctx.close()


def test_without_javascript_the_results_are_in_view_too(phone_without_js: Page) -> None:
    search(phone_without_js)
    expect(phone_without_js.locator("#ergebnisse")).to_be_in_viewport()


def tab_through(page: Page, steps: int = 40) -> list[dict[str, Any]]:
    """Press Tab until focus reaches the assistant button; the boxes at every step."""
    seen = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        state: dict[str, Any] = page.evaluate(BOXES_JS)
        if state["inWidget"]:
            assert state["toggleShown"], "the assistant button is focused but invisible"
            return seen
        seen.append(state)
    raise AssertionError("Tab never reached the assistant button")


def test_the_assistant_button_never_covers_the_focused_control(phone_page: Page) -> None:
    page = phone_page
    search(page)
    with page.expect_navigation():
        page.locator("ul.slot-list a.slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin bestätigen")
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("Ihre E-Mail-Adresse").fill("erika@example.org")
    page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    steps = tab_through(page)
    labels = [s["label"] for s in steps]
    assert "Verbindlich buchen" in labels, labels
    for s in steps:
        if s["focused"] and s["toggleShown"]:
            assert not overlap(s["focused"], s["toggle"]), f"the button covers {s['label']!r}"
    # Nothing focused, the main button brought into view at the bottom edge: not covered.
    submit = page.get_by_role("button", name="Verbindlich buchen")
    page.evaluate("() => document.activeElement.blur()")
    submit.evaluate("el => el.scrollIntoView({block: 'end'})")
    state = page.evaluate(BOXES_JS)
    assert state["toggleShown"]
    assert not overlap(submit.evaluate(BOX_OF), state["toggle"])
    # At the very end of the page the last links are clear of the button as well.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    for link in page.locator("footer a").all():
        assert not overlap(link.evaluate(BOX_OF), page.evaluate(BOXES_JS)["toggle"])


BOX_OF = """el => { const r = el.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }"""


def book_api(page: Page, location: str, start: str) -> dict[str, Any] | None:
    response = page.request.post(
        "/api/appointments",
        data={
            "service_ids": ["personalausweis"],
            "location_id": location,
            "start": start,
            "name": "Max Muster",
            "email": "max@example.org",
        },
    )
    return response.json() if response.status == 201 else None


def test_the_new_booking_pages_pass_axe(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    page = axe_page

    def check() -> None:
        violations = axe(page)
        assert not violations, f"{page.url}:\n{format_violations(violations)}"

    for url in ("/termine?service=personalausweis", "/termine/verwalten?code=ABCD-EFGH-JKMN"):
        page.goto(url)
        check()
    # a slot taken while the form was open: the form again, with other times to choose
    page.goto("/termine?service=personalausweis")
    href = page.locator("ul.slot-list a.slot").last.get_attribute("href") or ""
    page.goto(href)
    query = dict(re.findall(r"[?&](location|start)=([^&]+)", href))
    location, start = query["location"], query["start"].replace("%3A", ":").replace("%2B", "+")
    booked = book_api(page, location, start)
    while book_api(page, location, start):
        pass
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("Ihre E-Mail-Adresse").fill("erika@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("alert").first).to_contain_text("gerade vergeben")
    expect(page.get_by_label("Ihr Name")).to_have_value("Erika Mustermann")
    check()
    # the booking page with the resend button and its notice
    assert booked
    page.goto(f"/termine/{booked['code']}?gesendet=1")
    expect(page.get_by_role("button", name="Bestätigung erneut senden")).to_be_visible()
    check()
