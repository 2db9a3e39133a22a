"""Staff login and sessions: cookies, messages, guessing limits, logout, safe redirects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.account import service as account_service
from servicepoint.account.models import StaffSession
from servicepoint.app import create_app
from servicepoint.config import Settings
from tests.account.account_support import PASSWORD, post_login
from tests.conftest import csrf_of, login, make_user


# -- login and sessions ---------------------------------------------------------------------------
def test_login_sets_an_httponly_samesite_session_cookie(
    client: TestClient, session: Session
) -> None:
    make_user(session, "berta", "staff")
    resp = post_login(client, "berta")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/mitarbeiter"
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("sp_session="))
    attrs = cookie.lower()
    assert "httponly" in attrs
    assert "samesite=lax" in attrs or "samesite=strict" in attrs
    assert "path=/" in attrs
    assert "secure" not in attrs  # plain http in tests; see the TLS test below
    page = client.get("/mitarbeiter")
    assert page.status_code == 200
    assert "berta" in page.text


def test_session_is_stored_only_as_a_hash(client: TestClient, session: Session) -> None:
    make_user(session, "carla", "staff")
    login(client, "carla")
    token = client.cookies.get("sp_session")
    assert token
    session.expire_all()
    hashes = [row.token_hash for row in session.scalars(select(StaffSession))]
    assert hashes and token not in hashes


def test_session_cookie_is_secure_behind_tls(app: FastAPI, session: Session) -> None:
    make_user(session, "dora", "staff")
    with TestClient(app, base_url="https://testserver") as tls:
        resp = post_login(tls, "dora")
        cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("sp_session="))
        assert "secure" in cookie.lower()


def test_wrong_password_is_a_401_page_with_a_message(client: TestClient, session: Session) -> None:
    make_user(session, "emil", "staff")
    resp = post_login(client, "emil", "not-the-password")
    assert resp.status_code == 401
    text = resp.text
    assert "Benutzername oder Passwort ist falsch." in text
    assert 'value="emil"' in text  # the username is kept
    assert "not-the-password" not in text
    assert "sp_session" not in resp.headers.get("set-cookie", "")


def test_unknown_user_gets_the_same_message(client: TestClient) -> None:
    resp = post_login(client, "niemand", "whatever-password")
    assert resp.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in resp.text


def test_wrong_password_message_in_english(client: TestClient, session: Session) -> None:
    make_user(session, "emma", "staff")
    client.cookies.set("sp_lang", "en")
    resp = post_login(client, "emma", "not-the-password")
    assert resp.status_code == 401
    assert "Username or password is wrong." in resp.text


def test_login_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "fritz", "staff")
    client.get("/mitarbeiter/login")
    resp = client.post(
        "/mitarbeiter/login",
        data={"username": "fritz", "password": PASSWORD},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert "sp_session" not in resp.headers.get("set-cookie", "")


def test_login_rate_limit(client: TestClient, session: Session, settings: Settings) -> None:
    make_user(session, "gina", "staff")
    attempts = settings.login_max_attempts
    assert attempts >= 1
    for _ in range(attempts):
        assert post_login(client, "gina", "wrong-password").status_code == 401
    # Once limited, the guessing address is refused for a while, and told how long.
    resp = post_login(client, "gina", PASSWORD)
    assert resp.status_code == 429
    assert "Zu viele Anmeldeversuche" in resp.text
    assert 0 < int(resp.headers["retry-after"]) <= settings.login_window_seconds
    assert "sp_session" not in resp.headers.get("set-cookie", "")


def test_the_owner_logs_in_while_another_address_guesses(
    app: FastAPI, session: Session, settings: Settings
) -> None:
    make_user(session, "hans", "staff")
    with TestClient(app, client=("192.0.2.1", 5000)) as guesser:
        for i in range(settings.login_max_attempts):
            assert post_login(guesser, "hans", f"wrong-{i}-password").status_code == 401
        assert post_login(guesser, "hans", "wrong-again-pw").status_code == 429
    with TestClient(app, client=("192.0.2.2", 5000)) as owner:
        assert post_login(owner, "HANS").status_code == 303


def test_guessing_from_many_addresses_spares_the_owners_browser(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    application = create_app(settings.model_copy(update={"login_account_max_attempts": 3}))
    application.state.sessionmaker = session_factory
    make_user(session, "hedda", "staff")
    with TestClient(application, client=("192.0.2.9", 5000)) as owner:
        assert post_login(owner, "hedda").status_code == 303  # the owner's usual browser
        owner.cookies.delete("sp_session")
        for n in range(4):
            with TestClient(application, client=(f"198.51.100.{n}", 5000)) as bot:
                status = post_login(bot, "hedda", "wrong-password")
            assert status.status_code == (401 if n < 3 else 429)
        assert post_login(owner, "hedda").status_code == 303
    application.state.engine.dispose()


def test_login_rate_limit_follows_the_address_across_usernames(
    app: FastAPI, session: Session, settings: Settings
) -> None:
    """Spraying one guess at many names spends the address's budget across accounts."""
    app.state.settings = settings.model_copy(update={"login_address_max_attempts": 7})
    make_user(session, "ines", "staff")
    with TestClient(app, client=("192.0.2.3", 5000)) as sprayer:
        for i in range(7):
            assert post_login(sprayer, f"guess{i}", "wrong-password").status_code == 401
        assert post_login(sprayer, "ines").status_code == 429
    with TestClient(app, client=("192.0.2.4", 5000)) as other:
        assert post_login(other, "ines").status_code == 303


