"""Errors carry their HTTP status; one handler renders them as JSON (/api) or a page (HTML)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# What is wrong with one field: a German msgid, or a msgid with its parameters.
FieldMessage = str | tuple[str, Mapping[str, object]]


class ServicePointError(Exception):
    status_code = 400
    code = "bad_request"
    # Field name → what is wrong with it; a JSON answer lists them, translated, under "fields".
    fields: Mapping[str, FieldMessage] = MappingProxyType({})
    # Response headers the answer carries (e.g. Retry-After), page and JSON alike.
    headers: Mapping[str, str] = MappingProxyType({})

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        # `message` is a German msgid; the handler translates it into the request's language.
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        if code:
            self.code = code


class BadRequest(ServicePointError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ServicePointError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServicePointError):
    status_code = 403
    code = "forbidden"


class NotFound(ServicePointError):
    status_code = 404
    code = "not_found"


class Conflict(ServicePointError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ServicePointError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ServicePointError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(ServicePointError):
    status_code = 422
    code = "invalid_input"


class TooManyRequests(ServicePointError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        # The limiter's window: a client waiting this long is sure to be let through.
        self.headers = {"Retry-After": str(retry_after)}
