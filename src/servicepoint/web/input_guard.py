"""One guard for every text a request carries: path, query, form fields and JSON bodies.

PostgreSQL cannot store a NUL, and control characters, bidirectional overrides and invisible
characters only ever disguise a name. They are refused here, once, before any route runs, with
the same 422 `invalid_input` answer (JSON for /api, the error page for people) as any other
invalid value. Deeply nested JSON is refused before it is parsed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterable, Iterator
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicepoint.core import i18n
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import BAD_TEXT, first_bad_field, json_texts, json_too_deep
from servicepoint.web.errors import error_response

_TOO_DEEP = N_("zu tief verschachtelt")
_UNREADABLE = N_("kein gültiges JSON")
_BODY_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _first_bad(_url_texts(scope))
        content_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if problem is None and content_type in _BODY_TYPES:
            try:
                body = await _read_body(receive)
            except HTTPException:  # the size limit of RequestContextMiddleware
                await _answer(scope, receive, send, 413, _too_large(scope))
                return
            problem = await _body_problem(scope, content_type, body)
            receive = _replay(body, receive)
        if problem is not None:
            await _answer(scope, receive, send, 422, _invalid(scope, problem))
            return
        await self.app(scope, receive, send)


Problem = tuple[str, str]


def _first_bad(pairs: Iterable[tuple[str, str]]) -> Problem | None:
    field = first_bad_field(pairs)
    return None if field is None else (field, BAD_TEXT)


def _url_texts(scope: Scope) -> Iterator[tuple[str, str]]:
    yield "path", scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    yield from parse_qsl(query, keep_blank_values=True)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the already read body to the app; later reads wait for the disconnect as before."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _body_problem(scope: Scope, content_type: str, body: bytes) -> Problem | None:
    if content_type == "application/json":
        return _json_problem(body)
    if content_type == "multipart/form-data":
        return _first_bad(await _multipart_texts(scope, body))
    # Latin-1, as Starlette's form parser reads the raw bytes: the guard checks exactly the text
    # the route will get (browsers %-escape everything that is not ASCII anyway).
    text = body.decode("latin-1")
    return _first_bad(parse_qsl(text, keep_blank_values=True))


def _json_problem(body: bytes) -> Problem | None:
    if json_too_deep(body):
        return "body", _TOO_DEEP
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        return None  # FastAPI answers that with its own 422 `json_invalid`
    except ValueError:  # e.g. an integer with more digits than Python converts
        return "body", _UNREADABLE
    return _first_bad(json_texts(doc))


async def _multipart_texts(scope: Scope, body: bytes) -> list[tuple[str, str]]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(Headers(scope=scope), stream())
    try:
        form = await parser.parse()
    except MultiPartException:
        return []  # FastAPI reports the broken form itself
    texts = []
    for field, value in form.multi_items():
        if isinstance(value, UploadFile):
            texts.append((field, value.filename or ""))  # the content is checked by its importer
            await value.close()
        else:
            texts.append((field, value))
    return texts


def _lang(scope: Scope) -> str:
    return str(scope.get("state", {}).get("lang", "de"))


def _invalid(scope: Scope, problem: Problem) -> tuple[str, str]:
    lang, (field, msgid) = _lang(scope), problem
    prefix = i18n.translate(lang, N_("Ungültige Eingabe"))
    return "invalid_input", f"{prefix} – {field}: {i18n.translate(lang, msgid)}"


def _too_large(scope: Scope) -> tuple[str, str]:
    return "payload_too_large", i18n.translate(_lang(scope), N_("Die Anfrage ist zu groß."))


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, error: tuple[str, str]
) -> None:
    response = error_response(Request(scope, receive), status, *error)
    await response(scope, receive, send)