@pytest.fixture
def unprotected_client(
    settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """An app with SERVICEPOINT_BOT_PROTECTION=off, as load and acceptance tests run it."""
    application = create_app(settings.model_copy(update={"bot_protection": "off"}))
    application.state.sessionmaker = session_factory
    with TestClient(application) as c:
        yield c
    application.state.engine.dispose()


def test_bot_protection_off_turns_the_login_rate_limit_off(
    unprotected_client: TestClient, session: Session, settings: Settings
) -> None:
    make_user(session, "ida", "staff")
    for _ in range(settings.login_max_attempts + 3):
        assert post_login(unprotected_client, "ida", "wrong-password").status_code == 401
    assert post_login(unprotected_client, "ida").status_code == 303


def test_logout_invalidates_the_server_side_session(client: TestClient, session: Session) -> None:
    make_user(session, "jana", "staff")
    login(client, "jana")
    old_cookie = client.cookies.get("sp_session")
    assert old_cookie and client.get("/mitarbeiter").status_code == 200
    resp = client.post(
        "/mitarbeiter/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert (
        'sp_session=""' in resp.headers["set-cookie"] or "Max-Age=0" in resp.headers["set-cookie"]
    )
    # Someone who kept the old cookie value gets nothing.
    client.cookies.set("sp_session", old_cookie)
    resp = client.get("/mitarbeiter", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login")
    session.expire_all()
    assert session.scalars(select(StaffSession)).all() == []


def test_logout_needs_csrf(client: TestClient, session: Session) -> None:
    make_user(session, "kurt", "staff")
    login(client, "kurt")
    resp = client.post("/mitarbeiter/logout", follow_redirects=False)
    assert resp.status_code == 403
    assert client.get("/mitarbeiter").status_code == 200  # still logged in


def test_forged_session_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set("sp_session", "forged-token-value")
    resp = client.get("/mitarbeiter", follow_redirects=False)
    assert resp.status_code == 303


def test_expired_session_is_refused_and_purged(client: TestClient, session: Session) -> None:
    import datetime as dt

    from servicepoint.core.clock import utcnow

    make_user(session, "lena", "staff")
    login(client, "lena")
    session.expire_all()
    for row in session.scalars(select(StaffSession)):
        row.expires_at = utcnow() - dt.timedelta(minutes=1)
    session.commit()
    assert client.get("/mitarbeiter", follow_redirects=False).status_code == 303
    assert account_service.purge_expired_sessions(session) >= 1
    session.expire_all()
    assert session.scalars(select(StaffSession)).all() == []


def test_nul_byte_in_login_is_a_clean_422_not_a_500(client: TestClient) -> None:
    resp = post_login(client, "a\x00b", "some-password")
    assert resp.status_code == 422  # refused by the shared input guard before the login runs


def test_overlong_login_fields_are_a_422(client: TestClient) -> None:
    assert post_login(client, "x" * 65).status_code == 422
    assert post_login(client, "someone", "p" * 257).status_code == 422


# -- open redirects -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/mitarbeiter",
        "https://evil.example",
        "http:/evil.example",
        "/\\evil.example",
        "evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_refuses_an_open_redirect(client: TestClient, session: Session, target: str) -> None:
    make_user(session, "quinn", "staff")
    resp = post_login(client, "quinn", next_url=target)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"


def test_login_form_does_not_carry_a_foreign_next(client: TestClient) -> None:
    page = client.get("/mitarbeiter/login", params={"next": "//evil.example"}).text
    # The language switch may keep the query (it is checked again there); the form must not.
    assert 'value="//evil.example"' not in page
    assert 'name="next" value="/"' in page
