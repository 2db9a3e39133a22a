"""A language chosen by ?lang= stays in force for the links and forms that follow (issue 14)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def page_lang(html: str) -> str:
    match = re.search(r'<html lang="(\w+)"', html)
    assert match, "no <html lang>"
    return match.group(1)


def test_lang_from_the_query_stays_for_links_and_forms(client: TestClient) -> None:
    assert page_lang(client.get("/?lang=en").text) == "en"
    # a link on the page, which carries no ?lang=
    follow = client.get("/termine")
    assert page_lang(follow.text) == "en" and "Book an appointment" in follow.text
    # a GET form (the slot search) and a POST form (the booking, refused for its e-mail)
    search = client.get("/termine", params={"service": "personalausweis"})
    assert page_lang(search.text) == "en"
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', search.text)
    assert token
    posted = client.post(
        "/termine/buchen",
        data={
            "csrf_token": token.group(1),
            "service": "personalausweis",
            "location": "aegi",
            "start": "2027-01-05T09:00:00+01:00",
            "name": "Erika Mustermann",
            "email": "no-address",
        },
    )
    assert posted.status_code == 422
    assert page_lang(posted.text) == "en" and "The e-mail address is invalid." in posted.text


def test_the_language_switch_still_wins_over_an_earlier_query(client: TestClient) -> None:
    client.get("/?lang=en")
    client.get("/sprache/de?next=/termine")
    assert page_lang(client.get("/termine").text) == "de"


def test_api_calls_with_lang_choose_no_language(client: TestClient) -> None:
    resp = client.get("/api/services?lang=en")
    assert "sp_lang" not in resp.headers.get("set-cookie", "")
    assert page_lang(client.get("/").text) == "de"
