"""Personal data typed into the assistant is never stored, and what is stored goes after its
retention period, deleted by the worker like bookings (issue 14)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.assistant import nlp
from servicepoint.assistant.models import Conversation, LoggedQuestion
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.worker import run_once

NOW = utcnow()


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Mein Name ist Erika Mustermann, ich brauche einen Pass", ["Erika", "Mustermann"], "Pass"),
        ("Hallo, ich heiße Jona Muster und will mich ummelden", ["Jona", "Muster"], "ummelden"),
        ("mein name ist erika mustermann und ich brauche einen pass", ["erika", "muster"], "pass"),
        ("Ich heiße Ursula von der Leyen.", ["Ursula", "Leyen"], "heiße"),
        ("My name is John Smith and I need a passport", ["John", "Smith"], "passport"),
        ("Mit freundlichen Grüßen, H. Krüger", ["Krüger", "H."], "Grüßen"),
        ("Name: Jona Muster, Reisepass", ["Jona", "Muster"], "Reisepass"),
        ("Ich wohne in der Lister Meile 10, 30161 Hannover", ["Lister", "10", "30161"], "wohne"),
        ("Ich wohne Hauptstr. 5a und brauche eine Meldebescheinigung", ["Hauptstr", "5a"], "Melde"),
        ("I live at 221B Baker Street and lost my passport", ["221B", "Baker"], "passport"),
        ("geboren am 12.08.1964, Pass verloren", ["1964", "12.08"], "Pass"),
        ("born 12 August 1964, lost my passport", ["1964", "August"], "passport"),
        ("Rückruf an erika@example.org oder 0511 1234567", ["erika@", "1234567"], "Rückruf"),
        ("IBAN DE89 3704 0044 0532 0130 00 für die Gebühr", ["DE89", "0532"], "Gebühr"),
    ],
)
def test_personal_data_is_scrubbed(text: str, gone: list[str], kept: str) -> None:
    clean = nlp.scrub(text)
    assert all(g not in clean for g in gone), clean
    assert kept in clean


@pytest.mark.parametrize(
    "text",
    [
        "Ich habe geheiratet und heiße jetzt anders. Brauche ich einen neuen Ausweis?",
        "I need 2 court documents certified",
        "Was kostet ein Reisepass für mein Kind?",
    ],
)
def test_messages_without_personal_data_stay_whole(text: str) -> None:
    assert nlp.scrub(text) == text


def ask(client: TestClient, message: str, **extra: Any) -> dict[str, Any]:
    resp = client.post("/api/assistant/ask", json={"message": message, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_a_name_in_a_question_is_neither_logged_nor_remembered(
    client: TestClient, session: Session
) -> None:
    body = ask(client, "Mein Name ist Erika Mustermann, wie bekomme ich einen Flitzerschein?")
    session.expire_all()
    logged = session.scalars(select(LoggedQuestion)).all()
    assert logged and all("Mustermann" not in row.text for row in logged)
    assert all("[Name]" in row.text for row in logged)
    conversation = session.get(Conversation, body["conversation_id"])
    assert conversation is not None
    assert "Mustermann" not in str(conversation.state)


def _question(session: Session, text: str, age: dt.timedelta) -> None:
    session.add(
        LoggedQuestion(
            created_at=NOW - age, lang="de", text=text, group_key=text, reason="out_of_scope"
        )
    )


def _texts(session: Session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(LoggedQuestion.text)))


def test_worker_deletes_questions_after_their_retention(session: Session) -> None:
    _question(session, "old", dt.timedelta(days=31))
    _question(session, "just-over", dt.timedelta(days=30, minutes=1))
    _question(session, "recent", dt.timedelta(days=29))
    session.flush()
    settings = Settings(secret_key="x", smtp_host=None, assistant_question_retention_days=30)
    report = run_once(session, settings=settings, now=NOW)
    assert report.questions_purged == 2
    assert _texts(session) == {"recent"}


def test_worker_deletes_conversations_after_their_retention(session: Session) -> None:
    session.add(Conversation(id="old-talk", state={}, updated_at=NOW - dt.timedelta(hours=3)))
    session.add(Conversation(id="new-talk", state={}, updated_at=NOW - dt.timedelta(hours=1)))
    session.flush()
    settings = Settings(secret_key="x", smtp_host=None, assistant_conversation_hours=2)
    report = run_once(session, settings=settings, now=NOW)
    assert report.conversations_purged == 1
    session.expire_all()
    assert session.get(Conversation, "old-talk") is None
    assert session.get(Conversation, "new-talk") is not None


def test_retention_settings_have_defaults_and_bounds() -> None:
    settings = Settings(secret_key="x")
    assert (settings.assistant_question_retention_days, settings.assistant_conversation_hours) == (
        90,
        24,
    )
    with pytest.raises(ValidationError):
        Settings(secret_key="x", assistant_question_retention_days=0)


def test_the_privacy_notice_states_the_assistants_retention(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.assistant_conversation_hours, settings.assistant_question_retention_days = 5, 33
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get("/datenschutz").text).split())
    assert "Das Gespräch wird 5 Stunden nach Ihrer letzten Frage gelöscht." in page
    assert "Fragen ohne gute Antwort werden 33 Tage nach der Frage gelöscht." in page
    english = " ".join(re.sub(r"<[^>]+>", " ", client.get("/datenschutz?lang=en").text).split())
    assert "deleted 33 days after they were asked" in english
