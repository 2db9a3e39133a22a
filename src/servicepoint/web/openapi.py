"""The published OpenAPI schema describes the answers the API really gives.

Every error leaves through one handler (web.errors) as `{"error", "detail"}`, so the schema
documents that body once and attaches it, in one pass, to the statuses each operation can
return: FastAPI's default 422 body (`HTTPValidationError`) is not what clients receive.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_REF = {"$ref": "#/components/schemas/Error"}

# Why each status can happen, for the reader of /docs.
_WHY = {
    "400": "A value the database cannot hold, or a malformed request.",
    "403": "Proof of work or form token missing or invalid.",
    "404": "Unknown id or code.",
    "409": "Conflict with the current state, e.g. `slot_taken`.",
    "413": "Request body too large.",
    "422": "Invalid input (also NUL, control or invisible characters); `detail` names the "
    "fields, and `fields` maps each to what is wrong where the form's own checks refuse it.",
    "429": "Too many requests from this client; try again later.",
}
_EVERY_OPERATION = ("400", "413", "422")
_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str = Field(description="Machine-readable code, e.g. `slot_taken`, `not_found`.")
    detail: str = Field(description="A message for people, in the request's language.")
    fields: dict[str, str] | None = Field(
        default=None,
        description="Only when the error concerns named fields: each field's path "
        "(e.g. `applicant.birth_date`, `data.kind`) and what is wrong with it, in words.",
    )


def conflict(description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for a route that can answer 409 (documented with the error body)."""
    return {409: {"model": ErrorBody, "description": description}}


def _names_a_thing(path: str, operation: dict[str, Any]) -> bool:
    """Ids in the path, a body or a required query parameter may name something unknown."""
    required = any(p.get("required") for p in operation.get("parameters", []))
    return "{" in path or "requestBody" in operation or required


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = list(_EVERY_OPERATION)
    if _names_a_thing(path, operation):
        statuses.append("404")
    if method in _WRITE_METHODS:
        statuses += ["403", "429"]
    return statuses


def _error_response(status: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    description = (existing or {}).get("description") or _WHY[status]
    if status == "422" or description == "Validation Error":
        description = _WHY[status]
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Attach the real error body to every error status of every /api operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = [s for s in responses if s.startswith(("4", "5"))]
            for status in sorted(set(declared) | set(_statuses(path, method, operation))):
                responses[status] = _error_response(status, responses.get(status))
    return schema


def install(app: FastAPI) -> None:
    """Replace FastAPI's schema builder with one that documents the real error answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, routes=app.routes, tags=app.openapi_tags
            )
            app.openapi_schema = document_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
