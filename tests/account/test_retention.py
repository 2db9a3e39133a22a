"""The audit log keeps staff actions only for its retention period, deleted by the worker."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.worker import run_once
from tests.conftest import login, make_user

NOW = utcnow()


def add_entry(session: Session, target: str, age: dt.timedelta) -> None:
    session.add(AuditEntry(at=NOW - age, username="chef", action="test.retention", target=target))
    session.flush()


def kept_targets(session: Session) -> set[str | None]:
    session.expire_all()
    query = select(AuditEntry.target).where(AuditEntry.action == "test.retention")
    return set(session.scalars(query))


def test_worker_deletes_audit_entries_older_than_the_retention_period(session: Session) -> None:
    add_entry(session, "old", dt.timedelta(days=31))
    add_entry(session, "just-over", dt.timedelta(days=30, minutes=1))
    add_entry(session, "just-under", dt.timedelta(days=30) - dt.timedelta(minutes=1))
    add_entry(session, "recent", dt.timedelta(hours=1))
    settings = Settings(secret_key="x", smtp_host=None, audit_retention_days=30)
    report = run_once(session, settings=settings, now=NOW)
    assert report.audit_purged >= 2
    assert kept_targets(session) == {"just-under", "recent"}


def test_audit_retention_has_a_sane_default_and_bounds() -> None:
    assert Settings(secret_key="x").audit_retention_days == 180
    with pytest.raises(ValidationError):
        Settings(secret_key="x", audit_retention_days=0)


def test_audit_page_tells_admins_how_long_entries_stay(
    client: TestClient, session: Session
) -> None:
    make_user(session, "retention-admin", "admin")
    login(client, "retention-admin")
    page = client.get("/verwaltung/protokoll").text
    assert "nach 180 Tagen automatisch gelöscht" in page
    english = client.get("/verwaltung/protokoll?lang=en").text
    assert "deleted automatically after 180 days" in english
