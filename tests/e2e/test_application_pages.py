"""The citizen's application pages in a real browser at phone width (360 px): nothing scrolls
sideways, axe-core finds no violations, focus lands on the error summary after a failed post, and
form.js shows a field as its condition says. Nothing is submitted here (no files, no signing)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.e2e.support import (
    MODULE_MARKS,
    AxeResult,
    LiveServer,
    format_violations,
)

pytestmark = MODULE_MARKS
PHONE = 360


def _fits(page: Page) -> None:
    # A page still settling (fonts, the file inputs' shadow parts) can be wider for a moment
    # on a loaded machine; only an overflow that lasts is a fault.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "(limit) => document.documentElement.scrollWidth <= limit", arg=PHONE, timeout=3000
        )
    width = page.evaluate("() => document.documentElement.scrollWidth")
    # Name the elements that stick out, so a failure says where to look.
    wide = page.evaluate(
        """(limit) => Array.from(document.querySelectorAll("body *"))
             .filter(el => el.getBoundingClientRect().right > limit)
             .slice(0, 8).map(el => el.tagName + "." + el.className)""",
        PHONE,
    )
    assert width <= PHONE, f"{page.url} scrolls sideways: {width} px wide ({wide})"


def _check(page: Page, axe: Callable[[Page], list[AxeResult]], failures: list[str]) -> None:
    _fits(page)
    violations = axe(page)
    if violations:
        failures.append(f"{page.url}:\n{format_violations(violations)}")


def _fill_erika(page: Page) -> None:
    page.get_by_label("Vorname").fill("Erika")
    page.get_by_label("Familienname").fill("Mustermann")
    page.get_by_label("Geburtsdatum").fill("1964-08-12")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("Straße").fill("Lister Meile")
    page.get_by_label("Hausnummer").fill("10")
    page.get_by_label("Postleitzahl").fill("30161")
    page.locator("#f-city").fill("Hannover")  # "Ort" is part of other labels too


def _status_case(live_server: LiveServer) -> str:
    """A sent case waiting for a document, written straight into the live server's database."""
    from servicepoint.casework.models import Application

    engine = create_engine(live_server.database_url)
    code = "E2E0STATE0PAGE00"
    with Session(engine) as session:
        if session.query(Application).filter_by(code=code).first() is None:
            session.add(
                Application(
                    code=code,
                    service_id="meldebescheinigung",
                    status="waiting",
                    lang="de",
                    applicant={"given_name": "Erna"},
                    data={},
                    findings=[
                        {"rule": "a", "outcome": "pass", "detail": "x", "detail_en": "x"},
                        {
                            "rule": "resident_found",
                            "outcome": "review",
                            "detail": "Wir haben Sie nicht im Melderegister gefunden.",
                            "detail_en": "We could not find you in the register.",
                        },
                    ],
                    trace=[],
                    payment={},
                    rules_version="2026-12-07",
                    submitted_at=dt.datetime.now(dt.UTC),
                    due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=5),
                    requested_upload="Bitte laden Sie eine Kopie Ihres Ausweises hoch.",
                )
            )
            session.commit()
    engine.dispose()
    return code


def test_the_application_pages_fit_a_phone_and_pass_axe(
    narrow_page: Page, axe: Callable[[Page], list[AxeResult]], live_server: LiveServer
) -> None:
    page = narrow_page
    failures: list[str] = []
    page.goto("/antrag/bewohnerparkausweis")
    _check(page, axe, failures)
    # The tutorial sits below the form on a phone.
    start_box = page.get_by_role("button", name="Antrag starten").bounding_box()
    aside_box = page.locator(".form-aside").bounding_box()
    assert start_box and aside_box and aside_box["y"] > start_box["y"]

    page.get_by_role("button", name="Antrag starten").click()
    expect(page.get_by_text("Schritt 1 von 5")).to_be_visible()
    _check(page, axe, failures)

    page.get_by_role("button", name="Weiter", exact=True).click()  # nothing filled in
    expect(page.locator("#fehler")).to_be_focused()  # the summary takes the focus
    _check(page, axe, failures)

    _fill_erika(page)
    page.get_by_role("button", name="Weiter", exact=True).click()
    expect(page.get_by_text("Schritt 2 von 5")).to_be_visible()
    permit = page.get_by_label("Nummer des bisherigen Ausweises")
    expect(permit).to_be_hidden()  # form.js: shown only for a renewal
    page.get_by_label("Ich habe schon einen Bewohnerparkausweis.").check()
    expect(permit).to_be_visible()
    _check(page, axe, failures)
    page.get_by_label("List-Süd (synthetisch)").check()

    page.get_by_role("button", name="Speichern und später fortsetzen").click()
    expect(page.get_by_text("Ihr Entwurf ist gespeichert")).to_be_visible()
    _check(page, axe, failures)

    page.get_by_role("button", name="Weiter", exact=True).click()
    page.get_by_label("Amtliches Kennzeichen").fill("H-EM 1964")
    page.get_by_label("Ich selbst").first.check()
    page.get_by_role("button", name="Weiter", exact=True).click()
    expect(page.get_by_role("heading", name="Unterlagen hochladen")).to_be_visible()
    _check(page, axe, failures)

    review = page.url.replace("/unterlagen", "/pruefen")
    page.goto(review)
    expect(page.get_by_role("heading", name="Angaben prüfen und absenden")).to_be_visible()
    _check(page, axe, failures)
    page.get_by_role("button", name="Antrag absenden").click()  # without the confirmation
    expect(page.locator("#fehler")).to_be_focused()
    _check(page, axe, failures)

    page.goto("/antrag/fortsetzen")
    _check(page, axe, failures)
    page.goto(f"/antrag/status/{_status_case(live_server)}")
    expect(page.get_by_role("heading", name="Wir brauchen noch ein Dokument")).to_be_visible()
    _check(page, axe, failures)
    page.goto(f"/antrag/status/{_status_case(live_server)}?lang=en")
    expect(page.get_by_role("heading", name="We still need a document")).to_be_visible()
    _check(page, axe, failures)
    assert not failures, "axe-core violations:\n" + "\n".join(failures)
