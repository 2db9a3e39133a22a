"""The exact question answered (issue 18): a deadline, a validity, who may, online per variant
and where exactly, each from the real seeded catalog and its location data, quoted with the
source, and said honestly when the catalog does not state it."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy.orm import Session

from servicepoint.assistant import answers
from servicepoint.assistant import service as assistant_service
from servicepoint.assistant.compose import Context, compose
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Location
from servicepoint.config import DATA_ROOT
from servicepoint.core.city import elsewhere_topics, elsewhere_words, place_names
from tests.assistant.conftest import DetailOf

CITY = DATA_ROOT / "hannover"
BASE = "http://testserver"


def ask(session: Session, message: str) -> assistant_service.Reply:
    return assistant_service.ask(
        session,
        message=message,
        base=BASE,
        phone="0511 168-32000",
        places=place_names(CITY),
        elsewhere=elsewhere_words(CITY),
        topics=elsewhere_topics(CITY),
    )


def data(session: Session, service_id: str) -> dict[str, object]:
    return dict(catalog_service.get_service(session, service_id=service_id).data)


# -- which aspect a question asks (the cue files) ---------------------------------------------
@pytest.mark.parametrize(
    ("question", "lang", "aspect"),
    [
        ("Bis wann muss ich mich ummelden?", "de", "deadline"),
        ("Wie viel Zeit habe ich für die Anmeldung?", "de", "deadline"),
        ("How much time do I have to register?", "en", "deadline"),
        ("Wie lange ist der Personalausweis gültig?", "de", "validity"),
        ("How long is a passport valid?", "en", "validity"),
        ("Darf ich als Ausländer einen Hund anmelden?", "de", "eligibility"),
        ("Kann ich das online machen?", "de", "online"),
        ("Wo kann ich einen Reisepass beantragen?", "de", "where"),
    ],
)
def test_the_specific_aspect_is_read_from_the_cue_files(
    question: str, lang: str, aspect: str
) -> None:
    assert aspect in answers.asked(question, lang)


def test_a_general_question_asks_nothing_specific() -> None:
    assert answers.asked("Was kostet ein Reisepass?", "de") == []
    assert answers.asked("Ich brauche einen Reisepass", "de") == []


# -- the sentence finder ----------------------------------------------------------------------
def test_the_deadline_sentence_of_the_registration(session: Session) -> None:
    summary = data(session, "wohnsitz-anmelden")["summary"]
    assert isinstance(summary, dict) and "innerhalb von zwei Wochen" in summary["de"]
    (found,) = answers.findings(
        data(session, "wohnsitz-anmelden"), "Bis wann muss ich mich ummelden?", lang="de"
    )
    assert found.aspect == "deadline"
    assert [q.field for q in found.quotes] == ["summary"]
    assert "innerhalb von zwei Wochen nach dem Einzug" in found.quotes[0].text
    assert found.quotes[0].text in summary["de"]  # quoted, not rewritten


def test_the_validity_of_the_identity_card_quotes_both_ages(session: Session) -> None:
    (found,) = answers.findings(
        data(session, "personalausweis"), "Wie lange ist der Personalausweis gültig?", lang="de"
    )
    texts = [q.text for q in found.quotes]
    assert any("Gültigkeit 10 Jahre" in t for t in texts)
    assert any("Gültigkeit 6 Jahre" in t for t in texts)
    assert {q.field for q in found.quotes} == {"fee"}


def test_nothing_is_quoted_when_the_text_does_not_say(session: Session) -> None:
    (found,) = answers.findings(
        data(session, "fuehrungszeugnis"), "Wie lange ist das Führungszeugnis gültig?", lang="de"
    )
    assert found.aspect == "validity" and found.quotes == ()


def test_the_embedding_similarity_adds_to_the_score(session: Session) -> None:
    """With a similarity the related sentence of an aspect with common cue words is found even
    when it shares no word with the question."""
    svc = data(session, "wohnsitz-anmelden")
    question = "Wer kann für meinen kranken Vater die Meldung machen?"
    assert answers.findings(svc, question, lang="de")[0].quotes == ()

    def similarity(texts: Sequence[str]) -> np.ndarray:
        return np.array([0.9 if "Vollmacht" in t else 0.7 for t in texts])

    (found,) = answers.findings(svc, question, lang="de", similarity=similarity)
    assert found.quotes and "Vollmacht" in found.quotes[0].text


def test_variants_of_a_service_from_its_data_file(session: Session) -> None:
    ways = answers.ways(data(session, "online-ausweisfunktion-pin"), "de")
    assert [w.online for w in ways] == [True, False, False]
    first = answers.named_first(ways, "Kann ich die Online-Ausweisfunktion online aktivieren?")
    assert first[0].name.startswith("Online-Ausweisfunktion einschalten")


# -- the whole way through the assistant ------------------------------------------------------
def test_deadline_question_quotes_the_deadline_with_its_source(session: Session) -> None:
    reply = ask(session, "Bis wann muss ich mich ummelden?")
    assert reply.service is not None and reply.service.id == "wohnsitz-anmelden"
    assert "Laut Leistungsbeschreibung: „" in reply.reply
    assert "innerhalb von zwei Wochen nach dem Einzug anmelden“" in reply.reply
    assert f"(Quelle: {BASE}/leistungen/wohnsitz-anmelden)" in reply.reply
    assert "Bearbeitungsdauer" not in reply.reply  # a deadline is no processing time


def test_deadline_question_in_english(session: Session, detail_of: DetailOf) -> None:
    """In English from the English text (composed directly: the routing is not tested here)."""
    question = "How much time do I have to register my new address?"
    found = answers.findings(data(session, "wohnsitz-anmelden"), question, lang="en")
    d = detail_of("wohnsitz-anmelden", "en")
    reply = compose(d, ["duration"], Context(lang="en", service_url=d.url, findings=found))
    assert "According to the service description: “" in reply
    assert "within two weeks of moving in”" in reply
    assert f"(source: {d.url})" in reply


def test_validity_question_quotes_the_validity(session: Session) -> None:
    reply = ask(session, "Wie lange ist der Personalausweis gültig?")
    assert reply.service is not None and reply.service.id == "personalausweis"
    assert "Laut Leistungsbeschreibung (Gebühren):" in reply.reply
    assert "Gültigkeit 10 Jahre" in reply.reply and "Gültigkeit 6 Jahre" in reply.reply


def test_a_question_the_text_does_not_answer_is_said_so(session: Session) -> None:
    reply = ask(session, "Wie lange ist ein Führungszeugnis gültig?")
    assert reply.service is not None and reply.service.id == "fuehrungszeugnis"
    assert "Wie lange das gültig ist, liegt mir nicht gesichert vor." in reply.reply
    assert "0511 168-32000" in reply.reply
    assert "Laut Leistungsbeschreibung" not in reply.reply
    assert not re.search(r"\b\d+ (?:Jahre|Monate)\b", reply.reply)


def test_where_gives_addresses_from_the_location_data(session: Session) -> None:
    reply = ask(session, "Wo kann ich einen Reisepass beantragen?")
    assert reply.service is not None and reply.service.id == "reisepass"
    assert "Bürgeramt Aegi, Aegidientorplatz 1" in reply.reply  # the seeded address
    # the seeded offices have no opening hours: said so, none invented
    assert "Die Öffnungszeiten liegen mir nicht gesichert vor." in reply.reply
    assert not re.search(r"\d{2}:\d{2}", reply.reply)
    assert f"Alle Standorte: {BASE}/standorte." in reply.reply
    assert "Zuständig: Landeshauptstadt Hannover" in reply.reply  # the authority, second
    assert reply.reply.count("Bürgeramt ") <= 4  # at most three offices listed


def test_where_gives_the_hours_the_location_data_has(session: Session) -> None:
    aegi = session.get(Location, "aegi")
    assert aegi is not None
    aegi.opening_hours = {"mo": [["08:00", "12:00"]], "th": [["14:00", "18:00"]]}
    session.flush()
    reply = ask(session, "Wo kann ich einen Reisepass beantragen?")
    assert re.search(
        r"Zum Beispiel: Bürgeramt Aegi, Aegidientorplatz 1[^;(]*"
        r" \(geöffnet Mo 08:00-12:00; Th 14:00-18:00\); ",
        reply.reply,
    ), reply.reply


def test_online_activation_is_not_said_to_be_online(session: Session) -> None:
    reply = ask(session, "Kann ich die Online-Ausweisfunktion online aktivieren?")
    assert reply.service is not None and reply.service.id == "online-ausweisfunktion-pin"
    assert "Das geht online" not in reply.reply
    assert "„Online-Ausweisfunktion einschalten (aktivieren)“ geht nicht online." in reply.reply
    first = reply.reply.index("einschalten (aktivieren)“")
    assert first < reply.reply.index("„PIN selbst ändern")  # the asked variant first
    assert "Im Bürgeramt lassen Sie die Funktion einschalten." in reply.reply
