"""POST /api/assistant/ask and /feedback as ../shared/API.md fixes them, and the /assistent page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.assistant import dialogue, ranker
from servicepoint.assistant import service as assistant_service
from servicepoint.assistant.models import Conversation
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Location
from servicepoint.core.clock import utcnow
from tests.conftest import csrf_of

ASK = "/api/assistant/ask"
FEEDBACK = "/api/assistant/feedback"
ACTION_TYPES = {
    "online_service",
    "tutorial",
    "book_appointment",
    "book_video",
    "referral",
    "clarify",
    "handover",
}
SERVICE_PHONE = "0511 168-32000"


def ask(client: TestClient, message: str, **extra: Any) -> dict[str, Any]:
    resp = client.post(ASK, json={"message": message, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def assert_contract(body: dict[str, Any]) -> None:
    """The shape API.md fixes; message_id and kind are documented additions for the widget."""
    assert {"conversation_id", "lang", "reply", "confidence", "service", "actions"} <= set(body)
    assert set(body) - {"conversation_id", "lang", "reply", "confidence", "service", "actions"} <= {
        "message_id",
        "kind",
        "question_lang",
        "dir",
        "parts",
    }
    assert isinstance(body["conversation_id"], str) and body["conversation_id"]
    assert body["lang"] in ("de", "en")
    assert isinstance(body["reply"], str) and body["reply"].strip()
    assert isinstance(body["confidence"], float) and 0.0 <= body["confidence"] <= 1.0
    if body["service"] is not None:
        assert set(body["service"]) == {"id", "name", "url"}
        assert all(isinstance(v, str) and v for v in body["service"].values())
    assert isinstance(body["actions"], list)
    for action in body["actions"]:
        assert set(action) == {"type", "label", "url"}
        assert action["type"] in ACTION_TYPES
        assert action["label"].strip() and action["url"].strip()


# -- answers ---------------------------------------------------------------------------------


def test_answer_shape_and_source_link(client: TestClient) -> None:
    body = ask(client, "Was kostet ein Reisepass?")
    assert_contract(body)
    assert body["lang"] == "de"
    assert body["service"] == {
        "id": "reisepass",
        "name": "Reisepass beantragen",
        "url": "http://testserver/leistungen/reisepass-beantragen",
    }
    assert body["reply"].startswith("Reisepass beantragen: Gebühren:")
    assert body["confidence"] >= 0.7
    assert [a["type"] for a in body["actions"]] == ["book_appointment"]
    assert body["actions"][0]["url"] == "http://testserver/termine?service=reisepass"
    # The source link works.
    assert client.get(body["service"]["url"]).status_code == 200


def test_a_hurried_question_gets_the_stand_in_and_a_calm_one_hears_of_it(
    client: TestClient,
) -> None:
    hurried = ask(client, "Mein Reisepass ist abgelaufen und ich fliege übermorgen!")
    assert hurried["service"]["id"] == "vorlaeufiger-reisepass"
    calm = ask(client, "How long does a passport take?")
    assert calm["service"]["id"] == "reisepass"
    assert "If you are in a hurry: Apply for a temporary passport." in calm["reply"]


def test_english_question_gets_an_english_answer(client: TestClient) -> None:
    body = ask(client, "How much does a passport cost?")
    assert_contract(body)
    assert body["lang"] == "en"
    assert body["reply"].startswith("Apply for a passport: Fees:")
    assert "€70.00" in body["reply"]
    assert body["service"]["name"] == "Reisepass beantragen"  # canonical German name
    assert body["actions"][0]["label"].startswith("Book an appointment")


@pytest.mark.parametrize(
    ("message", "lang", "start"),
    [
        ("Was kostet ein Reisepass?", "en", "Apply for a passport: Fees:"),
        ("How much does a passport cost?", "de", "Reisepass beantragen: Gebühren:"),
    ],
)
def test_requested_language_wins(client: TestClient, message: str, lang: str, start: str) -> None:
    body = ask(client, message, lang=lang)
    assert body["lang"] == lang
    assert body["reply"].startswith(start)


def test_page_language_only_decides_when_the_question_does_not(client: TestClient) -> None:
    """The widget sends the page's language as ?lang: a fallback, not an order."""
    assert ask(client, "ok")["lang"] == "de"
    client.cookies.clear()
    resp = client.post(f"{ASK}?lang=en", json={"message": "ok"})
    assert resp.json()["lang"] == "en"
    resp = client.post(f"{ASK}?lang=en", json={"message": "Was kostet ein Reisepass?"})
    assert resp.json()["lang"] == "de"
    resp = client.post(f"{ASK}?lang=de", json={"message": "How much does a passport cost?"})
    assert resp.json()["lang"] == "en"


