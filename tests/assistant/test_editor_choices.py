"""The editors' loop offers three equal choices and pre-selects a service only where the
assistant was sure (issue 14: 11 of 13 open questions had a wrong service pre-selected)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.assistant import service as assistant_service
from servicepoint.assistant.dialogue import policy
from servicepoint.assistant.models import LoggedQuestion
from servicepoint.catalog.models import ServiceTerm
from tests.conftest import csrf_of, login, make_user

EDITOR = "/mitarbeiter/assistent"


@pytest.fixture
def editor(client: TestClient, session: Session) -> str:
    make_user(session, "redaktion", "staff")
    login(client, "redaktion")
    return csrf_of(client)


def logged(session: Session, text: str, reason: str, confidence: float) -> int:
    assistant_service.log_question(
        session, text=text, lang="de", reason=reason, guess="reisepass", confidence=confidence
    )
    session.flush()
    return session.scalars(select(LoggedQuestion.id).where(LoggedQuestion.text == text)).one()


def form_of(page: str, question_id: int) -> str:
    start = page.index(f'action="{EDITOR}/{question_id}"')
    return page[start : page.index("</form>", start)]


def selected(form: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', form)


def test_an_unsure_guess_is_not_preselected(
    client: TestClient, session: Session, editor: str
) -> None:
    unsure = policy()["answer_threshold"] - 0.2
    qid = logged(session, "Wie komme ich an ein Dingsbums?", "low_confidence", unsure)
    page = client.get(EDITOR).text
    assert selected(form_of(page, qid)) == []
    # The guess is still there to read, said to be unsure.
    assert "nicht vorausgewählt: Reisepass beantragen" in page


def test_a_sure_guess_is_preselected(client: TestClient, session: Session, editor: str) -> None:
    sure = max(policy()["answer_threshold"] + 0.05, 0.9)
    qid = logged(session, "Reisepass oder Kinderreisepass?", "low_confidence", sure)
    assert selected(form_of(client.get(EDITOR).text, qid)) == ["reisepass"]


def test_an_answer_rated_unhelpful_is_not_preselected(
    client: TestClient, session: Session, editor: str
) -> None:
    qid = logged(session, "Was kostet ein Reisepass?", "unhelpful", 0.99)
    assert selected(form_of(client.get(EDITOR).text, qid)) == []


def test_the_three_choices_have_equal_weight(
    client: TestClient, session: Session, editor: str
) -> None:
    qid = logged(session, "Wie komme ich an ein Dingsbums?", "out_of_scope", 0.1)
    form = form_of(client.get(EDITOR).text, qid)
    radios = re.findall(r'<input type="radio"[^>]*value="(\w+)"[^>]*>\s*<label[^>]*>([^<]*)<', form)
    assert radios == [
        ("teach", "Zuordnen"),
        ("elsewhere", "Zuständigkeit anderswo"),
        ("dismiss", "Ignorieren"),
    ]
    # Another authority's matter is a visible choice of its own, and none is chosen in advance.
    assert "checked" not in form
    assert len(re.findall(r"<button", form)) == 1


@pytest.mark.parametrize(
    ("action", "handled_as"), [("elsewhere", "elsewhere"), ("dismiss", "ignored")]
)
def test_settling_without_teaching(
    client: TestClient, session: Session, editor: str, action: str, handled_as: str
) -> None:
    qid = logged(session, "Wie beantrage ich Wohngeld?", "out_of_scope", 0.1)
    logged(session, "wie beantrage ich wohngeld", "out_of_scope", 0.1)  # same group
    terms_before = session.scalars(select(ServiceTerm.id)).all()
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": editor, "action": action, "service_id": "reisepass"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    session.expire_all()
    rows = session.scalars(select(LoggedQuestion)).all()
    assert {(r.handled_as, r.handled_service_id) for r in rows} == {(handled_as, None)}
    assert all(r.handled_at is not None for r in rows)
    assert session.scalars(select(ServiceTerm.id)).all() == terms_before
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == f"assistant.{action}")
    ).one()
    assert entry.target is None
    assert "Wohngeld" not in client.get(EDITOR).text


def test_teaching_records_how_it_was_handled(
    client: TestClient, session: Session, editor: str
) -> None:
    qid = logged(session, "Wie bekomme ich einen Flitzerpass?", "out_of_scope", 0.1)
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": editor, "action": "teach", "service_id": "reisepass"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    session.expire_all()
    row = session.get(LoggedQuestion, qid)
    assert row is not None and (row.handled_as, row.handled_service_id) == ("taught", "reisepass")


def test_an_unknown_choice_is_refused(client: TestClient, session: Session, editor: str) -> None:
    qid = logged(session, "Wie beantrage ich Wohngeld?", "out_of_scope", 0.1)
    resp = client.post(f"{EDITOR}/{qid}", data={"csrf_token": editor, "action": "forget"})
    assert resp.status_code == 422
    session.expire_all()
    assert session.get(LoggedQuestion, qid).handled_at is None  # type: ignore[union-attr]


def test_the_choices_in_english(client: TestClient, session: Session, editor: str) -> None:
    qid = logged(session, "Wie komme ich an ein Dingsbums?", "out_of_scope", 0.1)
    form = form_of(client.get(f"{EDITOR}?lang=en").text, qid)
    assert all(label in form for label in ("Another authority's matter", "Ignore", "Assign"))
