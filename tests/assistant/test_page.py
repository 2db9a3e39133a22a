"""The /assistent page without JavaScript: the conversation so far, the newest answer focused,
and the widget's helpful/unhelpful ratings as plain form posts (issue 14)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.assistant.models import LoggedQuestion
from tests.conftest import csrf_of

PAGE = "/assistent"
RATE = "/assistent/bewertung"


def post(client: TestClient, message: str, conversation: str = "") -> str:
    data = {"message": message, "csrf_token": csrf_of(client), "conversation_id": conversation}
    resp = client.post(PAGE, data=data)
    assert resp.status_code == 200, resp.text
    return resp.text


def conversation_of(page: str) -> str:
    found = re.search(r'name="conversation_id" value="([^"]+)"', page)
    assert found
    return found.group(1)


def message_ids(page: str) -> list[str]:
    return re.findall(r'name="message_id" value="([^"]+)"', page)


def test_the_page_shows_every_turn_in_order(client: TestClient) -> None:
    first = post(client, "Was kostet ein Reisepass?")
    conversation = conversation_of(first)
    post(client, "und für Kinder?", conversation)
    page = post(client, "Wie beantrage ich Kindergeld?", conversation)
    questions = re.findall(r'class="chat-question"[^>]*>.*?</span>\s*([^<]+)</p>', page)
    assert questions == [
        "Was kostet ein Reisepass?",
        "und für Kinder?",
        "Wie beantrage ich Kindergeld?",
    ]
    assert page.index("70,00 €") < page.index("37,50 €") < page.index("Kindergeld“")
    assert len(message_ids(page)) == 3  # each answer can be rated


def test_the_newest_answer_has_the_focus(client: TestClient) -> None:
    conversation = conversation_of(post(client, "Was kostet ein Reisepass?"))
    page = post(client, "Und welche Unterlagen?", conversation)
    focused = re.findall(r'<div class="chat-newest" id="antwort" tabindex="-1" autofocus>', page)
    assert len(focused) == 1
    # the focused answer is the last one
    assert page.index('id="antwort"') > page.index("70,00 €")
    assert page.index('id="antwort"') < page.rindex('name="message_id"')


def test_a_new_conversation_does_not_show_an_old_one(client: TestClient) -> None:
    post(client, "Was kostet ein Reisepass?")
    page = post(client, "Was kostet ein Personalausweis?")  # no conversation id sent
    assert "46,00 €" in page and "70,00 €" not in page


def test_a_name_typed_in_is_not_shown_back(client: TestClient) -> None:
    page = post(client, "Mein Name ist Erika Mustermann, was kostet ein Reisepass?")
    assert "Mustermann" not in page and "[Name]" in page


def test_rating_an_answer_without_javascript(client: TestClient, session: Session) -> None:
    page = post(client, "Was kostet ein Reisepass?")
    conversation = conversation_of(page)
    page = post(client, "Und welche Unterlagen?", conversation)
    first, second = message_ids(page)
    data = {
        "csrf_token": csrf_of(client),
        "conversation_id": conversation,
        "message_id": first,
        "helpful": "false",
    }
    resp = client.post(RATE, data=data)
    assert resp.status_code == 200
    assert "Danke für Ihre Bewertung!" in resp.text
    # the whole conversation stays; the rated answer is focused and no longer offers buttons
    assert "70,00 €" in resp.text and message_ids(resp.text) == [second]
    focused = resp.text.index('id="antwort"')
    assert focused < resp.text.index("Danke für Ihre Bewertung!") < resp.text.index(second)
    session.expire_all()
    rows = session.scalars(select(LoggedQuestion).where(LoggedQuestion.reason == "unhelpful"))
    assert [r.text for r in rows] == ["Was kostet ein Reisepass?"]


def test_rating_needs_csrf(client: TestClient) -> None:
    page = post(client, "Was kostet ein Reisepass?")
    data = {
        "conversation_id": conversation_of(page),
        "message_id": message_ids(page)[0],
        "helpful": "true",
    }
    assert client.post(RATE, data=data).status_code == 403


def test_rating_an_unknown_answer_is_a_clear_404(client: TestClient) -> None:
    data = {
        "csrf_token": csrf_of(client),
        "conversation_id": "gibt-es-nicht",
        "message_id": "auch-nicht",
        "helpful": "true",
    }
    resp = client.post(RATE, data=data)
    assert resp.status_code == 404
    assert "kein Gespräch mehr" in resp.text


def test_rating_bad_input_is_a_422(client: TestClient) -> None:
    data = {"csrf_token": csrf_of(client), "conversation_id": "x", "message_id": "y"}
    assert client.post(RATE, data={**data, "helpful": "vielleicht"}).status_code == 422
    assert (
        client.post(RATE, data={**data, "message_id": "y" * 41, "helpful": "1"}).status_code == 422
    )


def test_the_page_in_english(client: TestClient) -> None:
    page = post(client, "How much is a passport?")
    assert "€70.00" in page
    conversation = conversation_of(page)
    english = client.post(
        f"{RATE}?lang=en",
        data={
            "csrf_token": csrf_of(client),
            "conversation_id": conversation,
            "message_id": message_ids(page)[0],
            "helpful": "true",
        },
    )
    assert "Thank you for your rating!" in english.text