def test_online_service_is_offered_first(client: TestClient) -> None:
    body = ask(client, "Ich brauche ein Führungszeugnis")
    assert_contract(body)
    types = [a["type"] for a in body["actions"]]
    assert types[:2] == ["online_service", "tutorial"]
    assert types.index("online_service") < types.index("book_appointment")
    assert body["actions"][0]["url"] == "https://www.fuehrungszeugnis.bund.de"
    assert body["actions"][1]["url"].endswith("/leistungen/fuehrungszeugnis-beantragen/anleitung")
    assert "online" in body["reply"]


def test_followup_with_conversation_id(client: TestClient) -> None:
    first = ask(client, "Was kostet ein Personalausweis?")
    conv = first["conversation_id"]
    second = ask(client, "und für Kinder?", conversation_id=conv)
    assert_contract(second)
    assert second["conversation_id"] == conv
    assert second["service"]["id"] == "personalausweis"
    assert "27,60 €" in second["reply"] and "46,00 €" not in second["reply"]
    third = ask(client, "Geht das auch online?", conversation_id=conv)
    assert third["service"]["id"] == "personalausweis"
    assert "nicht online" in third["reply"]
    # Without the id, the same short question has nothing to refer to.
    alone = ask(client, "Geht das auch online?")
    assert alone["conversation_id"] != conv
    assert alone["service"] is None


def test_english_followup_stays_english(client: TestClient) -> None:
    first = ask(client, "I need to register my new address")
    second = ask(client, "how long does it take?", conversation_id=first["conversation_id"])
    assert second["lang"] == "en"
    assert second["service"]["id"] == "wohnsitz-anmelden"


@pytest.mark.parametrize(
    "message",
    [
        "Was kostet ein Reisepass? Antwort bitte an lena.beispiel@example.org",
        "Was kostet ein Reisepass? Rückruf unter 0511 1234567, geboren 12.08.1990",
    ],
)
def test_contact_details_do_not_blur_a_clear_question(client: TestClient, message: str) -> None:
    body = ask(client, message)
    assert body["service"] is not None and body["service"]["id"] == "reisepass"
    assert body["reply"].startswith("Reisepass beantragen: Gebühren:")


def test_greeting(client: TestClient) -> None:
    body = ask(client, "Hallo!")
    assert_contract(body)
    assert body["service"] is None
    assert body["kind"] == "greeting"


def test_thanks_get_a_youre_welcome(client: TestClient) -> None:
    first = ask(client, "Was kostet ein Reisepass?")
    body = ask(client, "Danke!", conversation_id=first["conversation_id"])
    assert body["kind"] == "greeting" and body["reply"].startswith("Gern geschehen")
    assert ask(client, "thanks a lot")["reply"].startswith("You're welcome")


