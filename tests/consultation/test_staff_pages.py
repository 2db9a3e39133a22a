"""The staff console of video consultations: login, role and CSRF on every route; the waiting
room in appointment order with waited minutes; admit (one at a time, a race answered 409 as a
friendly message), send back, end, guest link, note, handover and downloads, as plain forms and
as the console's script posts them (JSON)."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.appointment.models import Booking, OutboxMail
from servicepoint.catalog.models import Location
from servicepoint.config import Settings
from servicepoint.consultation import tokens
from servicepoint.consultation import uploads as video_uploads
from servicepoint.consultation.models import Consultation, ConsultationUpload
from servicepoint.core.clock import local, utcnow
from tests.conftest import csrf_of, login, make_user

BASE = "/mitarbeiter/video"
VIDEO = "videoberatung"
SERVICE = "gewerbe"  # offered by video and in person, no online form
JSON = {"Accept": "application/json"}


@pytest.fixture
def clerk(client: TestClient, session: Session) -> Iterator[TestClient]:
    make_user(session, "videoberaterin", "staff")
    login(client, "videoberaterin")
    yield client


def _video_location(session: Session) -> str:
    if session.get(Location, VIDEO) is None:  # seeded from capacity.yaml's `video:` section
        session.add(Location(id=VIDEO, name="Videoberatung", kind="video"))
        session.flush()
    return VIDEO


def citizen(
    session: Session,
    *,
    name: str,
    starts_in: int = 0,
    waited: int = 0,
    state: str = "waiting",
    present: bool = True,
) -> Consultation:
    """A video booking starting `starts_in` minutes from now whose citizen knocked `waited`
    minutes ago and (if `present`) still has the page open."""
    now = utcnow()
    start = now + dt.timedelta(minutes=starts_in)
    booking = Booking(
        code=secrets.token_hex(5).upper(),
        location_id=_video_location(session),
        start=start,
        end=start + dt.timedelta(minutes=20),
        service_ids=[SERVICE],
        name=name,
        email=f"{name.split()[0].lower()}@example.org",
        channel="video",
    )
    session.add(booking)
    session.flush()
    consultation = Consultation(
        booking_id=booking.id,
        state=state,
        knocked_at=now - dt.timedelta(minutes=waited),
        seen_at=now if present else now - dt.timedelta(minutes=5),
        connection=secrets.token_hex(8),
    )
    session.add(consultation)
    session.commit()
    return consultation


def code_of(session: Session, consultation: Consultation) -> str:
    booking = session.get(Booking, consultation.booking_id)
    assert booking is not None
    return booking.code


def state(session: Session, consultation: Consultation) -> str:
    session.refresh(consultation)
    return consultation.state


def post(client: TestClient, path: str, data: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    body = {"csrf_token": csrf_of(client), **(data or {})}
    return client.post(BASE + path, data=body, follow_redirects=False, **kw)  # type: ignore[arg-type]


def call_state(html: str) -> str:
    found = re.search(r'<main [^>]*data-call-state="([a-z]+)"', html)
    assert found, "no data-call-state on <main>"
    return found.group(1)


def button_names(html: str) -> list[str]:
    """The accessible names of the submit buttons (their text, tags removed)."""
    names = re.findall(r"<button[^>]*>(.*?)</button>", html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", n).split()) for n in names]


def admitted(client: TestClient, session: Session, name: str = "Erika Muster") -> Consultation:
    person = citizen(session, name=name, waited=3)
    resp = post(client, f"/{code_of(session, person)}/einlassen")
    assert resp.status_code == 303, resp.text
    return person


# -- access ---------------------------------------------------------------------------------------
def test_console_needs_login(client: TestClient) -> None:
    resp = client.get(BASE, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login?next=")


def test_console_needs_staff_role(client: TestClient, session: Session) -> None:
    make_user(session, "planerin", "planner")
    login(client, "planerin")
    assert client.get(BASE).status_code == 403
    person = citizen(session, name="Erika Muster")
    resp = client.post(f"{BASE}/{code_of(session, person)}/einlassen", data={"csrf_token": "x"})
    assert resp.status_code == 403
    assert state(session, person) == "waiting"


def test_actions_need_csrf(clerk: TestClient, session: Session) -> None:
    person = citizen(session, name="Erika Muster")
    code = code_of(session, person)
    for action in ("einlassen", "zurueck", "beenden", "gast", "notiz"):
        resp = clerk.post(f"{BASE}/{code}/{action}", data={"text": "x"}, follow_redirects=False)
        assert resp.status_code == 403, action
    assert state(session, person) == "waiting"


def test_console_is_private(clerk: TestClient) -> None:
    resp = clerk.get(BASE)
    assert resp.status_code == 200
    assert "no-store" in resp.headers["cache-control"]


def test_staff_home_links_the_console(clerk: TestClient) -> None:
    assert f'href="{BASE}"' in clerk.get("/mitarbeiter").text


# -- the waiting room -----------------------------------------------------------------------------
def test_waiting_room_in_appointment_order_with_waited_minutes(
    clerk: TestClient, session: Session
) -> None:
    later = citizen(session, name="Zora Spät", starts_in=10, waited=7)
    earlier = citizen(session, name="Anna Früh", starts_in=-5, waited=2)
    citizen(session, name="Tab Zu", starts_in=-8, waited=9, present=False)  # closed the tab
    html = clerk.get(BASE).text
    waiting = html[html.index('id="waiting-list"') : html.index('id="today-title"')]
    assert waiting.index("Anna Früh") < waiting.index("Zora Spät")
    assert "Tab Zu" not in waiting
    assert f'id="wait-{code_of(session, earlier)}"' in html
    assert "wartet seit 7 Min." in html and "wartet seit 2 Min." in html
    assert "2 Personen warten." in html
    assert call_state(html) == "waiting"
    assert queue_of(html) == "waiting"
    assert f'id="today-{code_of(session, later)}"' in html  # today's appointments too


def test_admit_button_names_person_and_time(clerk: TestClient, session: Session) -> None:
    person = citizen(session, name="Erika Muster", starts_in=5)
    booking = session.get(Booking, person.booking_id)
    assert booking is not None
    html = clerk.get(BASE).text
    expected = f"Eintreten lassen – Erika Muster, {local(booking.start):%H:%M}"
    assert expected in button_names(html)


def queue_of(html: str) -> str:
    found = re.search(r'<main [^>]*data-queue="([a-z]+)"', html)
    assert found, "no data-queue on <main>"
    return found.group(1)


def test_nobody_waits_is_said_by_the_queue_not_a_fifth_call_state(clerk: TestClient) -> None:
    html = clerk.get(BASE).text
    assert call_state(html) == "waiting"  # API.md: waiting, admitted, connected, ended only
    assert queue_of(html) == "empty"
    assert "0 Personen warten." in html
    assert not [n for n in button_names(html) if n.startswith("Eintreten lassen")]


# -- admit, send back, end ------------------------------------------------------------------------
def test_admit_with_a_plain_form(clerk: TestClient, session: Session) -> None:
    person = citizen(session, name="Erika Muster", waited=3)
    other = citizen(session, name="Max Mustermann", starts_in=10)
    resp = post(clerk, f"/{code_of(session, person)}/einlassen")
    assert resp.status_code == 303
    assert resp.headers["location"] == f"{BASE}?ok=eingelassen"
    assert state(session, person) == "admitted"
    html = clerk.get(resp.headers["location"]).text
    assert call_state(html) == "admitted"
    assert 'id="call-who"' in html and "Erika Muster" in html
    assert f'data-call-code="{code_of(session, person)}"' in html
    # One call at a time: the others' buttons give way to a note that says why.
    assert not [n for n in button_names(html) if n.startswith("Eintreten lassen")]
    assert 'id="busy-note" hidden' not in html
    assert f'id="wait-{code_of(session, other)}"' in html


def test_admit_from_the_script_answers_json(clerk: TestClient, session: Session) -> None:
    person = citizen(session, name="Erika Muster")
    resp = post(clerk, f"/{code_of(session, person)}/einlassen", headers=JSON)
    assert resp.status_code == 200
    body = resp.json()
    assert body["ok"] == "eingelassen" and body["state"] == "admitted"
    assert f'data-code="{code_of(session, person)}"' in body["panel"]
    assert "Zurück in den Wartebereich" in body["panel"]


def test_double_admit_is_a_friendly_409(clerk: TestClient, session: Session, app: object) -> None:
    person = citizen(session, name="Erika Muster")
    code = code_of(session, person)
    assert post(clerk, f"/{code}/einlassen").status_code == 303
    make_user(session, "zweiter", "staff")
    with TestClient(app) as second:  # type: ignore[arg-type]
        login(second, "zweiter")
        resp = post(second, f"/{code}/einlassen")
        assert resp.status_code == 409
        assert 'role="alert"' in resp.text and "<h1>Videoberatung</h1>" in resp.text
        as_json = post(second, f"/{code}/einlassen", headers=JSON)
        assert as_json.status_code == 409
        assert as_json.json()["error"] == "consultation_conflict"
    assert state(session, person) == "admitted"


def test_one_call_at_a_time(clerk: TestClient, session: Session) -> None:
    first = admitted(clerk, session)
    second = citizen(session, name="Max Mustermann")
    resp = post(clerk, f"/{code_of(session, second)}/einlassen")  # a stale page or second tab
    assert resp.status_code == 409
    assert "noch in einem Gespräch" in resp.text
    assert state(session, second) == "waiting" and state(session, first) == "admitted"


def test_admit_refuses_who_left(clerk: TestClient, session: Session) -> None:
    person = citizen(session, name="Tab Zu", present=False)
    resp = post(clerk, f"/{code_of(session, person)}/einlassen")
    assert resp.status_code == 409
    assert "nicht mehr im Wartebereich" in resp.text
    assert state(session, person) == "waiting"


def test_send_back_to_the_waiting_room(clerk: TestClient, session: Session) -> None:
    person = admitted(clerk, session)
    resp = post(clerk, f"/{code_of(session, person)}/zurueck")
    assert resp.status_code == 303 and resp.headers["location"] == f"{BASE}?ok=zurueck"
    assert state(session, person) == "waiting"
    html = clerk.get(resp.headers["location"]).text
    assert call_state(html) == "waiting"
    assert "Die Person wartet wieder im Wartebereich." in html
    assert any(n.startswith("Eintreten lassen – Erika Muster") for n in button_names(html))


def test_end_the_call(clerk: TestClient, session: Session) -> None:
    person = admitted(clerk, session)
    resp = post(clerk, f"/{code_of(session, person)}/beenden", headers=JSON)
    assert resp.status_code == 200
    assert resp.json()["state"] == "ended"
    assert state(session, person) == "ended"
    html = clerk.get(f"{BASE}?ok=beendet").text
    assert call_state(html) == "ended"
    assert 'id="call-none"' in html


def test_unknown_booking_is_404(clerk: TestClient) -> None:
    assert post(clerk, "/ABCDEF123456/einlassen").status_code == 404


# -- guest link, note, handover -------------------------------------------------------------------
def test_guest_link_is_shown_and_rotating_revokes_the_old(
    clerk: TestClient, session: Session, settings: Settings
) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    resp = post(clerk, f"/{code}/gast")
    assert resp.status_code == 200
    first = re.search(r'id="guest-url" type="text" readonly value="([^"]+)"', resp.text)
    assert first and "/video/gast/" in first.group(1)
    second = post(clerk, f"/{code}/gast", headers=JSON).json()["guest_url"]
    assert second != first.group(1)
    session.refresh(person)
    old, new = first.group(1).rsplit("/", 1)[1], second.rsplit("/", 1)[1]
    assert tokens.guest_matches(settings.secret_key, new, person.guest_nonce)
    assert not tokens.guest_matches(settings.secret_key, old, person.guest_nonce)


def test_note_goes_into_the_case(clerk: TestClient, session: Session) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    resp = post(clerk, f"/{code}/notiz", {"text": "Gewerbeanmeldung besprochen."})
    assert resp.status_code == 303 and resp.headers["location"] == f"{BASE}?ok=notiz"
    session.refresh(person)
    assert person.note == "Gewerbeanmeldung besprochen."
    assert "Gewerbeanmeldung besprochen." in clerk.get(BASE).text
    assert post(clerk, f"/{code}/notiz", {"text": "x" * 2001}).status_code == 422
    empty = post(clerk, f"/{code}/notiz", {"text": "  "})
    assert empty.status_code == 422 and 'role="alert"' in empty.text


def test_handover_mails_the_link(clerk: TestClient, session: Session) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    resp = post(clerk, f"/{code}/uebergabe", {"to": "appointment"}, headers=JSON)
    assert resp.status_code == 200, resp.text
    assert "/termine?service=gewerbe" in resp.json()["link"]
    session.refresh(person)
    assert person.handover == "appointment"
    mails = session.scalars(select(OutboxMail).where(OutboxMail.recipient == "erika@example.org"))
    assert any("/termine?service=gewerbe" in m.body for m in mails)


def test_handover_refused_is_explained(clerk: TestClient, session: Session) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    resp = post(clerk, f"/{code}/uebergabe", {"to": "application"})
    assert resp.status_code == 409
    assert "keinen Online-Antrag" in resp.text
    assert post(clerk, f"/{code}/uebergabe", {"to": "fax"}).status_code == 422


# -- documents ------------------------------------------------------------------------------------
def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, format="PNG")
    return out.getvalue()


def sent_document(
    session: Session, settings: Settings, person: Consultation, name: str
) -> ConsultationUpload:
    """A PNG the citizen sent during the call (stored and committed)."""
    stored = video_uploads.store(_png(), filename=name, settings=settings)
    row = ConsultationUpload(
        consultation_id=person.id,
        storage_key=stored.storage_key,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
    )
    session.add(row)
    session.commit()
    return row


def test_download_is_an_audited_attachment(
    clerk: TestClient, session: Session, settings: Settings
) -> None:
    person = admitted(clerk, session)
    code = code_of(session, person)
    row = sent_document(session, settings, person, "Ausweis <1>.png")
    html = clerk.get(BASE).text
    assert f'href="{BASE}/{code}/dokumente/{row.id}"' in html
    resp = clerk.get(f"{BASE}/{code}/dokumente/{row.id}")
    assert resp.status_code == 200
    assert resp.content == _png()
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in resp.headers["cache-control"]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.target == code)).all()
    assert "video_upload_download" in {a.action for a in audit}
    other = citizen(session, name="Max Mustermann")
    assert clerk.get(f"{BASE}/{code_of(session, other)}/dokumente/{row.id}").status_code == 404
    assert clerk.get(f"{BASE}/{code}/dokumente/99999").status_code == 404
    assert clerk.get(f"{BASE}/{code}/dokumente/0").status_code == 422


def test_download_needs_staff(client: TestClient, session: Session) -> None:
    person = citizen(session, name="Erika Muster")
    resp = client.get(f"{BASE}/{code_of(session, person)}/dokumente/1", follow_redirects=False)
    assert resp.status_code == 303
