"""The published OpenAPI schema describes the answers clients really get."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def schema(client: TestClient) -> dict[str, Any]:
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    return dict(resp.json())


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in schema["paths"].items()
        if path.startswith("/api/")
        for method, op in ops.items()
    ]


def _body_schema(response: dict[str, Any]) -> Any:
    return response["content"]["application/json"]["schema"]


def test_every_error_status_carries_the_real_error_body(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "detail"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, method, op in _operations(schema):
        errors = {s: r for s, r in op["responses"].items() if s.startswith("4")}
        assert {"400", "422"} <= set(errors), (method, path)
        for status, response in errors.items():
            assert _body_schema(response) == ERROR_REF, (method, path, status)


def test_404_documented_wherever_a_request_names_a_thing(schema: dict[str, Any]) -> None:
    for path, method, op in _operations(schema):
        if "{" in path or "requestBody" in op:
            assert "404" in op["responses"], (method, path)
    assert "404" in schema["paths"]["/api/appointments/slots"]["get"]["responses"]
    assert "404" not in schema["paths"]["/api/locations"]["get"]["responses"]


def test_409_documented_where_a_conflict_can_happen(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    assert "409" in paths["/api/appointments"]["post"]["responses"]
    assert "409" in paths["/api/appointments/{code}/reschedule"]["post"]["responses"]
    assert "409" in paths["/api/appointments/{code}"]["delete"]["responses"]
    assert "409" not in paths["/api/services"]["get"]["responses"]


def test_a_real_error_answer_matches_the_documented_body(client: TestClient) -> None:
    for resp in (
        client.get("/api/services/no-such-service"),
        client.post("/api/assistant/ask", json={"message": ""}),
    ):
        assert resp.status_code in (404, 422)
        body = resp.json()
        assert set(body) - {"fields"} == {"error", "detail"}
        assert isinstance(body["error"], str) and body["detail"]


def test_method_not_allowed_names_the_allowed_methods(client: TestClient) -> None:
    for path in ("/api/services", "/health"):
        resp = client.request("TRACE", path)
        assert resp.status_code == 405
        assert "GET" in resp.headers["allow"]


def test_method_not_allowed_names_every_method_of_the_path(client: TestClient) -> None:
    resp = client.request("OPTIONS", "/api/appointments/ABCDEF123456")
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers["allow"].split(",")} >= {"GET", "DELETE"}