@pytest.mark.parametrize(
    "message",
    [
        "Wann hat das Bürgeramt offen?",
        "Hat das Bürgeramt am Samstag offen?",
        "Wo ist das nächste Bürgeramt?",
        "Is the citizens' office open on Saturday?",
    ],
)
def test_a_question_about_the_offices_themselves_lists_them(
    client: TestClient, message: str
) -> None:
    body = ask(client, message)
    assert_contract(body)
    assert body["service"] is None and body["kind"] == "offices"
    assert "Bürgeramt Aegi" in body["reply"]  # the city's offices, by name
    # no opening hours are in the city's data: said so, none invented
    assert "gesichert" in body["reply"] or "no confirmed" in body["reply"]
    assert not re.search(r"\d{1,2}:\d{2}", body["reply"])
    urls = [a["url"] for a in body["actions"]]
    assert urls[0].endswith("/standorte") and any(u.endswith("/termine") for u in urls)
    assert any(u.startswith("tel:") for u in urls)


def test_a_question_about_one_office_is_about_that_one(client: TestClient) -> None:
    body = ask(client, "Hat das Bürgeramt Linden heute offen?")
    assert body["kind"] == "offices"
    assert body["reply"].startswith("Bürgeramt Linden.") and "Aegi" not in body["reply"]


def test_a_service_question_naming_the_office_is_about_the_service(client: TestClient) -> None:
    body = ask(client, "Öffnungszeiten Bürgeramt für die Anmeldung")
    assert body["kind"] == "answer"
    assert body["service"]["id"] == "wohnsitz-anmelden"


def test_known_opening_hours_are_given(client: TestClient, session: Session) -> None:
    aegi = session.get(Location, "aegi")
    assert aegi is not None
    aegi.opening_hours = {"mo": [["08:00", "12:00"]]}
    session.flush()
    body = ask(client, "Wann hat das Bürgeramt offen?")
    assert "Bürgeramt Aegi: " in body["reply"] and "08:00" in body["reply"]
    assert "der übrigen" in body["reply"]  # the others' hours stay unknown


# -- out of scope ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "Wie wird das Wetter am Wochenende?",
        "Who won the football match on Saturday?",
        "Hast du ein Rezept für Apfelstrudel?",
        "Was ist 17 mal 23?",
        "qwrtz plmokn uzgv",
    ],
)
def test_out_of_scope_says_so_and_hands_over(client: TestClient, message: str) -> None:
    body = ask(client, message)
    assert_contract(body)
    assert body["service"] is None
    handover = [a for a in body["actions"] if a["type"] == "handover"]
    assert handover, body["actions"]
    phone = [a for a in handover if a["url"].startswith("tel:")]
    assert phone and SERVICE_PHONE in phone[0]["label"]
    assert phone[0]["url"] == "tel:051116832000"
    assert "€" not in body["reply"]


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("Wie melde ich den Rundfunkbeitrag ab?", "„Rundfunkbeitrag“"),
        ("How do I apply for child benefit?", "“Child benefit (Kindergeld)”"),
    ],
)
def test_out_of_scope_names_the_other_matter(client: TestClient, message: str, topic: str) -> None:
    # the city's list of other authorities' matters names the topic, never who handles it
    body = ask(client, message)
    assert body["service"] is None
    assert topic in body["reply"]
    assert any(a["url"].startswith("tel:") for a in body["actions"])


