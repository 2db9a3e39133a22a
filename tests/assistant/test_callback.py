"""Callback requests, the assistant's handover to a person: a citizen asks from the page, staff
call back and mark it done, and the phone number is gone after the call or the retention time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.assistant import callback
from servicepoint.assistant.errors import InvalidCallback
from servicepoint.assistant.models import CallbackRequest
from servicepoint.config import Settings
from servicepoint.core.events import Event
from servicepoint.worker import run_once
from tests.conftest import csrf_of, login, make_user

FORM = "/rueckruf"
STAFF = "/mitarbeiter/rueckrufe"


def requests(session: Session) -> list[CallbackRequest]:
    session.expire_all()
    return list(session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


def events_of(session: Session, kind: str) -> int:
    return session.scalar(select(func.count(Event.id)).where(Event.kind == kind)) or 0


def submit(client: TestClient, **fields: Any) -> Any:
    data = {
        "csrf_token": csrf_of(client),
        "phone": "0511 / 123 45-67",
        "topic": "Ich finde meine Frage nicht: Wer hilft bei der Hundemarke?",
        "window": "morning",
        "name": "Erika",
        **fields,
    }
    return client.post(FORM, data=data, follow_redirects=False)


@pytest.fixture
def staff(client: TestClient, session: Session) -> TestClient:
    make_user(session, "service-team", "staff")
    login(client, "service-team")
    return client


# -- citizens ---------------------------------------------------------------------------------
def test_the_form_is_german_by_default_and_english_on_request(client: TestClient) -> None:
    page = client.get(FORM)
    assert page.status_code == 200
    assert "Rückruf anfordern" in page.text and 'name="phone"' in page.text
    assert "0511 168-32000" in page.text  # the service phone from the city data
    client.cookies.set("sp_lang", "en")
    english = client.get(FORM)
    assert "Request a callback" in english.text and "morning (8 am – 12 noon)" in english.text


def test_a_request_is_stored_with_a_dialable_number_and_no_other_personal_data(
    client: TestClient, session: Session
) -> None:
    resp = submit(
        client, topic="Es geht um meinen Ausweis T220001293, erreichbar auch unter a@b.de"
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/rueckruf/danke"
    assert "ruft Sie zurück" in client.get("/rueckruf/danke").text
    (entry,) = requests(session)
    assert entry.phone == "05111234567" and entry.name == "Erika" and entry.window == "morning"
    assert "T220001293" not in entry.topic and "a@b.de" not in entry.topic
    assert entry.status == "open" and entry.lang == "de"
    assert events_of(session, "callback.requested") == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": ""}, "Telefonnummer aus Ziffern"),
        ({"phone": "call me maybe"}, "Telefonnummer aus Ziffern"),
        ({"phone": "12345"}, "6 bis 20 Ziffern"),
        ({"phone": "+49 " + "1" * 25}, "6 bis 20 Ziffern"),
        ({"topic": "   "}, "worum es geht"),
        ({"topic": "x" * 501}, "zu lang"),
        ({"window": "midnight"}, "Tageszeit"),
    ],
)
def test_bad_input_shows_the_form_again_and_stores_nothing(
    client: TestClient, session: Session, fields: dict[str, str], message: str
) -> None:
    resp = submit(client, **fields)
    assert resp.status_code == 422
    assert message in resp.text and 'role="alert"' in resp.text
    if fields.get("phone"):
        assert fields["phone"] in resp.text  # what was typed is kept for correcting
    assert requests(session) == []


def test_errors_come_in_english_on_english_pages(client: TestClient, session: Session) -> None:
    client.cookies.set("sp_lang", "en")
    resp = submit(client, phone="12")
    assert resp.status_code == 422 and "must have 6 to 20 digits" in resp.text
    assert requests(session) == []


def test_oversized_and_hostile_fields_are_refused(client: TestClient, session: Session) -> None:
    assert submit(client, topic="x" * 5000).status_code == 422  # longer than the form allows
    assert submit(client, name="<script>alert(1)</script>" * 20).status_code == 422
    assert requests(session) == []


def test_the_form_needs_its_csrf_token(client: TestClient, session: Session) -> None:
    resp = client.post(FORM, data={"phone": "0511 1234567", "topic": "Frage"})
    assert resp.status_code == 403
    assert requests(session) == []


def test_requests_are_rate_limited_per_address(
    client: TestClient, session: Session, settings: Settings
) -> None:
    for _ in range(settings.callback_rate_limit):
        assert submit(client).status_code == 303
    blocked = submit(client)
    assert blocked.status_code == 429
    assert len(requests(session)) == settings.callback_rate_limit


def test_the_assistant_offers_a_callback_when_it_cannot_help(client: TestClient) -> None:
    body = client.post("/api/assistant/ask", json={"message": "Wie wird das Wetter morgen?"})
    assert body.status_code == 200
    urls = [a["url"] for a in body.json()["actions"] if a["type"] == "handover"]
    assert any(url.endswith("/rueckruf") for url in urls), urls


# -- staff ------------------------------------------------------------------------------------
def test_staff_pages_need_a_login(client: TestClient) -> None:
    page = client.get(STAFF, follow_redirects=False)
    assert page.status_code in (303, 401)
    done = client.post(f"{STAFF}/1", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert done.status_code in (303, 401, 403)


def test_staff_call_back_and_the_number_is_deleted_at_once(
    staff: TestClient, session: Session
) -> None:
    submit(staff, phone="+49 176 5551234", name="<b>Jona</b>")
    entry = requests(session)[0]
    page = staff.get(STAFF)
    assert page.status_code == 200
    assert "+491765551234" in page.text and "vormittags" in page.text
    assert "&lt;b&gt;Jona&lt;/b&gt;" in page.text and "<b>Jona</b>" not in page.text
    done = staff.post(
        f"{STAFF}/{entry.id}", data={"csrf_token": csrf_of(staff)}, follow_redirects=False
    )
    assert done.status_code == 303
    (after,) = requests(session)
    assert after.status == "done" and after.phone is None and after.name is None
    assert "+491765551234" not in staff.get(STAFF).text
    assert events_of(session, "callback.done") == 1
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "callback.done"))
    assert audit.first() is not None
    again = staff.post(
        f"{STAFF}/{entry.id}", data={"csrf_token": csrf_of(staff)}, follow_redirects=False
    )
    assert again.status_code == 404


def test_the_worker_deletes_everything_after_the_retention_time(
    session: Session, settings: Settings
) -> None:
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    old = callback.request_callback(
        session, phone="0511 1234567", topic="alt", now=now - dt.timedelta(days=20)
    )
    called = callback.request_callback(
        session, phone="0511 7654321", topic="erledigt", now=now - dt.timedelta(days=20)
    )
    fresh = callback.request_callback(session, phone="0511 1111111", topic="neu", now=now)
    session.flush()
    callback.mark_done(session, request_id=called.id, now=now - dt.timedelta(days=19))
    report = run_once(session, settings=settings, now=now)
    assert report.callbacks_purged == 2
    by_id = {r.id: r for r in requests(session)}
    assert by_id[old.id].status == "expired" and by_id[old.id].phone is None
    assert by_id[old.id].topic == "" and by_id[called.id].topic == ""
    assert by_id[called.id].status == "done"
    assert by_id[fresh.id].phone == "05111111111" and by_id[fresh.id].topic == "neu"
    assert events_of(session, "callback.expired") == 1
    assert run_once(session, settings=settings, now=now).callbacks_purged == 0


def test_phone_numbers_are_normalised_or_refused() -> None:
    assert callback.normalise_phone(" (0511) 168-32000 ") == "051116832000"
    assert callback.normalise_phone("+49 511 1234567") == "+495111234567"
    for bad in ("", "abc", "0511 12a45", "++49 511 1234567", "123"):
        with pytest.raises(InvalidCallback):
            callback.normalise_phone(bad)
