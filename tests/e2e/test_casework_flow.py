"""Online applications end to end in a real browser (issue 15, "Tests").

Erika Mustermann applies for a Meldebescheinigung by clicking and typing through every step,
downloads the approved document and it checks out: signed by the live server's key, stating her
name, and its verification page calls it genuine. An application whose address the register
does not know goes to the staff queue; a clerk takes it and confirms the proposal, and the
citizen's status page then offers the document. axe-core checks the pages the phone test
(test_application_pages.py) leaves out, in German and English; the keyboard gets from the error
summary to the field.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from pyhanko.pdf_utils.reader import PdfFileReader

from servicepoint.casework.signing import verify_pdf
from servicepoint.config import Settings
from tests.e2e.conftest import own_page
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
STATUS_URL = re.compile(r"/antrag/status/([A-Z0-9]+)\?neu=1$")


@dataclass(frozen=True)
class Person:
    given_name: str
    family_name: str
    birth_date: str
    street: str
    house_number: str
    postcode: str
    city: str
    email: str


ERIKA = Person(
    given_name="Erika",
    family_name="Mustermann",
    birth_date="1964-08-12",
    street="Lister Meile",
    house_number="10",
    postcode="30161",
    city="Hannover",
    email="erika@example.org",
)
# The register knows Erika at Lister Meile 10 only; no one is registered at number 99.
ERIKA_ELSEWHERE = replace(ERIKA, house_number="99")


def live_settings(live_server: LiveServer) -> Settings:
    """The live server's own settings: the signature is checked against the key it signs with
    (its state_dir/signing/, or the configured key files)."""
    assert live_server.settings is not None
    return live_server.settings


# --- reading the downloaded PDF ---------------------------------------------------------------

_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
_CMAP_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_TEXT_OP = re.compile(rb"/(\S+)\s+[\d.]+\s+Tf|(\[[^\]]*\])\s*TJ|(<[0-9a-fA-F]*>)\s*Tj")


def _unicode_map(font: Any) -> dict[bytes, str]:
    """Glyph id (hex) → text, from the font's ToUnicode CMap (WeasyPrint writes bfchar pairs)."""
    cmap = font.get_object()["/ToUnicode"].get_object().data
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for glyph, text in _CMAP_PAIR.findall(block):
            mapping[glyph.lower()] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return mapping


def pdf_text(pdf: bytes) -> str:
    """The text of every page, one line per text run: enough to say what a document states.
    (The project ships no PDF text extractor; WeasyPrint's output is simple: Identity-H fonts
    with two-byte glyph ids in TJ/Tj operators and a ToUnicode map per font.)"""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    lines = []
    for index in range(len(reader.root["/Pages"]["/Kids"])):
        page = reader.root["/Pages"]["/Kids"][index].get_object()
        fonts = {
            name.lstrip("/").encode(): _unicode_map(font)
            for name, font in page["/Resources"]["/Font"].items()
        }
        contents = page["/Contents"]
        streams = contents if isinstance(contents, list) else [contents]
        current: dict[bytes, str] = {}
        for op in _TEXT_OP.finditer(b"".join(s.get_object().data for s in streams)):
            if op.group(1):
                current = fonts.get(op.group(1), {})
                continue
            hexes = _HEX.findall(op.group(2) or op.group(3))
            run = b"".join(hexes).decode().lower()
            glyphs = [run[i : i + 4].encode() for i in range(0, len(run), 4)]
            lines.append("".join(current.get(g, "\ufffd") for g in glyphs))
    return "\n".join(lines)


def pdf_links(pdf: bytes) -> list[str]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    annotations = [a.get_object() for a in page.get("/Annots", [])]
    return [str(a["/A"]["/URI"]) for a in annotations if a["/Subtype"] == "/Link"]


# --- the citizen's pages ------------------------------------------------------------------------


