"""Helpers shared by the location admin tests: read locations back as the API shows them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def location(client: TestClient, location_id: str = "bemerode") -> dict[str, Any]:
    resp = client.get(f"/api/locations/{location_id}")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    return body


def all_locations(client: TestClient) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = client.get("/api/locations").json()
    return body
