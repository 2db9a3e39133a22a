"""The counter console speaks to the clerk in words: who is at the counter, for what matter,
and each status as a label in the page's language, never an internal code."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.appointment.console_view import STATUS_TEXT
from tests.appointment.conftest import PASS, PASSPORT, Clock, berlin, book_via_api
from tests.conftest import csrf_of, login, make_user

pytestmark = pytest.mark.usefixtures("clock")

CONSOLE = "/mitarbeiter/schalter/aegi/1"
RAW_CODES = ("booked", "arrived", "no_show", "waiting", "called", "cancelled")


def act(client: TestClient, action: str, **fields: str) -> None:
    resp = client.post(
        CONSOLE,
        data={"csrf_token": csrf_of(client), "action": action, **fields},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text


def cells(page: str) -> list[str]:
    """The text of every table cell, tags stripped."""
    found = re.findall(r"<td[^>]*>(.*?)</td>", page, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found]


def now_section(page: str) -> str:
    match = re.search(r'<section aria-labelledby="now-title".*?</section>', page, flags=re.S)
    assert match, "no 'current' section"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(0)))


@pytest.fixture
def day(client: TestClient, session: Session, clock: Clock) -> dict[str, str]:
    """Two bookings at Aegi today (one will not come), then a clerk at counter 1 at 09:00."""
    first = book_via_api(
        client,
        start=berlin(2026, 12, 14, 9, 30).isoformat(),
        services=(PASS, PASSPORT),
        name="Erika Mustermann",
    )
    second = book_via_api(
        client, start=berlin(2026, 12, 14, 10, 0).isoformat(), name="Max Beispiel"
    )
    clock.set(berlin(2026, 12, 14, 9, 0))
    make_user(session, "clerk", "staff")
    login(client, "clerk")
    return {"erika": first["code"], "max": second["code"]}


def test_the_person_and_the_matter_of_a_called_appointment(
    client: TestClient, day: dict[str, str]
) -> None:
    act(client, "present", code=day["erika"])
    act(client, "next")
    now = now_section(client.get(CONSOLE).text)
    assert "Erika Mustermann" in now
    assert "Personalausweis beantragen" in now and "Reisepass beantragen" in now
    english = now_section(client.get(CONSOLE, params={"lang": "en"}).text)
    assert "Erika Mustermann" in english and "Apply for a passport" in english


def test_a_walk_in_without_a_name_is_said_so(client: TestClient, day: dict[str, str]) -> None:
    client.post(
        "/standorte/aegi/kiosk",
        data={"csrf_token": csrf_of(client), "service": PASSPORT},
        follow_redirects=False,
    )
    act(client, "next")
    now = now_section(client.get(CONSOLE).text)
    assert "ohne Namen – Wartenummer W001" in now
    assert "Reisepass beantragen" in now
    english = now_section(client.get(CONSOLE, params={"lang": "en"}).text)
    assert "no name – waiting number W001" in english


def test_statuses_are_words_not_codes(client: TestClient, day: dict[str, str]) -> None:
    act(client, "present", code=day["erika"])
    act(client, "no_show_booking", code=day["max"])
    german = cells(client.get(CONSOLE).text)
    assert "ist da" in german and "nicht erschienen" in german
    assert "Erika Mustermann" in german and "Max Beispiel" in german
    assert "Personalausweis beantragen, Reisepass beantragen" in german
    english = cells(client.get(CONSOLE, params={"lang": "en"}).text)
    assert "has arrived" in english and "no-show" in english
    assert not set(german) & set(RAW_CODES), "a raw status code on the German page"
    assert "no_show" not in english and "arrived" not in english


def test_every_status_has_an_english_label() -> None:
    from servicepoint.core import i18n

    for code, msgid in STATUS_TEXT.items():
        assert i18n.translate("en", msgid) != msgid, f"{code}: no English label"