def test_an_unsure_refusal_offers_the_likeliest_service_as_a_question(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a bar no answer reaches, a clear question is refused but its service is offered.
    strict = {"answer_threshold": 0.9999, "clarify_ratio": 0.99, "followup_threshold": 0.8}
    monkeypatch.setattr(dialogue, "policy", lambda: strict)
    fitted = ranker.models()  # the learned ranker brings thresholds of its own
    if fitted is not None:
        strict_ranker = dataclasses.replace(fitted, policy={**strict, "foreign_threshold": 0.9999})
        monkeypatch.setattr(ranker, "models", lambda: strict_ranker)
    body = ask(client, "Was kostet ein Reisepass?")
    assert body["service"] is None  # an offer, not an answer
    assert "Meinten Sie „Reisepass beantragen“?" in body["reply"]
    offer = body["actions"][0]
    assert offer["type"] == "clarify" and offer["url"].endswith("/leistungen/reisepass-beantragen")
    assert any(a["type"] == "handover" for a in body["actions"])
    # gibberish has no likely service: no offer
    nothing = ask(client, "qwrtz plmokn uzgv")
    assert not any(a["type"] == "clarify" for a in nothing["actions"])


def test_out_of_scope_without_a_known_matter_names_none(client: TestClient) -> None:
    body = ask(client, "qwrtz plmokn uzgv")
    assert "klingt nach" not in body["reply"]


def test_out_of_scope_in_english(client: TestClient) -> None:
    body = ask(client, "What's the weather like in Hannover tomorrow?")
    assert body["lang"] == "en"
    assert body["service"] is None
    assert "I'm sorry" in body["reply"]
    assert any(a["label"] == f"Service phone {SERVICE_PHONE}" for a in body["actions"])


# -- fees are the catalog's, and only those --------------------------------------------------

_EURO_DE = re.compile(r"(\d{1,3}(?:\.\d{3})*),(\d{2}) €")
_EURO_EN = re.compile(r"€(\d{1,3}(?:,\d{3})*)\.(\d{2})")


def euro_cents(text: str) -> set[int]:
    found = {int(w.replace(".", "")) * 100 + int(c) for w, c in _EURO_DE.findall(text)}
    found |= {int(w.replace(",", "")) * 100 + int(c) for w, c in _EURO_EN.findall(text)}
    return found


def catalog_cents(session: Session, service_id: str) -> set[int]:
    """Every amount the catalog record states: its fees, and amounts quoted in its texts."""
    svc = catalog_service.get_service(session, service_id=service_id)
    allowed = {int(f["amount_cents"]) for f in svc.data.get("fees", [])}
    return allowed | euro_cents(json.dumps(svc.data, ensure_ascii=False))


def test_personalausweis_fees_are_exactly_the_catalogs(
    client: TestClient, session: Session
) -> None:
    body = ask(client, "Was kostet ein Personalausweis?")
    assert body["service"]["id"] == "personalausweis"
    assert "46,00 €" in body["reply"]
    svc = catalog_service.get_service(session, service_id="personalausweis")
    fees = {int(f["amount_cents"]) for f in svc.data["fees"]}
    assert euro_cents(body["reply"]) == fees


@pytest.mark.parametrize(
    ("message", "service_id"),
    [
        ("Was kostet ein Reisepass?", "reisepass"),
        ("was kostet ein perso für mein kind", "personalausweis"),
        ("Welche Unterlagen brauche ich für den Personalausweis?", "personalausweis"),
        ("Wie teuer ist ein Führungszeugnis?", "fuehrungszeugnis"),
        ("Was kostet die Hundesteuer?", "hundesteuer"),
        ("Was kostet die Einbürgerung?", "einbuergerung"),
        ("How much is a passport for a child?", "reisepass"),
        ("How much does a provisional ID card cost?", "vorlaeufiger-personalausweis"),
    ],
)
def test_no_euro_amount_that_is_not_in_the_catalog(
    client: TestClient, session: Session, message: str, service_id: str
) -> None:
    body = ask(client, message)
    assert body["service"] and body["service"]["id"] == service_id
    amounts = euro_cents(body["reply"])
    assert amounts, body["reply"]
    assert amounts <= catalog_cents(session, service_id), body["reply"]


def test_a_service_without_fees_says_so(client: TestClient) -> None:
    body = ask(client, "Was kostet eine Meldebescheinigung?")
    assert body["service"]["id"] == "meldebescheinigung"
    assert "keine gesicherten Angaben" in body["reply"]
    assert not euro_cents(body["reply"])


def test_how_long_a_document_is_valid_is_no_question_of_processing_time(
    client: TestClient,
) -> None:
    body = ask(client, "Wie lange ist ein vorläufiger Personalausweis gültig?")
    assert body["service"]["id"] == "vorlaeufiger-personalausweis"
    assert "drei Monate gültig" in body["reply"]  # the catalog's summary says it
    assert "Bearbeitungsdauer" not in body["reply"]


# -- bad input: 422 with a clear message, never 500 -------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["", "   ", "\n\t ", "\x00", "x" * 1001, "Reisepass " * 101],
)
def test_empty_or_overlong_message_is_422(client: TestClient, message: str) -> None:
    resp = client.post(ASK, json={"message": message})
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "invalid_input"
    assert "message" in body["detail"]


