"""Staff accounts: creating users, roles on staff pages and the audit log."""

from __future__ import annotations

import pytest
from argon2 import Type
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.errors import InvalidCredentials, InvalidUser, RoleRequired
from servicepoint.account.models import User
from tests.account.account_support import PASSWORD, audit, post_login
from tests.account.conftest import REAL_HASHER
from tests.conftest import csrf_of, login, make_user


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
