"""Kiosk, call display and the ticket drawn at the kiosk use the kiosk layout: no site menu,
footer, staff login or assistant, and no link that leads anywhere but the same screen."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.appointment.conftest import Clock, berlin
from tests.conftest import csrf_of

pytestmark = pytest.mark.usefixtures("clock")

KIOSK = "/standorte/aegi/kiosk"
DISPLAY = "/standorte/aegi/aufruf"


def links(page: str) -> list[str]:
    return re.findall(r'<a\b[^>]*\bhref="([^"]*)"', page)


def assert_kiosk_layout(page: str, path: str) -> None:
    assert 'class="kiosk"' in page
    for marker in ("site-header", "site-footer", "chat-widget", "assistant.js", "/mitarbeiter"):
        assert marker not in page, f"{path}: {marker} on a kiosk screen"
    for href in links(page):
        # The only way out is the privacy notice that a form collecting personal data links.
        allowed = ("", path, "/datenschutz")
        assert urlsplit(href.replace("&amp;", "&")).path in allowed, f"{path}: link {href}"


def test_kiosk_and_display_have_no_way_out(client: TestClient, clock: Clock) -> None:
    clock.set(berlin(2026, 12, 14, 9, 0))
    for path in (KIOSK, DISPLAY):
        page = client.get(path)
        assert page.status_code == 200
        assert_kiosk_layout(page.text, path)
        assert f'href="{path}?lang=en"' in page.text  # the language switch stays on the screen
    assert 'action="/standorte/aegi/kiosk"' in client.get(KIOSK).text
    assert "data-chime-toggle" in client.get(DISPLAY).text


def test_the_number_drawn_at_the_kiosk_leads_back_to_the_kiosk(
    client: TestClient, clock: Clock
) -> None:
    clock.set(berlin(2026, 12, 14, 9, 0))
    resp = client.post(KIOSK, data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert resp.status_code == 303
    at_kiosk = client.get(resp.headers["location"]).text
    assert 'class="kiosk"' in at_kiosk and "W001" in at_kiosk
    assert "site-header" not in at_kiosk and "chat-widget" not in at_kiosk
    assert {urlsplit(h).path for h in links(at_kiosk)} == {
        urlsplit(resp.headers["location"]).path,
        KIOSK,
    }
    assert "Fertig – zurück zum Start" in at_kiosk
    own = client.get(urlsplit(resp.headers["location"]).path).text  # on the citizen's phone
    assert "site-header" in own and 'class="kiosk"' not in own


def test_the_kiosk_privacy_notice_stays_on_the_kiosk(client: TestClient, clock: Clock) -> None:
    clock.set(berlin(2026, 12, 14, 9, 0))
    kiosk = client.get(KIOSK).text
    assert 'href="/datenschutz?kiosk=aegi"' in kiosk
    for lang, back in (("de", "Zurück zum Start"), ("en", "Back to the start")):
        notice = client.get(f"/datenschutz?kiosk=aegi&lang={lang}")
        assert notice.status_code == 200
        assert 'class="kiosk"' in notice.text and back in notice.text
        for href in links(notice.text):  # no mail, phone or web link leads off the screen
            assert urlsplit(href.replace("&amp;", "&")).path in ("/datenschutz", KIOSK), href
    assert "site-footer" in client.get("/datenschutz").text  # the ordinary page is unchanged
