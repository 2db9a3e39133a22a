"""Helpers shared by the account tests: a test password, a login post, audit entries."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from tests.conftest import csrf_of

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
