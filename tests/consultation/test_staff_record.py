"""A video call's record for the case (note, documents, rating, handover), reachable after the
call from the console's "today" list; and whose call a clerk may act on: the console's HTTP
actions follow the WebSocket join's rule (the clerk who admitted it)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.config import Settings
from tests.conftest import login, make_user
from tests.consultation.test_staff_pages import (
    BASE,
    JSON,
    admitted,
    citizen,
    clerk,
    code_of,
    post,
    sent_document,
    state,
)

__all__ = ["clerk"]  # the fixture, used by name


def test_the_record_keeps_note_documents_rating_and_handover_after_the_call(
    clerk: TestClient, session: Session, settings: Settings
) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    assert post(clerk, f"/{code}/notiz", {"text": "Unterlagen vollständig."}).status_code == 303
    assert post(clerk, f"/{code}/uebergabe", {"to": "appointment"}).status_code == 303
    upload = sent_document(session, settings, person, "Ausweis.png")
    assert post(clerk, f"/{code}/beenden").status_code == 303
    person.rating = 4
    session.commit()
    console = clerk.get(BASE).text
    assert f'href="{BASE}/{code}"' in console  # linked from today's appointments
    page = clerk.get(f"{BASE}/{code}")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    html = page.text
    assert "Unterlagen vollständig." in html
    assert f'href="{BASE}/{code}/dokumente/{upload.id}"' in html and "Ausweis.png" in html
    assert "4 von 5" in html and "an einen Termin vor Ort" in html
    assert 'id="record-state">beendet<' in html
    english = clerk.get(f"{BASE}/{code}?lang=en").text
    assert '<html lang="en">' in english


def test_the_record_of_a_link_never_opened_and_of_no_booking(
    clerk: TestClient, session: Session
) -> None:
    person = citizen(session, name="Erika Muster", state="booked")
    html = clerk.get(f"{BASE}/{code_of(session, person)}").text
    assert 'id="record-state">noch nicht da<' in html
    assert clerk.get(f"{BASE}/NOPE12345678").status_code == 404


def test_the_record_is_for_staff_only(client: TestClient, session: Session) -> None:
    code = code_of(session, citizen(session, name="Erika Muster"))
    assert client.get(f"{BASE}/{code}", follow_redirects=False).status_code == 303
    make_user(session, "planerin", "planner")
    login(client, "planerin")
    assert client.get(f"{BASE}/{code}").status_code == 403


def test_only_the_clerk_who_admitted_acts_on_the_call(clerk: TestClient, session: Session) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    make_user(session, "zweite", "staff")
    login(clerk, "zweite")  # the same browser, another clerk
    for action, form in [
        ("zurueck", {}),
        ("beenden", {}),
        ("gast", {}),
        ("notiz", {"text": "x"}),
        ("uebergabe", {"to": "appointment"}),
    ]:
        answer = post(clerk, f"/{code}/{action}", form, headers=JSON)
        assert answer.status_code == 403, action
        assert answer.json()["error"] == "not_allowed"
    plain = post(clerk, f"/{code}/beenden")
    assert plain.status_code == 403 and "andere Mitarbeiterin" in plain.text
    assert state(session, person) == "admitted"
    # Reading the record is open to all staff, like any case.
    assert clerk.get(f"{BASE}/{code}").status_code == 200


def test_an_unknown_action_is_404(clerk: TestClient, session: Session) -> None:
    code = code_of(session, citizen(session, name="Erika Muster"))
    assert post(clerk, f"/{code}/loeschen", headers=JSON).status_code == 404
    assert post(clerk, f"/{code}/uebergabe", {}, headers=JSON).status_code == 422


def test_busy_keeps_the_consoles_own_words(clerk: TestClient, session: Session) -> None:
    admitted(clerk, session)
    other = citizen(session, name="Max Mustermann")
    answer = post(clerk, f"/{code_of(session, other)}/einlassen", headers=JSON)
    assert answer.status_code == 409 and answer.json()["error"] == "busy"
    assert "schicken Sie die Person zurück" in answer.json()["detail"]
