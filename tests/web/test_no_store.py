"""Every answer built for a logged-in user is `no-store`, whatever its path: the account
dependency marks the request and the security-headers layer reads the mark."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import login, make_user


def test_the_planner_home_is_never_cached(client: TestClient, session: Session) -> None:
    make_user(session, "plan-nora", "planner")
    login(client, "plan-nora")
    resp = client.get("/planung")
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"


def test_a_public_page_seen_logged_in_is_never_cached(client: TestClient, session: Session) -> None:
    """The location page shows staff links to a logged-in user; anonymous it may be cached."""
    assert "no-store" not in client.get("/standorte/aegi").headers.get("cache-control", "")
    make_user(session, "desk-olaf", "staff")
    login(client, "desk-olaf")
    assert client.get("/standorte/aegi").headers["cache-control"] == "no-store"
    assert client.get("/mitarbeiter").headers["cache-control"] == "no-store"
