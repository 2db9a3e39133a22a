"""The citizen's and the guest's video pages: the join page in each state with the markers the
contract names (data-call-state, video[data-remote]), refusals as pages (403/410) in German and
English, documents (413/415/409 and OK, as a page and as JSON), ending the call, the one-click
rating, the fallback, the guest page, and what the page is without JavaScript (no inline
script; state, checklist, privacy note and phone are there)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.app import create_app
from servicepoint.config import Settings
from servicepoint.consultation import service
from servicepoint.consultation.models import Consultation, ConsultationUpload
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import translate
from tests.conftest import csrf_in
from tests.consultation.support import (
    PDF,
    PNG,
    clerk,
    in_call,
    join_token,
    video_booking,
    video_location,
    waiting,
)

JSON = {"Accept": "application/json"}
PHONE = "0511 168-32000"  # data/hannover/city.yaml service_phone


@pytest.fixture
def booking_path(session: Session, settings: Settings) -> Iterator[tuple[str, int]]:
    """A video booking starting now: its join path and booking id."""
    booking = video_booking(session)
    session.commit()
    yield f"/video/{join_token(settings, booking)}", booking.id


def _state(html: str) -> str:
    found = re.search(r'<main[^>]*data-call-state="(\w+)"', html)
    assert found, "no data-call-state on <main>"
    return found.group(1)


def _consultation(session: Session, booking_id: int) -> Consultation:
    session.expire_all()
    return session.scalars(select(Consultation).where(Consultation.booking_id == booking_id)).one()


def _form_token(client: TestClient, path: str) -> str:
    return csrf_in(client.get(path).text)


def _post(client: TestClient, path: str, action: str, token: str, **fields: str) -> Response:
    """A form of the page posted by its script (JSON answer)."""
    answer: Response = client.post(
        f"{path}/{action}", data={"csrf_token": token, **fields}, headers=JSON
    )
    return answer


# --- the join page --------------------------------------------------------------------------


def test_join_page_is_a_waiting_room_with_checklist_privacy_and_phone(
    client: TestClient, booking_path: tuple[str, int], settings: Settings
) -> None:
    path, _ = booking_path
    page = client.get(path)
    assert page.status_code == 200
    html = page.text
    assert _state(html) == "waiting"
    assert "no-store" in page.headers.get("cache-control", "")
    assert "<video data-remote" in html
    assert 'id="call-status"' in html and 'aria-live="polite"' in html
    assert "Kamera und Mikrofon prüfen" in html and 'id="mic-level"' in html
    assert "Personalausweis oder Reisepass" in html  # gewerbe's documents (catalog data)
    assert "DTLS-SRTP" in html and "Nichts wird aufgezeichnet" in html
    assert f"{settings.video_upload_retention_days} Tage nach dem Gespräch" in html
    assert PHONE in html and 'href="tel:051116832000"' in html
    assert "<noscript>" in html and "JavaScript" in html


def test_join_page_has_no_inline_script_and_its_config_is_json(
    client: TestClient, booking_path: tuple[str, int]
) -> None:
    path, _ = booking_path
    html = client.get(path).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    config = json.loads(re.search(r'id="call-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert config["ws"] == f"{path}/ws" and config["role"] == "citizen"
    assert config["state"] == "waiting" and config["text"]["place"]


def test_waiting_citizen_sees_own_place_and_estimate_and_nothing_about_others(
    client: TestClient, session: Session, settings: Settings
) -> None:
    now = utcnow()
    first = video_booking(session, start=now - dt.timedelta(minutes=1), name="Anna Vorher")
    waiting(session, settings, first, now=now, connection="tab-a")
    own = video_booking(session, start=now, name="Erika Selbst")
    waiting(session, settings, own, now=now, connection="tab-b")
    session.commit()
    html = client.get(f"/video/{join_token(settings, own)}").text
    assert "Ihr Platz in der Warteschlange: 2" in html
    assert "Vor Ihnen wartet eine Person." in html
    assert "Geschätzte Wartezeit" in html or "Es geht gleich los." in html
    assert "Anna Vorher" not in html and first.code not in html


def test_a_clerk_running_late_is_said_honestly(
    client: TestClient, session: Session, settings: Settings
) -> None:
    now = utcnow()
    video_location(session, counters=1)  # one clerk, busy with a call past its planned end
    overrun = video_booking(session, start=now - dt.timedelta(minutes=40), minutes=15)
    in_call(session, settings, overrun, now=now - dt.timedelta(minutes=40))
    own = video_booking(session, start=now - dt.timedelta(minutes=5))
    waiting(session, settings, own, now=now)
    session.commit()
    html = client.get(f"/video/{join_token(settings, own)}").text
    assert "Ihr Termin verzögert sich" in html
    assert "Ihr Platz in der Warteschlange: 1" in html
    assert re.search(r"etwa (\d+) Minuten", html)


def test_admitted_and_ended_states_are_marked_on_main(
    client: TestClient, session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    session.commit()
    path = f"/video/{join_token(settings, booking)}"
    assert _state(client.get(path).text) == "admitted"
    service.end(session, code=booking.code, clerk=clerk(session))
    session.commit()
    html = client.get(path).text
    assert _state(html) == "ended"
    assert html.count('name="rating"') == 5


# --- refusals -------------------------------------------------------------------------------


def _refusal(session: Session, settings: Settings, case: str) -> str:
    now = utcnow()
    if case == "bad_token":
        booking = video_booking(session)
        token = join_token(settings, booking)
        return f"/video/{token[:-4]}{'0000' if not token.endswith('0000') else '1111'}"
    options = {
        "too_early": {"start": now + dt.timedelta(hours=3)},
        "expired": {"start": now - dt.timedelta(hours=3)},
        "cancelled": {"status": "cancelled"},
    }[case]
    return f"/video/{join_token(settings, video_booking(session, **options))}"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "status", "heading_de"),
    [
        ("bad_token", 403, "Dieser Link funktioniert nicht"),
        ("too_early", 403, "Der Wartebereich ist noch nicht geöffnet"),
        ("expired", 410, "Dieser Link gilt nicht mehr"),
        ("cancelled", 410, "Dieser Link gilt nicht mehr"),
    ],
)
def test_a_refused_link_is_a_page_in_german_and_english(
    client: TestClient,
    session: Session,
    settings: Settings,
    case: str,
    status: int,
    heading_de: str,
) -> None:
    path = _refusal(session, settings, case)
    session.commit()
    german = client.get(path)
    assert german.status_code == status
    assert '<html lang="de">' in german.text and heading_de in german.text
    assert "data-call-state" not in german.text
    english = client.get(f"{path}?lang=en")
    assert english.status_code == status
    assert '<html lang="en">' in english.text
    assert translate("en", heading_de) in english.text
    if case == "too_early":
        assert re.search(r"\b\d\d:\d\d\b", german.text)  # when the waiting room opens


def test_a_token_of_a_booking_that_is_no_video_call_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    booking = video_booking(session, channel="in_person")
    session.commit()
    assert client.get(f"/video/{join_token(settings, booking)}").status_code == 403


# --- documents ------------------------------------------------------------------------------


@pytest.fixture
def call_path(client: TestClient, session: Session, settings: Settings) -> tuple[str, int]:
    booking = video_booking(session)
    in_call(session, settings, booking)
    session.commit()
    return f"/video/{join_token(settings, booking)}", booking.id


def _send(
    client: TestClient, path: str, name: str, data: bytes, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    token = _form_token(client, path)
    answer = client.post(
        f"{path}/dokument",
        data={"csrf_token": token},
        files={"dokument": (name, data, "application/pdf")},
        headers=headers or {},
        follow_redirects=False,
    )
    return answer.status_code, answer.text


def test_a_document_in_the_call_goes_to_the_clerk(
    client: TestClient, session: Session, call_path: tuple[str, int]
) -> None:
    path, booking_id = call_path
    status, _ = _send(client, path, "ausweis.pdf", PDF)
    assert status == 303
    status, body = _send(client, path, "foto.png", PNG, JSON)
    assert status == 201 and json.loads(body)["name"].endswith(".png")
    consultation = _consultation(session, booking_id)
    rows = session.scalars(
        select(ConsultationUpload).where(ConsultationUpload.consultation_id == consultation.id)
    ).all()
    assert [r.content_type for r in rows] == ["application/pdf", "image/png"]


def test_a_document_too_large_or_of_the_wrong_type_is_refused_on_the_page(
    client: TestClient, call_path: tuple[str, int], settings: Settings
) -> None:
    path, _ = call_path
    big = PDF + b"0" * settings.upload_max_bytes
    status, html = _send(client, path, "gross.pdf", big)
    assert status == 413
    assert 'id="upload-error"' in html and _state(html) == "admitted"
    status, html = _send(client, path, "rechnung.pdf", b"MZ\x90\x00" + b"\x00" * 512)
    assert status == 415 and 'id="upload-error"' in html
    status, body = _send(client, path, "rechnung.pdf", b"MZ\x90\x00" + b"\x00" * 512, JSON)
    assert status == 415 and json.loads(body)["error"] == "unsupported_media_type"


def test_upload_errors_speak_english_on_an_english_page(
    client: TestClient, call_path: tuple[str, int], settings: Settings
) -> None:
    path, _ = call_path
    client.get(f"{path}?lang=en")  # the language is remembered for the form post
    status, html = _send(client, path, "gross.pdf", PDF + b"0" * settings.upload_max_bytes)
    assert status == 413 and '<html lang="en">' in html


def test_no_documents_before_admission_or_without_a_file(
    client: TestClient, booking_path: tuple[str, int], session: Session, settings: Settings
) -> None:
    path, _ = booking_path
    status, body = _send(client, path, "ausweis.pdf", PDF, JSON)
    assert status == 409 and json.loads(body)["error"] == "not_admitted"
    token = _form_token(client, path)
    empty = client.post(f"{path}/dokument", data={"csrf_token": token}, headers=JSON)
    assert empty.status_code == 409 or empty.status_code == 422


def test_posts_need_the_form_token(client: TestClient, call_path: tuple[str, int]) -> None:
    path, _ = call_path
    client.get(path)
    refused = client.post(f"{path}/dokument", files={"dokument": ("a.pdf", PDF, "application/pdf")})
    assert refused.status_code == 403
    assert client.post(f"{path}/bewertung", data={"rating": "5"}).status_code == 403


# --- end, rating, fallback ------------------------------------------------------------------


def test_the_citizen_ends_the_call_then_rates_it_once(
    client: TestClient, session: Session, call_path: tuple[str, int]
) -> None:
    path, booking_id = call_path
    token = _form_token(client, path)
    ended = client.post(f"{path}/beenden", data={"csrf_token": token}, follow_redirects=False)
    assert ended.status_code == 303
    assert _consultation(session, booking_id).state == "ended"
    again = client.post(f"{path}/beenden", data={"csrf_token": token}, headers=JSON)
    assert again.status_code == 200 and again.json() == {"state": "ended"}
    rated = client.post(f"{path}/bewertung", data={"csrf_token": token, "rating": "4"})
    assert rated.status_code == 200  # the page again, after the redirect
    assert "Vielen Dank für Ihre Bewertung!" in rated.text and 'name="rating"' not in rated.text
    assert _consultation(session, booking_id).rating == 4
    twice = client.post(
        f"{path}/bewertung", data={"csrf_token": token, "rating": "1"}, headers=JSON
    )
    assert twice.status_code == 409
    assert _consultation(session, booking_id).rating == 4


def test_rating_only_after_the_end_and_only_1_to_5(
    client: TestClient, call_path: tuple[str, int]
) -> None:
    path, _ = call_path
    token = _form_token(client, path)
    early = client.post(
        f"{path}/bewertung", data={"csrf_token": token, "rating": "5"}, headers=JSON
    )
    assert early.status_code == 409
    wrong = client.post(
        f"{path}/bewertung", data={"csrf_token": token, "rating": "6"}, headers=JSON
    )
    assert wrong.status_code == 422


def test_the_fallback_is_recorded_over_http_too(
    client: TestClient, session: Session, call_path: tuple[str, int]
) -> None:
    path, booking_id = call_path
    token = _form_token(client, path)
    answer = _post(client, path, "ausweichen", token, mode="phone")
    assert answer.status_code == 204
    assert _consultation(session, booking_id).fallback == "phone"
    bad = _post(client, path, "ausweichen", token, mode="fax")
    assert bad.status_code == 422


# --- the guest page -------------------------------------------------------------------------


def test_the_guest_page_goes_straight_into_the_call(
    client: TestClient, session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    guest_path = service.issue_guest_link(session, code=booking.code, settings=settings)
    session.commit()
    page = client.get(guest_path)
    assert page.status_code == 200
    assert _state(page.text) == "admitted"
    assert 'data-peer="clerk"' in page.text and 'data-peer="citizen"' in page.text
    assert "Kamera und Mikrofon prüfen" not in page.text  # no waiting room
    config = json.loads(re.search(r'id="call-config">(.*?)</script>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert config["role"] == "guest" and config["ws"] == f"{guest_path}/ws"
    assert client.get(guest_path[:-4] + "0000").status_code == 403


def test_an_unknown_service_phone_stays_unknown(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    (tmp_path / "city.yaml").write_text("name: Teststadt\n", encoding="utf-8")
    app = create_app(settings.model_copy(update={"data_dir": tmp_path}))
    app.state.sessionmaker = session_factory
    booking = video_booking(session)
    session.commit()
    with TestClient(app) as client:
        html = client.get(f"/video/{join_token(settings, booking)}").text
    assert "Die Nummer des Servicetelefons ist uns nicht bekannt." in html
    assert 'href="tel:' not in html
    app.state.engine.dispose()