def test_message_of_exactly_1000_characters_is_fine(client: TestClient) -> None:
    message = ("Was kostet ein Reisepass? " * 40)[:1000]
    assert len(message) == 1000
    assert ask(client, message)["service"]["id"] == "reisepass"


@pytest.mark.parametrize(
    "payload",
    [
        {"message": 5},
        {"message": None},
        {"message": ["Reisepass"]},
        {"message": {"text": "Reisepass"}},
        {"message": True},
        {"message": "Reisepass", "lang": "fr"},
        {"message": "Reisepass", "lang": 1},
        {"message": "Reisepass", "conversation_id": 7},
        {"message": "Reisepass", "conversation_id": "x" * 41},
        {},
        ["Reisepass"],
        "Reisepass",
        None,
    ],
)
def test_wrong_types_are_422(client: TestClient, payload: Any) -> None:
    resp = client.post(
        ASK, content=json.dumps(payload), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    assert set(resp.json()) - {"fields"} == {"error", "detail"}


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b'{"message": "Pass"', b"\xff\xfe\x00", b'{"message": "\\ud800"}'],
)
def test_garbage_is_4xx(client: TestClient, raw: bytes) -> None:
    resp = client.post(ASK, content=raw, headers={"content-type": "application/json"})
    assert 400 <= resp.status_code < 500
    assert set(resp.json()) - {"fields"} == {"error", "detail"}


def test_deeply_nested_json_is_4xx(client: TestClient) -> None:
    raw = b"[" * 50_000 + b"]" * 50_000
    resp = client.post(ASK, content=raw, headers={"content-type": "application/json"})
    assert 400 <= resp.status_code < 500


