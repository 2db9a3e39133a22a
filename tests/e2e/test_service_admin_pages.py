"""The admin pages for services (/verwaltung/leistungen, /neu, /<id>) in a real browser: axe-core
finds no WCAG 2.1 A/AA violation on a desktop and a phone, and a form sent with errors puts the
focus on the error summary, whose links lead to the fields."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ADMIN,
    MODULE_MARKS,
    AxeResult,
    fill_login,
    format_violations,
)

pytestmark = MODULE_MARKS

PAGES = ("/verwaltung/leistungen", "/verwaltung/leistungen/neu", "/verwaltung/leistungen/reisepass")


def _login(page: Page) -> None:
    page.goto("/mitarbeiter/login")
    fill_login(page, ADMIN[0], ADMIN[1])


def _violations(page: Page, axe: Callable[[Page], list[AxeResult]], where: str) -> list[str]:
    found = axe(page)
    return [f"{where} ({page.url}):\n{format_violations(found)}"] if found else []


def _check_pages(page: Page, axe: Callable[[Page], list[AxeResult]], where: str) -> None:
    _login(page)
    failures = []
    for path in PAGES:
        for lang in ("de", "en"):
            response = page.goto(f"{path}?lang={lang}")
            assert response is not None and response.status == 200, path
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            failures += _violations(page, axe, where)
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_axe_on_the_service_admin_pages(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    _check_pages(axe_page, axe, "desktop")


def test_axe_on_the_service_admin_pages_on_a_phone(
    narrow_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    _check_pages(narrow_page, axe, "phone")


def test_an_invalid_service_puts_the_focus_on_the_error_summary(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    page = axe_page
    _login(page)
    page.goto("/verwaltung/leistungen/neu")
    page.get_by_label("Kennung").fill("Baum Fällung!")  # not a valid id
    page.get_by_label("Name (Deutsch)").fill("Testleistung (nur für den Browsertest)")
    page.get_by_role("button", name="Speichern").click()
    summary = page.locator("#fehler")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Kennung")
    expect(page.get_by_label("Name (Deutsch)")).to_have_value(
        "Testleistung (nur für den Browsertest)"
    )
    assert not _violations(page, axe, "the form with errors")
    summary.get_by_role("link", name="Kennung", exact=False).first.click()
    expect(page.locator("#f-id")).to_be_focused()
    expect(page.locator("#f-id")).to_have_attribute("aria-invalid", "true")
