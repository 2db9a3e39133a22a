"""Conversation context fills in only what a new message lacks (issue 14): a follow-up without
a matter of its own keeps the topic, a message naming another matter starts a new one."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from servicepoint.assistant import lexicon
from servicepoint.assistant import service as assistant_service
from servicepoint.config import DATA_ROOT
from servicepoint.core.city import elsewhere_topics, elsewhere_words, place_names

CITY = DATA_ROOT / "hannover"


def converse(session: Session, *messages: str) -> list[tuple[str, str | None]]:
    """Each message asked in one conversation: (kind, service id) per reply."""
    conversation: str | None = None
    out = []
    for message in messages:
        reply = assistant_service.ask(
            session,
            message=message,
            conversation_id=conversation,
            places=place_names(CITY),
            elsewhere=elsewhere_words(CITY),
            topics=elsewhere_topics(CITY),
        )
        conversation = reply.conversation_id
        out.append((reply.kind, reply.service.id if reply.service else None))
    return out


def test_another_authoritys_matter_starts_a_new_topic(session: Session) -> None:
    got = converse(session, "Was kostet die Hundesteuer?", "Wie beantrage ich Kindergeld?")
    assert got == [("answer", "hundesteuer"), ("out_of_scope", None)]


def test_a_service_named_in_a_cost_question_is_the_new_topic(session: Session) -> None:
    # "Meldebescheinigung" ends like the deregistration's "Abmeldebescheinigung", but is a
    # service of its own.
    got = converse(session, "Ich möchte mich abmelden", "Was kostet eine Meldebescheinigung?")
    assert got == [("answer", "wohnsitz-abmelden"), ("answer", "meldebescheinigung")]


def test_moving_into_the_city_is_a_registration_and_its_cost_follows(session: Session) -> None:
    got = converse(session, "Ich ziehe nach Hannover", "Was kostet das?")
    assert got == [("answer", "wohnsitz-anmelden"), ("answer", "wohnsitz-anmelden")]


@pytest.mark.parametrize(
    ("first", "then", "topic"),
    [
        ("Ich brauche einen neuen Reisepass", "Und welche Unterlagen?", "reisepass"),
        ("How much is a passport?", "and what documents do I need?", "reisepass"),
        ("I want to register my dog", "how much is it per year?", "hundesteuer"),
    ],
)
def test_a_followup_without_its_own_matter_keeps_the_topic(
    session: Session, first: str, then: str, topic: str
) -> None:
    assert converse(session, first, then) == [("answer", topic), ("answer", topic)]


@pytest.mark.parametrize(
    ("first", "then", "second"),
    [
        (
            "How much is a passport?",
            "how much is a certificate of registration?",
            "meldebescheinigung",
        ),
        ("I want to register my dog", "and how do I apply for child benefit?", None),
        ("I need a certificate of good conduct", "what does the dog tax cost?", "hundesteuer"),
    ],
)
def test_an_english_message_naming_another_matter_starts_a_new_topic(
    session: Session, first: str, then: str, second: str | None
) -> None:
    got = converse(session, first, then)
    assert got[1][1] == second
    assert got[0][1] != second


@pytest.mark.parametrize(
    ("text", "means"),
    [
        ("Ich ziehe nach Hannover", ("anmelden",)),
        ("Wir sind nach Linden umgezogen", ("anmelden",)),
        ("Ich ziehe aus Hannover weg", ("abmelden",)),
        ("I am moving to Hannover", ("register",)),
        ("We are moving away from Hannover", ("deregister",)),
        ("Ich fahre nach Hannover", ()),  # no move
        ("Ich ziehe nach Berlin", ()),  # not one of the city's places
    ],
)
def test_the_way_of_a_move_comes_from_the_language_data(text: str, means: tuple[str, ...]) -> None:
    places = {"hannover", "linden"}
    assert lexicon.moving_means(text, places) == means


def test_moving_out_of_the_city_is_a_deregistration(session: Session) -> None:
    assert converse(session, "Ich ziehe aus Hannover weg") == [("answer", "wohnsitz-abmelden")]
