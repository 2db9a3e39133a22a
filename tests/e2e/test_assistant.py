"""The service assistant in a real browser: the chat widget by keyboard, its live region, links
and ratings; the /assistent page without JavaScript; English; axe-core; a phone screen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

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


def open_widget_by_keyboard(page: Page) -> None:
    """Tab from the top of the page to the widget's button and open it with Enter."""
    page.locator("body").focus()
    for _ in range(150):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('chat-toggle')"):
            break
    else:
        pytest.fail("the chat widget cannot be reached with the Tab key")
    toggle = page.locator(".chat-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.locator("#chat-panel")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#chat-input")).to_be_focused()


def ask_widget(page: Page, question: str) -> Locator:
    """Type a question and send it with Enter; returns the new answer in the live region."""
    log = page.locator(".chat-widget .chat-log")
    before = log.locator(".chat-answer").count()
    page.locator("#chat-input").fill(question)
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/assistant/ask") as resp:
        page.keyboard.press("Enter")
    assert resp.value.status == 200
    expect(log.locator(".chat-answer")).to_have_count(before + 1)
    return log.locator(".chat-answer").nth(before)


def test_widget_by_keyboard_answers_with_a_link_and_takes_a_rating(page: Page) -> None:
    page.goto("/")
    open_widget_by_keyboard(page)
    log = page.locator(".chat-widget .chat-log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_have_attribute("role", "log")

    answer = ask_widget(page, "Was kostet ein Reisepass?")
    expect(log.locator(".chat-question")).to_have_text("Was kostet ein Reisepass?")
    expect(answer).to_contain_text("Reisepass beantragen: Gebühren:")
    expect(answer).to_contain_text("70,00 €")
    source = answer.get_by_role("link", name="Reisepass beantragen")
    expect(source).to_have_attribute("href", re.compile(r"/leistungen/reisepass-beantragen$"))
    expect(answer.locator("a[data-type='book_appointment']")).to_be_visible()
    expect(page.locator("#chat-input")).to_be_focused()  # ready for the next question

    # A follow-up keeps the topic (the conversation id lives in sessionStorage).
    follow = ask_widget(page, "und für Kinder?")
    expect(follow).to_contain_text("37,50 €")
    expect(follow).not_to_contain_text("70,00 €")

    # Thumbs up on the first answer, even after the follow-up.
    votes = answer.locator(".chat-votes")
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/assistant/feedback") as fb:
        votes.get_by_role("button", name="Hilfreich", exact=True).click()
    assert fb.value.status == 204
    expect(votes).to_have_text("Danke für Ihre Bewertung!")

    # Escape closes the panel and gives focus back to its button.
    page.locator("#chat-input").focus()
    page.keyboard.press("Escape")
    expect(page.locator("#chat-panel")).to_be_hidden()
    expect(page.locator(".chat-toggle")).to_be_focused()
    expect(page.locator(".chat-toggle")).to_have_attribute("aria-expanded", "false")

    # Follow the source link to the service page.
    page.locator(".chat-toggle").click()
    with page.expect_navigation():
        page.locator(".chat-widget").get_by_role("link", name="Reisepass beantragen").first.click()
    expect(page).to_have_url(re.compile(r"/leistungen/reisepass-beantragen$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reisepass beantragen")


def test_widget_out_of_scope_offers_the_service_phone(page: Page) -> None:
    page.goto("/")
    page.locator(".chat-toggle").click()
    answer = ask_widget(page, "Wie wird das Wetter am Wochenende?")
    phone = answer.locator("a[data-type='handover'][href^='tel:']")
    expect(phone).to_have_text("Servicetelefon 0511 168-32000")
    expect(phone).to_have_attribute("href", "tel:051116832000")
    expect(answer.locator(".chat-source")).to_have_count(0)


def test_a_citizen_asks_for_a_callback_and_staff_call_back(page: Page) -> None:
    page.goto("/")
    page.locator(".chat-toggle").click()
    answer = ask_widget(page, "Mein Nachbar mäht sonntags Rasen, wer hilft mir?")
    with page.expect_navigation():
        answer.get_by_role("link", name="Rückruf anfordern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rückruf anfordern")
    page.get_by_label("Ihre Telefonnummer").fill("0511 99988877")
    page.get_by_label("Worum geht es?").fill("Lärm am Sonntag, wer ist zuständig?")
    page.get_by_label("nachmittags (12–16 Uhr)").check()
    page.get_by_label("Worum geht es?").focus()
    with page.expect_navigation():
        page.get_by_role("button", name="Rückruf anfordern").click()
    expect(page.get_by_role("status")).to_contain_text("ruft Sie zurück")

    page.goto("/mitarbeiter/login")
    fill_login(page, STAFF[0], STAFF[1])
    page.goto("/mitarbeiter/rueckrufe")
    row = page.get_by_role("row").filter(has_text="Lärm am Sonntag")
    expect(row).to_contain_text("0511999888")
    with page.expect_navigation():
        row.get_by_role("button", name="Erledigt").click()
    expect(page.get_by_role("row").filter(has_text="Lärm am Sonntag")).to_have_count(0)


def test_english_question_gets_an_english_answer(page: Page) -> None:
    page.goto("/")  # the German page: the question's language decides
    page.locator(".chat-toggle").click()
    answer = ask_widget(page, "How much does a passport cost?")
    expect(answer).to_contain_text("Apply for a passport: Fees:")
    expect(answer).to_contain_text("€70.00")
    expect(answer.locator("a[data-type='book_appointment']")).to_contain_text("Book an appointment")


def test_english_page_widget(page: Page) -> None:
    page.goto("/?lang=en")
    toggle = page.get_by_role("link", name="Questions? Assistant")
    toggle.click()
    expect(page.get_by_role("heading", name="Service assistant")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()
    answer = ask_widget(page, "ok")  # too short to tell: the page's language decides
    expect(answer).to_contain_text("Hello! Ask me about the services")
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    expect(answer.get_by_role("button", name="Not helpful", exact=True)).to_be_visible()
    # A German question on the English page is answered in German.
    german = ask_widget(page, "Was kostet ein Reisepass?")
    expect(german).to_contain_text("70,00 €")


# -- the full page without JavaScript --------------------------------------------------------


@pytest.fixture
def nojs_page(browser: Browser, live_server: LiveServer, request_log: RequestLog) -> Iterator[Page]:
    ctx = browser.new_context(
        base_url=live_server.url,
        locale="de-DE",
        timezone_id="Europe/Berlin",
        java_script_enabled=False,
    )
    ctx.set_default_timeout(10_000)
    ctx.on("request", lambda req: request_log.urls.append(req.url))
    ctx.route(lambda url: urlsplit(url).netloc != live_server.host, lambda route: route.abort())
    yield ctx.new_page()
    ctx.close()
    assert not request_log.foreign(live_server.host)


def ask_page(page: Page, question: str) -> None:
    page.locator("#assistant-q").fill(question)
    with page.expect_navigation():
        page.get_by_role("button", name="Fragen", exact=True).click()


def test_assistant_page_works_without_javascript(nojs_page: Page) -> None:
    page = nojs_page
    page.goto("/")
    # Without JavaScript the widget's button is a plain link to the full page.
    with page.expect_navigation():
        page.get_by_role("link", name="Fragen? Assistent").click()
    expect(page).to_have_url(re.compile(r"/assistent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Service-Assistent")

    ask_page(page, "Was kostet ein Reisepass?")
    log = page.locator("#page-chat-log")
    expect(log).to_contain_text("Was kostet ein Reisepass?")
    expect(log).to_contain_text("70,00 €")
    ask_page(page, "und für Kinder?")  # the form carries the conversation on
    expect(log).to_contain_text("37,50 €")
    with page.expect_navigation():
        # the whole conversation is shown: the newest answer's source link
        log.get_by_role("link", name="Reisepass beantragen").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reisepass beantragen")


# -- accessibility ---------------------------------------------------------------------------


def test_axe_widget_open_with_an_answer(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    failures = []
    for path in ("/", "/?lang=en", "/leistungen/fuehrungszeugnis-beantragen"):
        axe_page.goto(path)
        axe_page.locator(".chat-toggle").click()
        ask_widget(axe_page, "Ich brauche ein Führungszeugnis")
        ask_widget(axe_page, "Wie wird das Wetter?")
        violations = axe(axe_page)
        if violations:
            failures.append(f"{path}:\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_axe_assistant_page(axe_page: Page, axe: Callable[[Page], list[AxeResult]]) -> None:
    axe_page.goto("/assistent")
    violations = axe(axe_page)
    assert not violations, format_violations(violations)
    ask_page(axe_page, "Was kostet ein Personalausweis?")
    expect(axe_page.locator("#page-chat-log")).to_contain_text("46,00 €")
    violations = axe(axe_page)
    assert not violations, format_violations(violations)


# -- phone -----------------------------------------------------------------------------------


def test_widget_on_a_phone_without_horizontal_scrolling(phone_page: Page) -> None:
    page = phone_page
    page.goto("/")
    page.locator(".chat-toggle").tap()
    panel = page.locator("#chat-panel")
    expect(panel).to_be_visible()
    answer = ask_widget(page, "Ich brauche ein Führungszeugnis")
    expect(answer.locator("a[data-type='online_service']")).to_be_visible()
    ask_widget(page, "Personalausweisverlängerung Gebühren")

    width = page.viewport_size["width"] if page.viewport_size else 390
    assert width == 390
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page scrolls sideways: {scroll_width}px > {width}px"
    for locator in (panel, page.locator("#chat-input"), *answer.locator("a").all()):
        box = locator.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    # The panel never overflows the log sideways either.
    log_overflow = page.evaluate(
        "(() => { const l = document.querySelector('.chat-widget .chat-log');"
        " return l.scrollWidth - l.clientWidth; })()"
    )
    assert log_overflow <= 0
