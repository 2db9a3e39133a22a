"""Helpers shared by the location admin tests: read locations back, list audit entries."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry


def location(client: TestClient, location_id: str = "bemerode") -> dict[str, Any]:
    resp = client.get(f"/api/locations/{location_id}")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    return body


def all_locations(client: TestClient) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = client.get("/api/locations").json()
    return body


def audit_entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )
