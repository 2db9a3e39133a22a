"""HTML pages of the catalog: home, search, service, tutorial, locations, error pages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.catalog.datafile import load_services
from servicepoint.catalog.seed import with_online_forms
from tests.catalog.conftest import add_service
from tests.conftest import DATA_DIR

# As seeded: services with a form in the data folder are online (catalog/seed.py).
RECORDS = {svc.id: svc for svc in with_online_forms(load_services(DATA_DIR / "services"), DATA_DIR)}
GERMAN_CHROME = ["Zum Inhalt springen", "Hauptnavigation", "Standorte"]


def html_of(client: TestClient, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"].startswith("text/html")
    return unescape(resp.text)


def main_of(page: str) -> str:
    """The page's <main> only, so header and footer words do not count."""
    match = re.search(r"<main\b.*?</main>", page, re.S)
    assert match, "page has no <main>"
    return match.group(0)


def result_links(page: str) -> list[str]:
    match = re.search(r'<ol class="results"[^>]*>(.*?)</ol>', page, re.S)
    return re.findall(r'<a href="(/leistungen/[^"]+)"', match.group(1)) if match else []


def h1(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match, "page has no <h1>"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def progress(page: str) -> tuple[int, int]:
    """(value, max) of the tutorial's <progress> element."""
    match = re.search(r"<progress\b([^>]*)>", page)
    assert match, "no <progress> element"
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
    return int(attrs["value"]), int(attrs["max"])


def use_english(client: TestClient) -> None:
    resp = client.get("/sprache/en", follow_redirects=False)
    assert resp.status_code == 303
    assert "sp_lang=en" in resp.headers["set-cookie"]


# -- home and language ----------------------------------------------------------------------------
def test_home_is_german_by_default(client: TestClient) -> None:
    page = html_of(client, "/")
    assert '<html lang="de">' in page
    assert "HannoverServicePoint" in page
    assert "Willkommen beim HannoverServicePoint" in page
    assert 'href="/sprache/en' in page  # the language switch
    for record in RECORDS.values():
        assert record.name.de in page, record.id


def test_home_lists_online_services_under_das_geht_online(client: TestClient) -> None:
    page = main_of(html_of(client, "/"))
    section = page[page.index("Das geht online") : page.index("Alle Leistungen")]
    online = [r for r in RECORDS.values() if "online" in r.channels]
    offline = [r for r in RECORDS.values() if "online" not in r.channels]
    assert online
    for record in online:
        assert f'href="/leistungen/{record.slug}"' in section, record.id
    for record in offline:
        assert f'href="/leistungen/{record.slug}"' not in section, record.id


def test_language_switch_sets_a_cookie_and_returns_to_the_page(client: TestClient) -> None:
    resp = client.get("/sprache/en", params={"next": "/standorte"}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/standorte"
    cookie = resp.headers["set-cookie"]
    assert "sp_lang=en" in cookie and "samesite=lax" in cookie.lower()


def test_home_in_english_after_the_switch(client: TestClient) -> None:
    use_english(client)
    page = html_of(client, "/")
    assert '<html lang="en">' in page
    assert "Welcome to HannoverServicePoint" in page
    assert "Willkommen" not in page
    for text in GERMAN_CHROME:
        assert text not in page, text
    assert RECORDS["personalausweis"].name.en in page
    assert 'href="/sprache/de' in page  # and back


def test_switching_back_to_german(client: TestClient) -> None:
    use_english(client)
    client.get("/sprache/de")
    assert '<html lang="de">' in html_of(client, "/")


def test_unknown_language_is_a_friendly_404(client: TestClient) -> None:
    page = html_of(client, "/sprache/fr", status=404)
    assert "Diese Sprache gibt es nicht." in page


def test_language_switch_refuses_an_open_redirect(client: TestClient) -> None:
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        resp = client.get("/sprache/en", params={"next": target}, follow_redirects=False)
        assert resp.headers["location"] == "/", target


# -- search ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("perso", "personalausweis"),
        ("Reisepas", "reisepass"),
        ("ummelden", "wohnsitz-anmelden"),
        ("Meldezettel", "wohnsitz-anmelden"),
    ],
)
def test_search_page_shows_the_right_service_first(
    client: TestClient, query: str, expected: str
) -> None:
    page = html_of(client, f"/suche?q={query}")
    links = result_links(page)
    assert links, "no results shown"
    assert links[0] == f"/leistungen/{RECORDS[expected].slug}"
    assert f"„{query}“" in page  # the query is echoed in the result count


def test_search_page_without_query_shows_the_form_only(client: TestClient) -> None:
    page = html_of(client, "/suche")
    assert "<form" in page and 'name="q"' in page
    assert result_links(page) == []
    assert "Keine passende Leistung" not in page


def test_search_page_says_when_nothing_matches(client: TestClient) -> None:
    page = html_of(client, "/suche?q=xyzzyq")
    assert "Keine passende Leistung gefunden." in page
    assert 'href="/leistungen"' in page


def test_search_partial_for_htmx_is_only_the_result_list(client: TestClient) -> None:
    page = html_of(client, "/suche?q=perso&partial=1")
    assert "<html" not in page
    assert page.lstrip().startswith('<div id="results"')
    assert result_links(page)[0] == "/leistungen/personalausweis-beantragen"


def test_search_escapes_the_query(client: TestClient) -> None:
    resp = client.get("/suche", params={"q": "<script>alert(1)</script>"})
    assert resp.status_code == 200
    assert "<script>alert(1)</script>" not in resp.text


def test_search_page_in_english_shows_english_names(client: TestClient) -> None:
    use_english(client)
    page = html_of(client, "/suche?q=passport")
    assert result_links(page)[0] == "/leistungen/reisepass-beantragen"
    assert RECORDS["reisepass"].name.en in page


def test_overlong_search_is_a_friendly_422_page(client: TestClient) -> None:
    page = html_of(client, "/suche?q=" + "x" * 501, status=422)
    assert "Ungültige Eingabe" in page
    assert "<h1" in page


# -- service page ---------------------------------------------------------------------------------
def test_online_service_page_puts_das_geht_online_first(
    client: TestClient, session: Session
) -> None:
    add_service(session, online=True, fees=True)
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "Das geht online" in page
    first = page.index("Das geht online")
    for later in ("Termin im Bürgeramt", "Was Sie mitbringen müssen", "Gebühren"):
        assert first < page.index(later), later
    assert 'href="https://example.org/online/testleistung"' in page
    assert 'href="/leistungen/testleistung-beantragen/anleitung"' in page
    # The steps are previewed right there.
    for title in ("Portal öffnen", "Ausweisen", "Absenden"):
        assert title in page


def test_offline_service_page_has_no_online_box(client: TestClient, session: Session) -> None:
    add_service(session)
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "Das geht online" not in page
    assert "/anleitung" not in page
    assert "So erledigen Sie es" in page
    assert "Termin im Bürgeramt" in page
    assert "Dauer etwa 15 Minuten" in page


def test_service_page_shows_the_checklist(client: TestClient, session: Session) -> None:
    add_service(
        session,
        documents=[
            {"text": {"de": "Gültiger Ausweis", "en": "Valid ID"}},
            {
                "text": {"de": "Geburtsurkunde", "en": "Birth certificate"},
                "condition": {"de": "nur bei Kindern", "en": "children only"},
            },
        ],
    )
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "Was Sie mitbringen müssen" in page
    assert page.count('type="checkbox"') == 2
    assert "Geburtsurkunde" in page and "(nur bei Kindern)" in page


def test_fees_are_shown_in_euros_with_stand_date(client: TestClient, session: Session) -> None:
    add_service(session, fees=True)
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "46,00 €" in page and "27,60 €" in page
    assert "ab 24 Jahren" in page and "unter 24 Jahren" in page
    assert "Stand: 07.02.2026" in page


def test_unknown_fees_are_shown_as_unknown(client: TestClient, session: Session) -> None:
    add_service(session)  # no fees in the data
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "Gebühren: unbekannt" in page
    assert "Stand:" not in page
    assert "0,00 €" not in page


def test_unknown_processing_time_and_legal_basis_are_shown_as_unknown(
    client: TestClient, session: Session
) -> None:
    add_service(session)
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    facts = page[page.index("Bearbeitungsdauer") :]
    assert facts.count("unbekannt") >= 2


def test_external_service_names_the_responsible_authority(
    client: TestClient, session: Session
) -> None:
    add_service(
        session,
        channels=["external"],
        appointment_minutes=None,
        responsible={
            "name": {"de": "Amtsgericht Hannover", "en": "Hannover local court"},
            "phone": "0511 347-0",
            "url": "https://example.org/amtsgericht",
            "address": "Volgersweg 1, 30175 Hannover",
        },
    )
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "Zuständig ist eine andere Stelle" in page
    assert "Amtsgericht Hannover" in page
    assert "Volgersweg 1, 30175 Hannover" in page
    assert 'href="tel:0511347-0"' in page
    assert 'href="https://example.org/amtsgericht"' in page
    assert "Termin im Bürgeramt" not in page


def test_video_and_mobile_channels_are_offered(client: TestClient, session: Session) -> None:
    add_service(session, channels=["video", "mobile"], appointment_minutes=None)
    page = main_of(html_of(client, "/leistungen/testleistung-beantragen"))
    assert "Beratung per Video" in page
    assert "Mobiler ServicePoint" in page


def test_real_identity_card_page(client: TestClient) -> None:
    page = main_of(html_of(client, "/leistungen/personalausweis-beantragen"))
    assert h1(page) == "Personalausweis beantragen"
    assert "46,00 €" in page and "27,60 €" in page
    assert "Stand: " in page
    assert "Das geht online" not in page


def test_service_page_in_english(client: TestClient, session: Session) -> None:
    add_service(session, online=True, fees=True)
    use_english(client)
    page = html_of(client, "/leistungen/testleistung-beantragen")
    body = main_of(page)
    assert '<html lang="en">' in page
    assert h1(body) == "Apply for the test service"
    assert "Testleistung beantragen" in body  # the canonical German name is kept visible
    assert "A service for tests only." in body
    assert "€46.00" in body
    for german in ("Das geht online", "Was Sie mitbringen müssen", "Gebühren", "Stand:"):
        assert german not in body, german


def test_unknown_service_page_is_a_friendly_404(client: TestClient) -> None:
    page = html_of(client, "/leistungen/gibt-es-nicht", status=404)
    assert "Diese Leistung gibt es nicht." in page
    assert 'href="/"' in page and 'href="/suche"' in page


def test_service_list_a_to_z(client: TestClient) -> None:
    page = main_of(html_of(client, "/leistungen"))
    names = [RECORDS[i].name.de for i in sorted(RECORDS, key=lambda i: RECORDS[i].name.de)]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)


# -- tutorial -------------------------------------------------------------------------------------
TUTORIAL = "/leistungen/testleistung-beantragen/anleitung"


def test_tutorial_starts_with_what_you_need_and_how_long(
    client: TestClient, session: Session
) -> None:
    add_service(session, online=True)
    page = main_of(html_of(client, TUTORIAL))
    assert h1(page) == "So geht es online"
    assert "Das brauchen Sie, bevor Sie anfangen" in page
    assert "Online-Ausweis mit PIN" in page
    assert "etwa 10 Minuten" in page
    assert progress(page) == (0, 4)
    assert 'href="?schritt=1"' in page


@pytest.mark.parametrize(
    ("step", "title", "text"),
    [
        (1, "Portal öffnen", "Öffnen Sie das Portal der Stadt."),
        (2, "Ausweisen", "Halten Sie den Ausweis ans Handy."),
        (3, "Absenden", "Prüfen und absenden."),
    ],
)
def test_tutorial_step_pages_show_progress(
    client: TestClient, session: Session, step: int, title: str, text: str
) -> None:
    add_service(session, online=True)
    page = main_of(html_of(client, f"{TUTORIAL}?schritt={step}"))
    assert f"Schritt {step} von 3" in page
    assert progress(page) == (step, 4)
    assert f"Schritt {step}: {title}" in page
    assert text in page
    assert f'href="?schritt={step - 1}"' in page  # back
    assert f'href="?schritt={step + 1}"' in page  # forward
    assert 'aria-current="step"' in page


def test_tutorial_ends_with_what_happens_afterwards(client: TestClient, session: Session) -> None:
    add_service(session, online=True)
    page = main_of(html_of(client, f"{TUTORIAL}?schritt=4"))
    assert "Was danach passiert" in page
    assert "Sie erhalten den Bescheid per Post." in page
    assert progress(page) == (4, 4)
    assert 'rel="next"' not in page
    assert 'href="https://example.org/online/testleistung"' in page


def test_tutorial_step_past_the_end_shows_the_last_page(
    client: TestClient, session: Session
) -> None:
    add_service(session, online=True)
    page = main_of(html_of(client, f"{TUTORIAL}?schritt=40"))
    assert "Was danach passiert" in page


@pytest.mark.parametrize("step", ["-1", "abc", "51", "1.5"])
def test_bad_step_is_a_422_page_not_a_500(client: TestClient, session: Session, step: str) -> None:
    add_service(session, online=True)
    html_of(client, f"{TUTORIAL}?schritt={step}", status=422)


def test_tutorial_in_english(client: TestClient, session: Session) -> None:
    add_service(session, online=True)
    use_english(client)
    page = main_of(html_of(client, f"{TUTORIAL}?schritt=2"))
    assert "Identify yourself" in page
    assert "Hold your ID to the phone." in page
    assert "Schritt" not in page


def test_no_tutorial_for_an_offline_service(client: TestClient) -> None:
    page = html_of(client, "/leistungen/personalausweis-beantragen/anleitung", status=404)
    assert "Für diese Leistung gibt es keine Online-Anleitung." in page


def test_every_online_service_of_the_catalog_has_a_working_tutorial(client: TestClient) -> None:
    for record in RECORDS.values():
        if "online" not in record.channels:
            continue
        assert record.tutorial is not None
        total = len(record.tutorial.steps)
        page = main_of(html_of(client, f"/leistungen/{record.slug}/anleitung?schritt={total}"))
        assert f"Schritt {total} von {total}" in page, record.id
        assert record.tutorial.steps[-1].title.de in page, record.id


# -- locations ------------------------------------------------------------------------------------
def test_locations_page_lists_the_nine_offices(client: TestClient) -> None:
    page = main_of(html_of(client, "/standorte"))
    assert "9 ServicePoints in der Stadt." in page
    for name in (
        "Aegi",
        "Bemerode",
        "Döhren",
        "Herrenhausen",
        "Linden",
        "Podbi-Park",
        "Ricklingen",
        "Sahlkamp",
        "Schützenplatz",
    ):
        assert f"Bürgeramt {name}" in page


def _card(page: str, location_id: str) -> str:
    """The part of the list about one location: from its link to the next location's link."""
    start = page.index(f'href="/standorte/{location_id}"')
    following = re.search(r'href="/standorte/[a-z0-9-]+"', page[start + 10 :])
    return page[start : start + 10 + following.start()] if following else page[start:]


