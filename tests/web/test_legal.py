"""Impressum, privacy notice and accessibility statement: the city's text from its data folder,
linked from every page and beside every form that collects personal data."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from servicepoint.web.legal import LegalFileError, load_page
from tests.conftest import DATA_DIR

LEGAL_DIR = DATA_DIR / "legal"
LEGAL_PATHS = ["/impressum", "/datenschutz", "/barrierefreiheit"]


def texts(name: str, lang: str) -> list[str]:
    """Every heading and paragraph of a page's data file in one language."""
    data = yaml.safe_load((LEGAL_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    found = [data["title"][lang]]
    for section in data["sections"]:
        found.append(section["heading"][lang])
        found += [p[lang] for p in section.get("paragraphs", [])]
    return found


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("path", LEGAL_PATHS)
def test_legal_pages_show_the_data_folder_text(client: TestClient, path: str, lang: str) -> None:
    resp = client.get(f"{path}?lang={lang}")
    assert resp.status_code == 200
    page = visible(resp.text)
    for text in texts(path.strip("/"), lang):
        assert re.sub(r"\s+", " ", text) in page, text


def test_privacy_notice_reads_retention_periods_from_the_settings(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.booking_retention_days, settings.audit_retention_days = 9, 77
    page = visible(client.get("/datenschutz").text)
    assert "Name und E-Mail-Adresse werden 9 Tage nach dem Termin gelöscht." in page
    assert "Einträge werden nach 77 Tagen gelöscht." in page
    english = visible(client.get("/datenschutz?lang=en").text)
    assert "deleted 9 days after the appointment" in english


def test_privacy_notice_names_controller_dpo_and_supervisory_authority(client: TestClient) -> None:
    page = client.get("/datenschutz").text
    assert "Landeshauptstadt Hannover, Der Oberbürgermeister" in page
    assert 'href="mailto:18.DSB@hannover-stadt.de"' in page
    assert "Die Landesbeauftragte für den Datenschutz Niedersachsen" in page
    for processing in (
        "Terminbuchung",
        "Wartenummern",
        "Assistenten",
        "Rückrufbitten",
        "Protokoll",
        "Server-Protokolle",
    ):
        assert processing in page


def test_unknown_facts_are_shown_as_unknown_not_guessed(client: TestClient) -> None:
    page = visible(client.get("/impressum").text)
    assert "Telefon unbekannt – wird von der Stadt ergänzt" in page
    assert "unknown – the city will add this" in visible(client.get("/impressum?lang=en").text)


def test_accessibility_statement_has_feedback_mail_and_enforcement_link(client: TestClient) -> None:
    page = client.get("/barrierefreiheit").text
    assert 'href="mailto:stadtverwaltung@hannover-stadt.de?subject=' in page
    assert "behindertenbeauftragte-niedersachsen.de/DE/Schlichtungsstelle" in page
    assert "Stand: 07.12.2026" in visible(page) or "Stand: 7.12.2026" in visible(page)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/leistungen",
        "/leistungen/personalausweis-beantragen",
        "/standorte",
        "/termine",
        "/gibt-es-nicht",
    ],
)
def test_every_page_footer_links_the_three_pages(client: TestClient, path: str) -> None:
    for lang, labels in (
        ("de", ("Impressum", "Datenschutz", "Barrierefreiheit")),
        ("en", ("Legal notice", "Privacy", "Accessibility")),
    ):
        html = client.get(f"{path}?lang={lang}").text
        footer = html[html.index('<footer class="site-footer">') :]
        for href, label in zip(LEGAL_PATHS, labels, strict=True):
            assert f'<a href="{href}">{label}</a>' in footer, (path, lang, href)


def booking_form_path(client: TestClient) -> str:
    first = client.get("/api/appointments/slots?service=personalausweis").json()[0]
    return (
        f"/termine/buchen?service=personalausweis&location={first['location_id']}"
        f"&start={first['start']}"
    )


def form_html(html: str, marker: str) -> str:
    """The <form> element that contains `marker` (its action or class)."""
    at = html.index(marker)
    return html[html.rindex("<form", 0, at) : html.index("</form>", at)]


PERSONAL_DATA_FORMS = [
    ("/mitarbeiter/login", 'action="/mitarbeiter/login"'),
    ("/rueckruf", 'action="/rueckruf"'),
    ("/assistent", 'action="/assistent"'),
    ("/standorte/aegi/kiosk", 'action="/standorte/aegi/kiosk/anmelden"'),
    ("/", 'class="chat-form"'),
]


@pytest.mark.parametrize(("path", "marker"), PERSONAL_DATA_FORMS)
def test_each_form_that_collects_personal_data_links_the_privacy_notice(
    client: TestClient, path: str, marker: str
) -> None:
    form = form_html(client.get(path).text, marker)
    assert 'class="privacy-note"' in form
    assert '<a href="/datenschutz">' in form or '<a href="/datenschutz?kiosk=' in form


def test_the_booking_form_links_the_privacy_notice(client: TestClient) -> None:
    resp = client.get(booking_form_path(client))
    assert resp.status_code == 200
    form = form_html(resp.text, 'action="/termine/buchen"')
    assert '<a href="/datenschutz">Datenschutzerklärung</a>' in form


def test_a_broken_legal_file_fails_naming_the_file(tmp_path: Path) -> None:
    shutil.copy(LEGAL_DIR / "datenschutz.yaml", tmp_path / "datenschutz.yaml")
    path = tmp_path / "datenschutz.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("booking_retention_days", "no_such_days"),
        encoding="utf-8",
    )
    with pytest.raises(LegalFileError, match=r"(?s)datenschutz\.yaml.*no_such_days"):
        load_page(path)


def test_a_city_without_the_page_gets_a_clear_404(client: TestClient, tmp_path: Path) -> None:
    client.app.state.settings.data_dir = tmp_path  # type: ignore[attr-defined]
    resp = client.get("/impressum")
    assert resp.status_code == 404
    assert "noch nicht veröffentlicht" in resp.text
