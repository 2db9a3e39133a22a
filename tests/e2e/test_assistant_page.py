"""The /assistent page in a real browser: the conversation so far with the newest answer
focused, and rating an answer, all without JavaScript; axe-core finds no violation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.support import AxeResult, LiveServer, RequestLog, format_violations


@pytest.fixture
def nojs(browser: Browser, live_server: LiveServer, request_log: RequestLog) -> Iterator[Page]:
    ctx = browser.new_context(base_url=live_server.url, locale="de-DE", java_script_enabled=False)
    ctx.set_default_timeout(10_000)
    ctx.route(lambda url: urlsplit(url).netloc != live_server.host, lambda route: route.abort())
    yield ctx.new_page()
    ctx.close()


def ask(page: Page, question: str) -> None:
    page.locator("#assistant-q").fill(question)
    with page.expect_navigation():
        # "Fragen" / "Ask": the page's own form, not the widget's
        page.locator("#assistant-q").press("Tab")
        page.keyboard.press("Enter")


def test_the_conversation_so_far_and_a_rating_without_javascript(nojs: Page) -> None:
    page = nojs
    page.goto("/assistent")
    ask(page, "Was kostet ein Reisepass?")
    ask(page, "und für Kinder?")
    log = page.locator("#page-chat-log")
    expect(log.locator(".chat-question")).to_have_text(
        ["Ihre Frage: Was kostet ein Reisepass?", "Ihre Frage: und für Kinder?"]
    )
    newest = page.locator("#antwort")
    expect(newest).to_contain_text("37,50 €")
    expect(newest).to_be_focused()
    # Rate the first answer, as the widget's buttons do.
    first = log.locator(".chat-turn").first
    with page.expect_navigation():
        first.get_by_role("button", name="Nicht hilfreich").click()
    expect(log.locator(".chat-turn")).to_have_count(2)
    rated = page.locator("#antwort")
    expect(rated).to_contain_text("70,00 €")
    expect(rated.get_by_role("status")).to_have_text("Danke für Ihre Bewertung!")
    expect(rated).to_be_focused()
    # The other answer can still be rated.
    expect(
        log.locator(".chat-turn").last.get_by_role("button", name="Hilfreich", exact=True)
    ).to_be_visible()


def test_axe_the_page_with_a_conversation_and_a_rating(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    page = axe_page
    page.goto("/assistent")
    ask(page, "Ich brauche ein Führungszeugnis")
    ask(page, "Was kostet das?")
    assert not (violations := axe(page)), format_violations(violations)
    with page.expect_navigation():
        page.locator(".chat-turn").last.get_by_role("button", name="Hilfreich", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Danke für Ihre Bewertung!")
    assert not (violations := axe(page)), format_violations(violations)
    page.goto("/assistent?lang=en")
    ask(page, "How much is a passport?")
    assert not (violations := axe(page)), format_violations(violations)
