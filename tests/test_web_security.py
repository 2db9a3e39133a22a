"""CSRF tokens bound to the browser and session, cookie flags, and headers on every answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.app import create_app
from servicepoint.config import Settings
from tests.conftest import csrf_of, login, make_user

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy")


def _logout(client: TestClient, token: str) -> Response:
    return client.post("/mitarbeiter/logout", data={"csrf_token": token}, follow_redirects=False)


def _new_browser(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://testserver")


# -- CSRF -----------------------------------------------------------------------------------------
def test_a_token_from_another_browser_fails(app: FastAPI, client: TestClient) -> None:
    with _new_browser(app) as attacker:
        foreign = csrf_of(attacker)
    csrf_of(client)  # the victim's browser has its own cookie
    assert _logout(client, foreign).status_code == 403
    assert _logout(client, csrf_of(client)).status_code == 303


def test_a_planted_cookie_with_a_matching_token_fails(client: TestClient) -> None:
    """Double-submit alone would accept this: an attacker who can set the cookie picks both."""
    client.cookies.set("sp_csrf", "chosen-by-attacker")
    assert _logout(client, "chosen-by-attacker").status_code == 403


def test_the_token_is_tied_to_the_staff_session(client: TestClient, session: Session) -> None:
    make_user(session, "carla", "staff")
    before = csrf_of(client)
    login(client, "carla")
    assert _logout(client, before).status_code == 403  # minted for the anonymous visit
    assert client.get("/mitarbeiter", follow_redirects=False).status_code == 200
    assert _logout(client, csrf_of(client)).status_code == 303


def _csrf_cookie(resp: Response) -> str:
    return next(c for c in resp.headers.get_list("set-cookie") if c.startswith("sp_csrf="))


@pytest.mark.parametrize(
    ("mode", "base_url", "secure"),
    [
        ("auto", "https://testserver", True),
        ("auto", "http://testserver", False),
        ("always", "http://testserver", True),
        ("never", "https://testserver", False),
    ],
)
def test_the_csrf_cookie_is_secure_under_the_session_cookies_rule(
    settings: Settings,
    session_factory: sessionmaker[Session],
    mode: str,
    base_url: str,
    secure: bool,
) -> None:
    application = create_app(settings.model_copy(update={"secure_cookies": mode}))
    application.state.sessionmaker = session_factory
    with TestClient(application, base_url=base_url) as c:
        cookie = _csrf_cookie(c.get("/")).lower()
    application.state.engine.dispose()
    assert ("; secure" in cookie) is secure


# -- headers on every answer ----------------------------------------------------------------------
@pytest.fixture
def fragile(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with one route that fails unexpectedly, as a bug would."""
    application = create_app(settings)
    application.state.sessionmaker = session_factory

    def boom() -> None:
        raise RuntimeError("a bug")

    application.add_api_route("/api/boom", boom)
    with TestClient(application, raise_server_exceptions=False) as c:
        yield c
    application.state.engine.dispose()


def _has_security_headers(resp: Response) -> bool:
    return all(resp.headers.get(name) for name in SECURITY_HEADERS)


def test_error_answers_carry_the_security_headers(fragile: TestClient) -> None:
    answers = {
        404: fragile.get("/gibt-es-nicht"),
        405: fragile.delete("/api/services"),
        413: fragile.post("/api/services", content=b"x" * 1_000_001),
        422: fragile.get("/api/appointments/slots"),
        500: fragile.get("/api/boom"),
    }
    for status, resp in answers.items():
        assert resp.status_code == status, (status, resp.text)
        assert _has_security_headers(resp), status
    assert answers[500].json()["error"] == "internal_error"


def test_headers_are_sent_once(client: TestClient) -> None:
    resp = client.get("/")
    assert len(resp.headers.get_list("content-security-policy")) == 1


@pytest.mark.parametrize("path", ["/mitarbeiter/login", "/mitarbeiter", "/verwaltung/protokoll"])
def test_staff_pages_are_never_cached(client: TestClient, session: Session, path: str) -> None:
    make_user(session, "cora", "admin")
    login(client, "cora")
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"


def test_staff_redirects_and_errors_are_not_cached_either(client: TestClient) -> None:
    assert client.get("/mitarbeiter", follow_redirects=False).headers["cache-control"] == "no-store"
    assert client.get("/verwaltung/gibt-es-nicht").headers["cache-control"] == "no-store"


def test_public_pages_may_be_cached(client: TestClient) -> None:
    assert "no-store" not in client.get("/").headers.get("cache-control", "")
