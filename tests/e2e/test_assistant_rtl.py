"""A question in Arabic in a real browser: the preface in Arabic, right to left, the details in
German and English left to right, each marked with its language, on the widget and on the page
without JavaScript; axe-core finds nothing."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.e2e.support import MODULE_MARKS, AxeResult, format_violations
from tests.e2e.test_assistant import ask_page, ask_widget

pytestmark = MODULE_MARKS

ARABIC = "كم تكلفة جواز السفر؟"  # how much is a passport?


def _marked_up(answer: Locator) -> None:
    expect(answer.locator("p[lang='ar'][dir='rtl']")).to_have_count(1)
    expect(answer.locator("p[lang='de'][dir='ltr']")).to_have_count(1)
    expect(answer.locator("p[lang='en'][dir='ltr']")).to_have_count(1)


def test_widget_marks_an_arabic_reply_right_to_left(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    axe_page.goto("/")
    axe_page.locator(".chat-toggle").click()
    answer = ask_widget(axe_page, ARABIC)
    _marked_up(answer)
    preface = answer.locator("p[lang='ar']")
    # "… German … English": the details follow in them, or the question may be asked in them
    expect(preface).to_contain_text("الألمانية")
    assert preface.evaluate("p => getComputedStyle(p).direction") == "rtl"
    violations = axe(axe_page)
    assert not violations, format_violations(violations)


def test_page_without_javascript_marks_an_arabic_reply_right_to_left(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    axe_page.goto("/assistent")
    ask_page(axe_page, ARABIC)
    log = axe_page.locator("#page-chat-log")
    _marked_up(log.locator(".chat-answer").last)
    expect(log.locator(".chat-question[lang='ar'][dir='auto']")).to_contain_text(ARABIC)
    violations = axe(axe_page)
    assert not violations, format_violations(violations)
