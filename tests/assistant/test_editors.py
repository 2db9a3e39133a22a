"""The editors' loop: unanswered questions are kept without personal data, listed grouped for
staff, and once attached to a service the same (and similar) questions get the right answer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.assistant import service as assistant_service
from servicepoint.assistant.models import LoggedQuestion
from servicepoint.catalog.models import ServiceTerm
from tests.conftest import csrf_of, login, make_user

ASK = "/api/assistant/ask"
EDITOR = "/mitarbeiter/assistent"
# "Flitzerschein" is no word the catalog knows: a made-up colloquial name for the driving licence.
QUESTION = "Wie bekomme ich einen Flitzerschein?"
WITH_DATA = (
    "Wie bekomme ich einen Flitzerschein? Bitte an jona.muster@example.org "
    "oder 0176 55512345, geboren 03.04.1999"
)


def ask(client: TestClient, message: str, **extra: Any) -> dict[str, Any]:
    resp = client.post(ASK, json={"message": message, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def logged(session: Session, word: str) -> list[LoggedQuestion]:
    session.expire_all()
    rows = session.scalars(select(LoggedQuestion).order_by(LoggedQuestion.id)).all()
    return [r for r in rows if word.lower() in r.text.lower()]


@pytest.fixture
def editor(client: TestClient, session: Session) -> str:
    """A staff member logged in on `client`; returns a CSRF token for the forms."""
    make_user(session, "redaktion", "staff")
    login(client, "redaktion")
    return csrf_of(client)


def group_id(session: Session, word: str) -> int:
    rows = logged(session, word)
    assert rows, f"no logged question with {word!r}"
    return rows[0].id


# -- logging without personal data -----------------------------------------------------------


def test_unanswerable_question_is_logged_without_personal_data(
    client: TestClient, session: Session
) -> None:
    body = ask(client, WITH_DATA)
    assert body["service"] is None
    rows = logged(session, "Flitzerschein")
    assert len(rows) == 1
    row = rows[0]
    assert row.reason == "out_of_scope"
    assert row.handled_at is None
    for secret in ("jona", "example.org", "@", "55512345", "0176", "1999", "03.04"):
        assert secret not in row.text
        assert secret not in row.group_key
    assert "[E-Mail]" in row.text and "[Nummer]" in row.text and "[Datum]" in row.text
    assert row.text.startswith(QUESTION)


def test_well_answered_questions_are_not_logged(client: TestClient, session: Session) -> None:
    ask(client, "Was kostet ein Reisepass?")
    assert session.scalars(select(LoggedQuestion)).all() == []


def test_similar_questions_are_grouped(client: TestClient, session: Session) -> None:
    ask(client, QUESTION)
    ask(client, "wie bekomme ich einen flitzerschein")
    ask(client, "Flitzerschein: wie bekomme ich einen?")
    ask(client, "Wo gibt es Kürbissuppe?")
    groups = assistant_service.open_groups(session)
    by_size = {g.count: g for g in groups}
    assert 3 in by_size
    assert "flitzerschein" in by_size[3].example.lower()
    assert len(by_size[3].ids) == 3
    assert any("Kürbissuppe" in g.example for g in groups if g.count == 1)


# -- the staff page --------------------------------------------------------------------------


def test_editor_page_needs_a_staff_login(client: TestClient, session: Session) -> None:
    resp = client.get(EDITOR, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login?next=")
    make_user(session, "planung", "planner")
    login(client, "planung")
    assert client.get(EDITOR).status_code == 403


def test_editor_page_lists_questions_grouped(
    client: TestClient, session: Session, editor: str
) -> None:
    ask(client, WITH_DATA)
    ask(client, QUESTION)
    ask(client, "wie bekomme ich einen flitzerschein")
    resp = client.get(EDITOR)
    assert resp.status_code == 200
    # Grouped by meaning: the one with contact details (scrubbed) asks the same thing.
    assert "flitzerschein" in resp.text
    assert "3 Mal gefragt" in resp.text
    assert "jona.muster" not in resp.text and "55512345" not in resp.text
    # One form per group, acting on one of the group's questions.
    forms = set(re.findall(rf'action="{EDITOR}/(\d+)"', resp.text))
    assert len(forms) == 1
    assert forms <= {str(row.id) for row in logged(session, "Flitzerschein")}


def test_teach_needs_csrf(client: TestClient, session: Session, editor: str) -> None:
    ask(client, QUESTION)
    qid = group_id(session, "Flitzerschein")
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"action": "teach", "service_id": "fuehrerschein", "kind": "keyword"},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert logged(session, "Flitzerschein")[0].handled_at is None


def test_anonymous_cannot_teach(client: TestClient, session: Session) -> None:
    ask(client, QUESTION)
    qid = group_id(session, "Flitzerschein")
    token = csrf_of(client)
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": token, "action": "teach", "service_id": "fuehrerschein"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login")
    assert logged(session, "Flitzerschein")[0].handled_at is None


# -- teaching --------------------------------------------------------------------------------


def test_teaching_a_keyword_makes_later_questions_answered(
    client: TestClient, session: Session, editor: str
) -> None:
    assert ask(client, QUESTION)["service"] is None
    ask(client, "wie bekomme ich einen flitzerschein")
    qid = group_id(session, "Flitzerschein")

    resp = client.post(
        f"{EDITOR}/{qid}",
        data={
            "csrf_token": editor,
            "action": "teach",
            "service_id": "fuehrerschein",
            "kind": "keyword",
            "text": "Flitzerschein",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == EDITOR

    # The whole group is handled and leaves the list.
    rows = logged(session, "Flitzerschein")
    assert len(rows) == 2
    assert all(r.handled_at is not None and r.handled_service_id == "fuehrerschein" for r in rows)
    assert "Flitzerschein" not in client.get(EDITOR).text

    # The catalog learnt a citizen word.
    term = session.scalars(select(ServiceTerm).where(ServiceTerm.text == "Flitzerschein")).one()
    assert (term.service_id, term.kind, term.origin, term.lang) == (
        "fuehrerschein",
        "keyword",
        "editor",
        "de",
    )

    # The same question, and close variants, now get the driving licence.
    for question in (QUESTION, "Was kostet ein Flitzerschein?", "flitzerschein umtauschen"):
        body = ask(client, question)
        assert body["service"] is not None, question
        assert body["service"]["name"] == "Führerschein beantragen, umtauschen oder ersetzen"

    # The audit log says who did it.
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "assistant.teach")).one()
    assert entry.username == "redaktion"
    assert entry.target == "fuehrerschein"
    assert entry.detail == {"question": qid}


def test_teaching_the_question_as_an_example(
    client: TestClient, session: Session, editor: str
) -> None:
    ask(client, WITH_DATA)
    qid = group_id(session, "Flitzerschein")
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": editor, "action": "teach", "service_id": "fuehrerschein"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    term = session.scalars(
        select(ServiceTerm).where(ServiceTerm.origin == "editor", ServiceTerm.kind == "example")
    ).one()
    # The stored example is the logged (scrubbed) question, never the personal data.
    assert term.text.startswith(QUESTION)
    assert "jona" not in term.text and "55512345" not in term.text
    # The very question, asked again, and close variants now get the driving licence.
    for question in (QUESTION, "Wie bekomme ich den Flitzerschein?", "Flitzerschein Kosten"):
        body = ask(client, question)
        assert body["service"] is not None, question
        assert body["service"]["id"] == "fuehrerschein"
    # The unknown word became a citizen word; no word of the personal data did.
    learnt = session.scalars(
        select(ServiceTerm.text).where(
            ServiceTerm.origin == "editor", ServiceTerm.kind == "keyword"
        )
    ).all()
    assert learnt == ["Flitzerschein"]


def test_teach_without_a_service_keeps_the_question(
    client: TestClient, session: Session, editor: str
) -> None:
    """'Zuordnen' without choosing a service must not silently discard the question."""
    ask(client, QUESTION)
    qid = group_id(session, "Flitzerschein")
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": editor, "action": "teach", "service_id": ""},
        follow_redirects=False,
    )
    assert resp.status_code == 422
    assert logged(session, "Flitzerschein")[0].handled_at is None
    assert (
        session.scalars(select(AuditEntry).where(AuditEntry.action.like("assistant.%"))).all() == []
    )


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"action": "teach", "service_id": "gibt-es-nicht"}, 404),
        ({"action": "delete"}, 422),
        ({"action": "teach", "service_id": "fuehrerschein", "kind": "synonym"}, 422),
    ],
)
def test_teach_bad_input(
    client: TestClient, session: Session, editor: str, data: dict[str, str], status: int
) -> None:
    ask(client, QUESTION)
    qid = group_id(session, "Flitzerschein")
    resp = client.post(f"{EDITOR}/{qid}", data={"csrf_token": editor, **data})
    assert resp.status_code == status


def test_teach_unknown_question_is_404(client: TestClient, editor: str) -> None:
    for action in ("teach", "dismiss"):
        resp = client.post(
            f"{EDITOR}/999999",
            data={"csrf_token": editor, "action": action, "service_id": "fuehrerschein"},
        )
        assert resp.status_code == 404


# -- thumbs down and dismissing --------------------------------------------------------------


def test_thumbs_down_logs_the_question_as_unhelpful(
    client: TestClient, session: Session, editor: str
) -> None:
    body = ask(client, "Was kostet ein Reisepass? Ich bin unter lena@example.org erreichbar")
    resp = client.post(
        "/api/assistant/feedback",
        json={
            "conversation_id": body["conversation_id"],
            "message_id": body["message_id"],
            "helpful": False,
        },
    )
    assert resp.status_code == 204
    rows = [r for r in logged(session, "Reisepass") if r.reason == "unhelpful"]
    assert len(rows) == 1
    assert rows[0].guess_service_id == "reisepass"
    assert "lena@example.org" not in rows[0].text
    page = client.get(EDITOR).text
    assert "Was kostet ein Reisepass?" in page and "unhelpful" in page


def test_thumbs_up_logs_nothing(client: TestClient, session: Session) -> None:
    body = ask(client, "Was kostet ein Reisepass?")
    resp = client.post(
        "/api/assistant/feedback",
        json={
            "conversation_id": body["conversation_id"],
            "message_id": body["message_id"],
            "helpful": True,
        },
    )
    assert resp.status_code == 204
    assert session.scalars(select(LoggedQuestion)).all() == []


def test_dismiss_removes_the_group_without_teaching(
    client: TestClient, session: Session, editor: str
) -> None:
    ask(client, "Wo kann ich meinen Schnurzelpass abgeben?")
    ask(client, "wo kann ich meinen schnurzelpass abgeben")
    qid = group_id(session, "Schnurzelpass")
    terms_before = session.scalars(select(ServiceTerm.id)).all()
    resp = client.post(
        f"{EDITOR}/{qid}",
        data={"csrf_token": editor, "action": "dismiss"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    rows = logged(session, "Schnurzelpass")
    assert all(r.handled_at is not None and r.handled_service_id is None for r in rows)
    assert "Schnurzelpass" not in client.get(EDITOR).text
    assert session.scalars(select(ServiceTerm.id)).all() == terms_before
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "assistant.dismiss")
    ).one()
    assert (entry.username, entry.target, entry.detail) == ("redaktion", None, {"question": qid})
    # A new question of that kind is listed again.
    ask(client, "Wo kann ich meinen Schnurzelpass abgeben?")
    assert "Schnurzelpass" in client.get(EDITOR).text


def test_open_count(client: TestClient, session: Session) -> None:
    assert assistant_service.open_count(session) == 0
    ask(client, QUESTION)
    ask(client, "Wo kann ich meinen Schnurzelpass abgeben?")
    session.expire_all()
    assert assistant_service.open_count(session) == 2