def fill_applicant(page: Page, person: Person) -> None:
    """Step 1 as a person fills it in, finding each box by its German label."""
    page.get_by_label("Vorname").fill(person.given_name)
    page.get_by_label("Familienname").fill(person.family_name)
    page.get_by_label("Geburtsdatum").fill(person.birth_date)
    page.get_by_label("E-Mail-Adresse").fill(person.email)
    page.get_by_label("Straße").fill(person.street)
    page.get_by_label("Hausnummer").fill(person.house_number)
    page.get_by_label("Postleitzahl").fill(person.postcode)
    page.get_by_label(re.compile(r"^Ort\b")).fill(person.city)  # not "Wohnort" etc.


def click_next(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Weiter", exact=True).click()


def apply_in_german(page: Page, person: Person) -> str:
    """Start page → every step → review → confirm → send; returns the case code."""
    page.goto("/antrag/meldebescheinigung")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Meldebescheinigung")
    expect(page.get_by_text("Gebühr: nicht bekannt")).to_be_visible()  # the catalog lists none
    with page.expect_navigation():
        page.get_by_role("button", name="Antrag starten").click()

    expect(page.get_by_text("Schritt 1 von 3")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Angaben zu Ihrer Person")
    fill_applicant(page, person)
    click_next(page)

    expect(page.get_by_text("Schritt 2 von 3")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Meldebescheinigung")
    page.get_by_label("Einfache Meldebescheinigung").check()
    page.get_by_label("Ich beantrage die Bescheinigung über meine eigenen Daten.").check()
    click_next(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Angaben prüfen und absenden")
    answers = page.locator(".review-list").first
    for shown in (person.given_name, person.family_name, "12.08.1964", person.street):
        expect(answers).to_contain_text(shown)
    expect(page.locator("#review-fee ~ p")).to_have_text("Gebühr: nicht bekannt")
    page.get_by_label("Ich versichere, dass meine Angaben richtig und vollständig sind.").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Antrag absenden").click()

    expect(page).to_have_url(STATUS_URL)
    expect(page.get_by_text("Ihr Antrag ist abgesendet.")).to_be_visible()
    match = STATUS_URL.search(page.url)
    assert match is not None
    return match.group(1)


def test_erika_gets_her_signed_meldebescheinigung_at_once(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    code = apply_in_german(page, ERIKA)
    status = page.locator(".status-box")
    expect(status.get_by_role("heading")).to_have_text("Bewilligt")
    expect(status).to_contain_text("Ihr Antrag ist bewilligt.")
    expect(page.locator(".facts")).to_contain_text("(automatisch)")  # § 35a: BMG § 18 allows it
    expect(page.locator(".facts")).to_contain_text("Version 2026-12-07")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Dokument herunterladen (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"meldebescheinigung-{code}.pdf"
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF-")

    check = verify_pdf(pdf, settings=live_settings(live_server))
    assert check.signed and check.intact and check.valid, check
    assert check.trusted and check.whole_file and check.ok, check
    # Trust comes from the server's key, not from the document: another key does not vouch.
    stranger = verify_pdf(pdf, settings=Settings(state_dir=tmp_path))
    assert stranger.intact and not stranger.trusted and not stranger.ok, stranger

    text = pdf_text(pdf)
    assert "Meldebescheinigung" in text
    assert "Erika Mustermann" in text, text
    assert "12.08.1964" in text and "Lister Meile 10, 30161 Hannover" in text, text
    assert "Einfache Meldebescheinigung" in text, text
    assert code not in text  # the case code opens the status page; the paper goes to others

    # The QR code and the printed link lead to the verification page (on the configured base
    # URL; the path is what counts here). Its code is the one printed in groups of four.
    (link,) = pdf_links(pdf)
    path = urlsplit(link).path
    verification_code = path.removeprefix("/nachweis/")
    assert re.fullmatch(r"[0-9A-Z]{16}", verification_code), link
    grouped = "-".join(verification_code[i : i + 4] for i in range(0, 16, 4))
    assert grouped in text.replace(" ", ""), text

    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.get_by_role("status")).to_contain_text("Dieses Dokument ist echt.")
    expect(page.get_by_role("status")).to_contain_text(grouped)
    facts = page.locator("#doc-lines ~ dl")
    expect(facts).to_contain_text("Erika Mustermann")
    expect(facts).to_contain_text("Lister Meile 10, 30161 Hannover")


# --- staff ------------------------------------------------------------------------------------


@pytest.fixture
def staff_page(
    browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> Iterator[Page]:
    """A clerk at another computer: a browser context of their own, logged in as staff."""
    with own_page(browser, live_server, request_log) as pg:
        pg.goto("/mitarbeiter/login?next=/mitarbeiter/antraege")
        fill_login(pg, *STAFF)
        expect(pg).to_have_url(re.compile(r"/mitarbeiter/antraege$"))
        yield pg


def test_an_unknown_address_goes_to_staff_who_confirm_it(page: Page, staff_page: Page) -> None:
    code = apply_in_german(page, ERIKA_ELSEWHERE)
    status = page.locator(".status-box")
    expect(status.get_by_role("heading")).to_have_text("In Prüfung")
    expect(page.get_by_role("link", name="Dokument herunterladen (PDF)")).to_have_count(0)
    findings = page.locator(".findings")
    expect(findings).to_contain_text("Wird von uns geprüft")
    # The citizen's page folds the register checks into one neutral line; the clerk sees why.
    expect(findings).to_contain_text("Eine Mitarbeiterin oder ein Mitarbeiter prüft Ihre Angaben.")
    expect(findings).not_to_contain_text("Melderegister")
    expect(page.locator(".facts")).to_contain_text("Bearbeitung geplant bis")

    clerk = staff_page
    clerk.reload()  # the queue as it is now
    row = clerk.locator("tbody tr", has=clerk.get_by_role("link", name=code, exact=True))
    expect(row).to_contain_text("Meldebescheinigung")
    expect(row).to_contain_text("bewilligen")  # the prepared proposal
    expect(row).to_contain_text("noch niemand")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Nächsten Fall übernehmen").click()
    # Only this module leaves cases in review on the live server, and each confirms its own:
    # the oldest free case is this one.
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(code)
    expect(clerk.locator("dl.facts").first).to_contain_text(STAFF[0])  # taken by the clerk
    expect(clerk.locator("#decide-title ~ ul")).to_contain_text("Anschrift")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Vorschlag bestätigen: bewilligen").click()
    expect(clerk.get_by_role("status")).to_have_text("Der Vorschlag ist bestätigt.")
    expect(clerk.locator("dl.facts").first).to_contain_text(f"– {STAFF[0]}")

    clerk.goto("/mitarbeiter/antraege")
    expect(clerk.get_by_role("link", name=code, exact=True)).to_have_count(0)

    page.goto(f"/antrag/status/{code}")
    expect(page.locator(".status-box").get_by_role("heading")).to_have_text("Bewilligt")
    expect(page.locator(".facts")).not_to_contain_text("(automatisch)")  # a person decided
    expect(page.locator(".findings")).to_contain_text("Von uns geprüft")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Dokument herunterladen (PDF)").click()
    assert "Lister Meile 99, 30161 Hannover" in pdf_text(download_info.value.path().read_bytes())


# --- axe-core -----------------------------------------------------------------------------------


@pytest.fixture
def staff_axe_page(
    browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> Iterator[Page]:
    """The clerk's page for axe: logged in as staff, CSP bypassed only so axe can be injected."""
    with own_page(browser, live_server, request_log, bypass_csp=True) as pg:
        pg.goto("/mitarbeiter/login")
        fill_login(pg, *STAFF)
        yield pg


def _submit_button(page: Page, action: str) -> None:
    with page.expect_navigation():
        page.locator(f"button[name=action][value={action}]").click()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_finds_no_violations_from_application_to_decision(
    axe_page: Page,
    staff_axe_page: Page,
    axe: Callable[[Page], list[AxeResult]],
    lang: str,
) -> None:
    page, clerk, failures = axe_page, staff_axe_page, []
    # test_application_pages.py checks the German form pages (start, step, errors, review);
    # the English ones, the status pages and the staff pages are checked here.
    form_pages = lang == "en"

    def check(where: str, pg: Page) -> None:
        violations = axe(pg)
        if violations:
            failures.append(f"{where} ({lang}, {pg.url}):\n{format_violations(violations)}")

    page.goto(f"/antrag/meldebescheinigung?lang={lang}")  # ?lang= is kept in a cookie
    if form_pages:
        expect(page.locator("html")).to_have_attribute("lang", "en")
        check("start page", page)
    with page.expect_navigation():
        page.locator("form.start-form button[type=submit]").click()
    _submit_button(page, "next")  # nothing filled in
    expect(page.locator("#fehler")).to_be_focused()
    if form_pages:
        check("step with errors", page)
    for name, value in vars(ERIKA_ELSEWHERE).items():
        page.locator(f"#f-{name}").fill(value)
    _submit_button(page, "next")
    page.locator("#f-kind-0").check()
    page.locator("#f-own_data").check()
    _submit_button(page, "next")
    expect(page).to_have_url(re.compile(r"/pruefen$"))
    if form_pages:
        check("review", page)
    page.locator("#f-truthful").check()
    with page.expect_navigation():
        page.locator("form.casework-form button[type=submit]").click()
    code = page.url.split("/antrag/status/")[1].split("?")[0]
    expect(page.locator(".status-box")).to_have_class(re.compile(r"status-in_review"))
    check("status in review", page)

    clerk.goto(f"/mitarbeiter/antraege?lang={lang}")
    expect(clerk.get_by_role("link", name=code, exact=True)).to_be_visible()
    check("staff queue", clerk)
    with clerk.expect_navigation():
        clerk.get_by_role("link", name=code, exact=True).click()
    check("staff case", clerk)
    with clerk.expect_navigation():
        clerk.locator("form[action$='/bestaetigen'] button").click()
    expect(clerk.get_by_role("status")).to_be_visible()
    check("staff case, decided", clerk)

    page.goto(f"/antrag/status/{code}")
    expect(page.locator(".status-box")).to_have_class(re.compile(r"status-approved"))
    expect(page.locator("a[href$='/dokument.pdf']")).to_be_visible()
    check("status approved", page)
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


# --- keyboard -----------------------------------------------------------------------------------


def test_the_keyboard_goes_from_the_error_summary_to_the_field(page: Page) -> None:
    page.goto("/antrag/meldebescheinigung")
    with page.expect_navigation():
        page.get_by_role("button", name="Antrag starten").click()
    given_name = page.get_by_label("Vorname")
    given_name.focus()
    page.keyboard.type("Erika")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # sends the form with its first button, "Weiter"

    summary = page.locator("#fehler")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    expect(given_name).to_have_value("Erika")  # what was typed stays
    page.keyboard.press("Tab")
    first = summary.get_by_role("link").first
    expect(first).to_be_focused()
    expect(first).to_have_text(re.compile(r"^Familienname: .+"))
    page.keyboard.press("Enter")
    family_name = page.get_by_label("Familienname")
    expect(family_name).to_be_focused()
    expect(family_name).to_have_attribute("aria-invalid", "true")
    # The error is read out with the field: its id is among the field's descriptions.
    described = family_name.get_attribute("aria-describedby") or ""
    assert "e-family_name" in described.split()
    expect(page.locator("#e-family_name")).to_have_text(re.compile(r"^Fehler: .+"))

    # A group of choices: the summary leads to its first option.
    fill_applicant(page, ERIKA)
    click_next(page)
    click_next(page)  # nothing chosen
    expect(summary).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Einfache Meldebescheinigung")).to_be_focused()
