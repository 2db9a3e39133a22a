"""Limits of the citizen's side of a video call: the per-client rate of WebSocket connections
(close 4429) and of the page's posts (429), the large body allowed on the document upload only,
any malformed link answered by the 403 `bad_token` page, and "Beenden" while still waiting only
leaving the queue (the appointment stays the citizen's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicepoint.casework import uploads
from servicepoint.config import Settings
from servicepoint.consultation.models import Consultation
from servicepoint.web.middleware import path_matches
from tests.conftest import csrf_in
from tests.consultation.support import in_call, join_token, video_booking, waiting
from tests.consultation.ws_support import (
    booking,
    closed_with,
    ensure_clerk,
    join_path,
    make_settings,
    quiet_everyone,
    running,
    staff_ws,
    until,
)

JSON = {"Accept": "application/json"}


# -- the large body: the upload route only ------------------------------------------------------
def test_path_patterns_name_one_route_or_a_prefix() -> None:
    assert path_matches("/antrag/gewerbe/upload", "/antrag/")
    assert path_matches("/video/ABC-123/dokument", "/video/*/dokument")
    for path in ("/video/ABC/bewertung", "/video//dokument", "/video/a/b/dokument", "/video/"):
        assert not path_matches(path, "/video/*/dokument"), path
    assert not path_matches("/video/ABC/dokument/x", "/video/*/dokument")


def test_only_the_video_upload_route_accepts_a_large_body(
    client: TestClient, settings: Settings
) -> None:
    limits = dict(uploads.multipart_limits(settings))
    assert "/video/" not in limits
    assert limits["/video/*/dokument"] == settings.upload_max_bytes + uploads.FORM_OVERHEAD
    big = b"0" * (settings.max_body_bytes + 10)
    files = {"dokument": ("a.pdf", big, "application/pdf")}
    for action in ("bewertung", "beenden", "ausweichen"):
        answer = client.post(f"/video/ABCD-{'0' * 32}/{action}", files=files, headers=JSON)
        assert answer.status_code == 413, action
    # Past the body limit: the route itself answers (here: the link is no good).
    answer = client.post(f"/video/ABCD-{'0' * 32}/dokument", files=files, headers=JSON)
    assert answer.status_code == 403 and answer.json()["error"] in ("csrf_failed", "bad_token")


# -- malformed links ------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["A" * 200, "x y", "%C3%A4rger", "a.b;c"])
def test_a_malformed_link_is_the_refused_page(client: TestClient, token: str) -> None:
    """(NUL, control and bidi characters never reach a route: the app-wide input guard answers
    them 422 for every path; so does a token past the path's bound, see the next test.)"""
    for path in (f"/video/{token}", f"/video/gast/{token}"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Dieser Link funktioniert nicht" in answer.text
        assert "no-store" in answer.headers["cache-control"]


def test_a_link_past_the_bound_is_a_clear_422(client: TestClient) -> None:
    for path in (f"/video/{'A' * 201}", f"/video/gast/{'A' * 5000}"):
        answer = client.get(path)
        assert answer.status_code == 422, path
        assert "token: zu lang" in answer.text


def _opened(
    client: TestClient, session: Session, settings: Settings, *, admitted: bool
) -> tuple[str, str, int]:
    """A citizen's page in the call (or waiting): its path, form token and booking id."""
    booked = video_booking(session)
    (in_call if admitted else waiting)(session, settings, booked)
    session.commit()
    path = f"/video/{join_token(settings, booked)}"
    return path, csrf_in(client.get(path).text), booked.id


# -- posts: rate per client -----------------------------------------------------------------------
def test_the_citizens_posts_are_limited_per_client(
    client: TestClient, session: Session, settings: Settings
) -> None:
    settings.video_rate_limit = 3
    path, token, _ = _opened(client, session, settings, admitted=True)
    form = {"csrf_token": token, "mode": "audio"}
    answers = [client.post(f"{path}/ausweichen", data=form, headers=JSON) for _ in range(4)]
    assert [a.status_code for a in answers] == [204, 204, 204, 429]
    assert answers[-1].json()["error"] == "rate_limited"
    assert answers[-1].headers["retry-after"] == "60"
    rating = client.post(f"{path}/bewertung", data={**form, "rating": "5"}, headers=JSON)
    assert rating.status_code == 429  # one budget for all the page's posts


# -- "Beenden" while waiting ---------------------------------------------------------------------
def test_ending_while_waiting_only_leaves_the_queue(
    client: TestClient, session: Session, settings: Settings
) -> None:
    path, token, booking_id = _opened(client, session, settings, admitted=False)
    answer = client.post(f"{path}/beenden", data={"csrf_token": token}, headers=JSON)
    assert answer.status_code == 200 and answer.json() == {"state": "left"}
    session.expire_all()
    row = session.scalars(select(Consultation).where(Consultation.booking_id == booking_id)).one()
    assert row.state == "waiting" and row.seen_at is None  # out of the queue, not ended
    plain = client.post(f"{path}/beenden", data={"csrf_token": token}, follow_redirects=False)
    assert plain.headers["location"].endswith("?verlassen=1#left-queue")
    page = client.get(plain.headers["location"])
    assert 'data-call-state="waiting"' in page.text and 'id="left-queue"' in page.text


def test_ending_an_admitted_call_still_ends_it(
    client: TestClient, session: Session, settings: Settings
) -> None:
    path, token, _ = _opened(client, session, settings, admitted=True)
    answer = client.post(f"{path}/beenden", data={"csrf_token": token}, headers=JSON)
    assert answer.json() == {"state": "ended"}


# -- WebSocket connections: rate per client -------------------------------------------------------
@pytest.fixture
def limited(real_engine: Engine, state_dir: Path) -> Iterator[TestClient]:
    ensure_clerk(real_engine)
    settings = make_settings(real_engine, state_dir).model_copy(
        update={"bot_protection": "on", "video_rate_limit": 2}
    )
    with running(settings) as test_client:
        yield test_client
    quiet_everyone(real_engine)


def test_too_many_connections_close_4429_before_any_database_work(
    limited: TestClient, real_engine: Engine
) -> None:
    code = booking(real_engine)
    for _ in range(2):
        with limited.websocket_connect(join_path(code)) as ws:
            until(ws, "state")
    with limited.websocket_connect(join_path(code)) as ws:
        close, reason, frames = closed_with(ws)
    assert (close, reason["error"]) == (4429, "rate_limited")
    assert [f["type"] for f in frames] == ["error"]  # no hello: nothing was read or written
    # A bad token counts too: refused for the rate before the link is even looked at.
    with limited.websocket_connect("/video/nonsense/ws") as ws:
        assert closed_with(ws)[0] == 4429
    # The consoles have a budget of their own.
    with staff_ws(limited) as ws:
        assert until(ws, "hello")["peer"] == "clerk"


def test_a_console_whose_staff_role_was_taken_away_is_closed(
    real_engine: Engine, state_dir: Path
) -> None:
    ensure_clerk(real_engine)
    with running(make_settings(real_engine, state_dir)) as client, staff_ws(client) as ws:
        until(ws, "queue")
        ensure_clerk(real_engine, role="planner")
        ws.send_text(json.dumps({"type": "join", "code": "NOPE1234"}))
        close, reason, _ = closed_with(ws)
    ensure_clerk(real_engine)
    assert close == 4403 and reason["error"] == "role_required"