def test_locations_page_shows_unknown_facts_as_unknown(client: TestClient) -> None:
    page = main_of(html_of(client, "/standorte"))
    bemerode = _card(page, "bemerode")
    assert "Adresse unbekannt" in bemerode
    assert "Öffnungszeiten: unbekannt" in bemerode
    assert "Lage auf der Karte unbekannt" in bemerode
    doehren = _card(page, "doehren")
    assert "Peiner Straße" in doehren
    assert "Hausnummer unbekannt" in doehren
    aegi = _card(page, "aegi")
    assert "Aegidientorplatz 1" in aegi
    assert "Hausnummer unbekannt" not in aegi


def test_locations_page_loads_nothing_from_third_parties(client: TestClient) -> None:
    page = html_of(client, "/standorte")
    assets = re.findall(r'<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)"', page)
    assert "/static/vendor/leaflet/leaflet.js" in assets
    assert all(a.startswith("/") for a in assets), assets  # no tile server, no CDN
    assert 'id="map-data"' in page


def test_location_page_shows_hours_when_known(client: TestClient, session: Session) -> None:
    from servicepoint.catalog import locations as location_service

    loc = location_service.get_location(session, location_id="linden")
    location_service.apply_patch(
        loc,
        location_service.LocationPatch(opening_hours="Mo-Fr 08:00-12:00; Do 14:00-18:00"),
        source="Aushang",
        by="admin",
    )
    session.commit()
    page = main_of(html_of(client, "/standorte/linden"))
    assert "Öffnungszeiten: unbekannt" not in page
    assert "08:00–12:00, 14:00–18:00" in page  # Thursday
    week = page[page.index('<table class="hours">') : page.index("</table>")]
    assert week.count("geschlossen") == 2  # Saturday and Sunday


def test_location_page_names_the_source_of_each_fact(client: TestClient) -> None:
    page = main_of(html_of(client, "/standorte/aegi"))
    assert "Woher stammen diese Angaben?" in page
    assert "goettinger-tageblatt.de" in page
    assert "Postleitzahl unbekannt" in page


def test_unknown_location_page_is_a_friendly_404(client: TestClient) -> None:
    page = html_of(client, "/standorte/atlantis", status=404)
    assert "Diesen Standort gibt es nicht." in page


def test_locations_page_in_english(client: TestClient) -> None:
    use_english(client)
    page = main_of(html_of(client, "/standorte"))
    assert "unbekannt" not in page
    assert "unknown" in page


# -- error pages ----------------------------------------------------------------------------------
def test_404_page_is_friendly_in_german(client: TestClient) -> None:
    page = html_of(client, "/gibt-es-wirklich-nicht", status=404)
    assert '<html lang="de">' in page
    assert "Nicht gefunden" in page
    assert "Diese Seite gibt es nicht." in page
    assert 'href="/"' in page and "Zur Startseite" in page
    assert "Traceback" not in page and '{"error"' not in page


def test_404_page_is_friendly_in_english(client: TestClient) -> None:
    use_english(client)
    page = html_of(client, "/gibt-es-wirklich-nicht", status=404)
    assert '<html lang="en">' in page
    assert "This page does not exist." in page
    assert "Nicht gefunden" not in page
    assert "Zur Startseite" not in page


def test_404_page_in_english_by_query_parameter(client: TestClient) -> None:
    page = html_of(client, "/gibt-es-wirklich-nicht?lang=en", status=404)
    assert "This page does not exist." in page


@pytest.mark.parametrize(
    "path",
    [
        "/leistungen/%00",
        "/leistungen/" + "x" * 3000,
        "/standorte/%00",
        "/suche?q=%00",
        "/suche?partial=vielleicht",
        "/leistungen/%F0%9F%90%B6/anleitung",
    ],
)
def test_odd_page_input_is_never_a_500(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code < 500, resp.text[:300]
    assert resp.headers["content-type"].startswith("text/html")


def test_pages_send_security_headers(client: TestClient) -> None:
    resp = client.get("/")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in resp.headers["content-security-policy"]
    assert resp.headers["x-frame-options"] == "DENY"
