"""Staff accounts: users, argon2 hashes, sessions, roles, rate limit, audit log and the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import Type
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from servicepoint.account import service as account_service
from servicepoint.account.errors import InvalidCredentials, InvalidUser, RoleRequired
from servicepoint.account.models import AuditEntry, StaffSession, User
from servicepoint.app import create_app
from servicepoint.cli import app as cli_app
from servicepoint.cli_support import upgrade
from servicepoint.config import Settings
from servicepoint.core.db import make_engine
from tests.account.conftest import REAL_HASHER
from tests.conftest import csrf_of, login, make_user

PASSWORD = "correct-horse-1"


def post_login(
    client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/mitarbeiter"
) -> Response:
    resp: Response = client.post(
        "/mitarbeiter/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(client),
            "next": next_url,
        },
        follow_redirects=False,
    )
    return resp


def audit(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


# -- create_user ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["staff", "planner", "admin"])
def test_create_user_with_each_role(session: Session, role: str) -> None:
    user = account_service.create_user(
        session, username=f"Person-{role}", password=PASSWORD, role=role
    )
    assert user.id is not None
    assert user.username == f"person-{role}"  # stored lower-case
    assert user.role == role and user.active


def test_password_is_stored_as_argon2_hash(session: Session) -> None:
    user = account_service.create_user(session, username="hashme", password=PASSWORD, role="staff")
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    other = account_service.create_user(
        session, username="hashme2", password=PASSWORD, role="staff"
    )
    assert other.password_hash != user.password_hash  # salted


def test_production_hasher_is_argon2id_with_a_strong_cost() -> None:
    # OWASP minimum for argon2id: 19 MiB memory, 2 iterations.
    assert REAL_HASHER.type is Type.ID
    assert REAL_HASHER.memory_cost >= 19 * 1024
    assert REAL_HASHER.time_cost >= 2
    assert REAL_HASHER.hash(PASSWORD).startswith("$argon2id$")


@pytest.mark.parametrize("role", ["superuser", "Admin", "", "citizen"])
def test_unknown_role_is_rejected(session: Session, role: str) -> None:
    with pytest.raises(InvalidUser, match="Unbekannte Rolle"):
        account_service.create_user(session, username="someone", password=PASSWORD, role=role)


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_short_password_is_rejected(session: Session, password: str) -> None:
    with pytest.raises(InvalidUser, match="mindestens 10 Zeichen"):
        account_service.create_user(session, username="someone", password=password, role="staff")


@pytest.mark.parametrize("username", ["ab", "x" * 65, "mit leerzeichen", "a/b", "<script>", ""])
def test_bad_username_is_rejected(session: Session, username: str) -> None:
    with pytest.raises(InvalidUser, match="Benutzernamen"):
        account_service.create_user(session, username=username, password=PASSWORD, role="staff")


def test_duplicate_username_is_rejected_case_insensitively(session: Session) -> None:
    account_service.create_user(session, username="erika", password=PASSWORD, role="staff")
    with pytest.raises(InvalidUser, match="gibt es schon"):
        account_service.create_user(session, username=" ERIKA ", password=PASSWORD, role="admin")
    assert len(session.scalars(select(User).where(User.username == "erika")).all()) == 1


def test_create_user_is_audited_without_the_password(session: Session) -> None:
    account_service.create_user(session, username="audited", password=PASSWORD, role="planner")
    session.flush()
    entry = audit(session, "user.create")[-1]
    assert entry.target == "audited"
    assert entry.detail == {"role": "planner"}
    assert PASSWORD not in str(entry.detail)


def test_authenticate(session: Session) -> None:
    make_user(session, "anna", "staff")
    assert (
        account_service.authenticate(session, username="Anna ", password=PASSWORD).username
        == "anna"
    )
    with pytest.raises(InvalidCredentials):
        account_service.authenticate(session, username="anna", password="wrong-password")
    with pytest.raises(InvalidCredentials):
        account_service.authenticate(session, username="nobody", password=PASSWORD)


def test_inactive_user_cannot_log_in(session: Session) -> None:
    make_user(session, "gone", "staff")
    user = session.scalar(select(User).where(User.username == "gone"))
    assert user is not None
    user.active = False
    session.flush()
    with pytest.raises(InvalidCredentials):
        account_service.authenticate(session, username="gone", password=PASSWORD)


@pytest.mark.parametrize(
    ("role", "page_role", "allowed"),
    [
        ("staff", "staff", True),
        ("staff", "planner", False),
        ("staff", "admin", False),
        ("planner", "planner", True),
        ("planner", "admin", False),
        ("admin", "staff", True),
        ("admin", "planner", True),
        ("admin", "admin", True),
    ],
)
def test_role_grants(role: str, page_role: str, allowed: bool) -> None:
    user = User(username="u", password_hash="x", role=role)
    if allowed:
        account_service.require_role(user, page_role)
    else:
        with pytest.raises(RoleRequired):
            account_service.require_role(user, page_role)


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
    make_user(session, "ines", "staff")
    with TestClient(app, client=("192.0.2.3", 5000)) as sprayer:
        for i in range(settings.login_max_attempts):
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


# -- roles on staff pages -------------------------------------------------------------------------
STAFF_PAGES = [
    ("/mitarbeiter", "staff"),
    ("/verwaltung/protokoll", "admin"),
    ("/verwaltung/standorte", "admin"),
    ("/verwaltung/standorte/aegi", "admin"),
]


@pytest.mark.parametrize(("path", "_role"), STAFF_PAGES)
def test_anonymous_is_redirected_to_the_login(client: TestClient, path: str, _role: str) -> None:
    resp = client.get(path, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/mitarbeiter/login?next={path}"


def test_login_returns_to_the_page_asked_for(client: TestClient, session: Session) -> None:
    make_user(session, "mara", "admin")
    resp = post_login(client, "mara", next_url="/verwaltung/protokoll")
    assert resp.headers["location"] == "/verwaltung/protokoll"


@pytest.mark.parametrize(("path", "_role"), [p for p in STAFF_PAGES if p[1] == "admin"])
def test_staff_role_cannot_open_admin_pages(
    client: TestClient, session: Session, path: str, _role: str
) -> None:
    make_user(session, "nina", "staff")
    login(client, "nina")
    resp = client.get(path)
    assert resp.status_code == 403
    assert "Für diese Seite fehlt Ihnen die Berechtigung." in resp.text


@pytest.mark.parametrize("path", [p for p, _ in STAFF_PAGES])
def test_admin_opens_every_staff_page(client: TestClient, session: Session, path: str) -> None:
    make_user(session, "otto", "admin")
    login(client, "otto")
    assert client.get(path).status_code == 200


def test_staff_home_offers_admin_tools_only_to_admins(client: TestClient, session: Session) -> None:
    make_user(session, "paul", "staff")
    login(client, "paul")
    page = client.get("/mitarbeiter").text
    assert "/verwaltung/protokoll" not in page
    assert "paul" in page and "staff" in page


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


# -- audit log ------------------------------------------------------------------------------------
def test_audit_log_records_logins_and_failed_attempts(client: TestClient, session: Session) -> None:
    make_user(session, "rita", "admin")
    post_login(client, "rita", "wrong-password")
    login(client, "rita")
    failed = audit(session, "login.failed")
    assert [(e.username, e.target) for e in failed] == [(None, "rita")]
    logins = audit(session, "login")
    assert [e.username for e in logins] == ["rita"]
    assert logins[0].at is not None and logins[0].at.tzinfo is not None


def test_audit_log_records_changes_and_admins_can_read_it(
    client: TestClient, session: Session
) -> None:
    make_user(session, "sven", "admin")
    login(client, "sven")
    resp = client.post(
        "/verwaltung/standorte/sahlkamp",
        data={
            "csrf_token": csrf_of(client),
            "source": "Telefonat 25.11.2026",
            "phone": "0511 168-12345",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303
    entry = audit(session, "location.update")[-1]
    assert (entry.username, entry.target) == ("sven", "sahlkamp")
    assert entry.detail["fields"] == ["phone"]
    page = client.get("/verwaltung/protokoll").text
    assert "location.update" in page and "sahlkamp" in page and "sven" in page


def test_recent_audit_is_newest_first(session: Session) -> None:
    account_service.audit(session, username="a", action="test.first")
    account_service.audit(session, username="a", action="test.second")
    session.flush()
    actions = [e.action for e in account_service.recent_audit(session, limit=2)]
    assert actions == ["test.second", "test.first"]


# -- `servicepoint user create` -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'users.db'}"
    upgrade(url)
    return url


def run_cli(url: str, *args: str, password: str | None = PASSWORD) -> tuple[int, str]:
    env = {"SERVICEPOINT_DATABASE_URL": url}
    if password is not None:
        env["SERVICEPOINT_NEW_USER_PASSWORD"] = password
    result = CliRunner().invoke(cli_app, ["user", "create", *args], env=env)
    return result.exit_code, result.output


def cli_users(url: str) -> dict[str, User]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return {u.username: u for u in s.scalars(select(User))}
    finally:
        engine.dispose()


def test_cli_creates_a_user_who_can_log_in(cli_db: str) -> None:
    code, output = run_cli(cli_db, "Tanja", "--role", "planner")
    assert code == 0, output
    assert "created" in output and "tanja" in output and "planner" in output
    user = cli_users(cli_db)["tanja"]
    assert user.role == "planner"
    assert user.password_hash.startswith("$argon2id$")
    engine = make_engine(cli_db)
    try:
        with Session(engine) as s:
            assert (
                account_service.authenticate(s, username="tanja", password=PASSWORD).id == user.id
            )
    finally:
        engine.dispose()


def test_cli_asks_for_the_password_when_not_in_the_environment(cli_db: str) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["user", "create", "ulf", "--role", "staff"],
        env={"SERVICEPOINT_DATABASE_URL": cli_db, "SERVICEPOINT_NEW_USER_PASSWORD": None},
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert "ulf" in cli_users(cli_db)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["vera", "--role", "root"], PASSWORD, "Unbekannte Rolle"),
        (["vera", "--role", "staff"], "kurz", "mindestens 10 Zeichen"),
        (["v", "--role", "staff"], PASSWORD, "Benutzernamen"),
    ],
)
def test_cli_rejects_invalid_users(
    cli_db: str, args: list[str], password: str, message: str
) -> None:
    code, output = run_cli(cli_db, *args, password=password)
    assert code == 2
    assert message in output
    assert "vera" not in cli_users(cli_db) and "v" not in cli_users(cli_db)


def test_cli_rejects_a_duplicate(cli_db: str) -> None:
    assert run_cli(cli_db, "wanda", "--role", "staff")[0] == 0
    code, output = run_cli(cli_db, "WANDA", "--role", "admin")
    assert code == 2
    assert "gibt es schon" in output
    assert cli_users(cli_db)["wanda"].role == "staff"


def test_cli_needs_a_role(cli_db: str) -> None:
    code, _ = run_cli(cli_db, "xaver")
    assert code != 0
    assert "xaver" not in cli_users(cli_db)


def test_cli_help_lists_the_roles() -> None:
    result = CliRunner().invoke(cli_app, ["user", "create", "--help"])
    assert result.exit_code == 0
    assert "staff|planner|admin" in result.output