def test_oversized_body_is_413(client: TestClient) -> None:
    raw = json.dumps({"message": "a" * 1_100_000}).encode()
    resp = client.post(ASK, content=raw, headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large"


def test_wrong_method_is_405(client: TestClient) -> None:
    assert client.get(ASK).status_code == 405


def test_nul_in_conversation_id_is_refused_by_the_input_guard(client: TestClient) -> None:
    resp = client.post(ASK, json={"message": "Reisepass?", "conversation_id": "abc\x00def"})
    assert resp.status_code == 422
    assert resp.json()["error"] == "invalid_input"


def test_unknown_conversation_id_is_no_error(client: TestClient) -> None:
    body = ask(client, "Geht das auch online?", conversation_id="never-handed-out")
    assert body["service"] is None


# -- feedback --------------------------------------------------------------------------------


def rate(client: TestClient, body: dict[str, Any], helpful: bool) -> int:
    resp = client.post(
        FEEDBACK,
        json={
            "conversation_id": body["conversation_id"],
            "message_id": body["message_id"],
            "helpful": helpful,
        },
    )
    return int(resp.status_code)


def test_feedback_is_204(client: TestClient) -> None:
    body = ask(client, "Was kostet ein Reisepass?")
    assert rate(client, body, True) == 204
    assert rate(client, body, False) == 204


def test_feedback_on_an_earlier_reply_of_the_conversation(client: TestClient) -> None:
    """Every reply in the widget has thumbs; rating one after a follow-up must still work."""
    first = ask(client, "Was kostet ein Reisepass?")
    second = ask(client, "Wie lange dauert das?", conversation_id=first["conversation_id"])
    assert rate(client, second, True) == 204
    assert rate(client, first, False) == 204


@pytest.mark.parametrize(
    "change",
    [
        {"message_id": "not-a-reply"},
        {"conversation_id": "no-such-talk"},
    ],
)
def test_feedback_for_an_unknown_reply_is_404(client: TestClient, change: dict[str, str]) -> None:
    body = ask(client, "Was kostet ein Reisepass?")
    payload = {
        "conversation_id": body["conversation_id"],
        "message_id": body["message_id"],
        "helpful": True,
        **change,
    }
    resp = client.post(FEEDBACK, json=payload)
    assert resp.status_code == 404
    assert resp.json()["error"] == "conversation_not_found"


@pytest.mark.parametrize(
    "payload",
    [
        {"conversation_id": "a", "message_id": "b"},
        {"conversation_id": "a", "message_id": "b", "helpful": "maybe"},
        {"conversation_id": "", "message_id": "b", "helpful": True},
        {"conversation_id": "a", "message_id": "b", "helpful": True, "extra": 1},
        {"conversation_id": 1, "message_id": "b", "helpful": True},
    ],
)
def test_feedback_bad_input_is_422(client: TestClient, payload: dict[str, Any]) -> None:
    resp = client.post(FEEDBACK, json=payload)
    assert resp.status_code == 422
    assert resp.json()["error"] == "invalid_input"


# -- conversations are short-lived -----------------------------------------------------------


def test_old_conversations_are_purged(client: TestClient, session: Session) -> None:
    old = ask(client, "Was kostet ein Reisepass?")["conversation_id"]
    fresh = ask(client, "Was kostet ein Personalausweis?")["conversation_id"]
    session.expire_all()
    session.get_one(Conversation, old).updated_at = utcnow() - dt.timedelta(hours=25)
    session.flush()
    assert assistant_service.purge_conversations(session) == 1
    ids = set(session.scalars(select(Conversation.id)))
    assert old not in ids and fresh in ids


def test_conversation_state_holds_no_personal_data(client: TestClient, session: Session) -> None:
    body = ask(client, "Reisepass verloren, bitte an lena@example.org oder 0176 12345678")
    state = session.get_one(Conversation, body["conversation_id"]).state
    dumped = json.dumps(state)
    assert "lena@example.org" not in dumped and "12345678" not in dumped


# -- the full page, without JavaScript --------------------------------------------------------


def test_assistant_page_renders_a_form(client: TestClient) -> None:
    resp = client.get("/assistent")
    assert resp.status_code == 200
    assert '<form method="post" action="/assistent"' in resp.text
    assert 'name="message"' in resp.text and 'name="csrf_token"' in resp.text


def test_assistant_page_answers_a_form_post(client: TestClient) -> None:
    token = csrf_of(client)
    resp = client.post(
        "/assistent", data={"message": "Was kostet ein Reisepass?", "csrf_token": token}
    )
    assert resp.status_code == 200
    assert "70,00 €" in resp.text
    assert 'href="http://testserver/leistungen/reisepass-beantragen"' in resp.text
    conv = re.search(r'name="conversation_id" value="([^"]+)"', resp.text)
    assert conv
    follow = client.post(
        "/assistent",
        data={"message": "und für Kinder?", "csrf_token": token, "conversation_id": conv.group(1)},
    )
    # The whole conversation is shown, in order (tests/assistant/test_page.py has more).
    assert 0 < follow.text.index("70,00 €") < follow.text.index("37,50 €")


def test_assistant_page_answers_english_questions_in_english(client: TestClient) -> None:
    token = csrf_of(client)
    resp = client.post(
        "/assistent", data={"message": "How much is a passport?", "csrf_token": token}
    )
    assert resp.status_code == 200
    assert "€70.00" in resp.text


def test_assistant_page_needs_csrf(client: TestClient) -> None:
    csrf_of(client)
    resp = client.post("/assistent", data={"message": "Was kostet ein Reisepass?"})
    assert resp.status_code == 403


@pytest.mark.parametrize("message", ["", "x" * 1001])
def test_assistant_page_rejects_empty_or_overlong(client: TestClient, message: str) -> None:
    token = csrf_of(client)
    resp = client.post("/assistent", data={"message": message, "csrf_token": token})
    assert resp.status_code == 422
