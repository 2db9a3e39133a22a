"""Pure ASGI middleware: request language, CSRF cookie, body size limit, security headers."""

from __future__ import annotations

import asyncio
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicepoint.core import i18n
from servicepoint.core.security import CSRF_COOKIE, new_csrf_token

LANG_COOKIE = "sp_lang"
_TOO_LARGE = {
    "de": "Die Anfrage ist zu groß.",
    "en": "The request is too large.",
}


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header must not break the page
                continue
    return {k: v.value for k, v in jar.items()}


def _query_lang(scope: Scope) -> i18n.Lang | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return i18n.coerce_lang((query.get("lang") or [None])[0])


def _lang(scope: Scope, cookies: dict[str, str], default: i18n.Lang) -> i18n.Lang:
    return _query_lang(scope) or i18n.coerce_lang(cookies.get(LANG_COOKIE)) or default


def _remembered_lang(scope: Scope, cookies: dict[str, str]) -> str | None:
    """A page opened with ?lang= keeps that language for the next links and forms, which
    carry no ?lang=: the choice goes into the same cookie the language switch sets. API calls
    (the widget asks with the page's ?lang=) choose nothing."""
    chosen = _query_lang(scope)
    if chosen is None or chosen == cookies.get(LANG_COOKIE) or scope["path"].startswith("/api"):
        return None
    app = scope.get("app")
    mode = getattr(getattr(getattr(app, "state", None), "settings", None), "secure_cookies", "")
    secure = mode == "always" or (mode != "never" and scope.get("scheme") == "https")
    return f"{LANG_COOKIE}={chosen}; Path=/; Max-Age={365 * 86400}; SameSite=Lax; HttpOnly" + (
        "; Secure" if secure else ""
    )


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, max_body: int, default_lang: i18n.Lang, csp: str) -> None:
        self.app = app
        self.max_body = max_body
        self.default_lang = default_lang
        self.csp = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        lang = _lang(scope, cookies, self.default_lang)
        csrf = cookies.get(CSRF_COOKIE) or new_csrf_token()
        state: dict[str, Any] = scope.setdefault("state", {})
        state.update(lang=lang, csrf_token=csrf)
        i18n.current_lang.set(lang)
        if self._declared_too_large(scope):
            await self._reject(send, lang)
            return
        new_cookie = CSRF_COOKIE not in cookies
        sent = self._headers(send, csrf, new_cookie, _remembered_lang(scope, cookies))
        await self.app(scope, self._limited(receive), sent)

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return not value.isdigit() or int(value) > self.max_body
        return False

    async def _reject(self, send: Send, lang: str) -> None:
        body = json.dumps({"error": "payload_too_large", "detail": _TOO_LARGE[lang]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _limited(self, receive: Receive) -> Receive:
        """Stop chunked bodies that grow past the limit (no Content-Length to check upfront)."""
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    # An HTTPException survives FastAPI's body parsing as 413; others become 400.
                    raise HTTPException(status_code=413)

            return message

        return wrapped

    def _headers(self, send: Send, csrf: str, new_cookie: bool, lang_cookie: str | None) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", self.csp.encode()),
                ]
                if new_cookie:
                    cookie = f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Strict; HttpOnly"
                    headers.append((b"set-cookie", cookie.encode()))
                if lang_cookie:
                    headers.append((b"set-cookie", lang_cookie.encode()))
                message["headers"] = headers
            await send(message)

        return wrapped


class InFlightLimitMiddleware:
    """At most `limit` requests at once; the rest wait cheaply in the event loop.

    A request commits only after its response has been serialised, which needs a worker
    thread. If every thread is taken by requests waiting for what that request holds (SQLite's
    single write lock, a row lock, or a pooled connection), nobody can finish until a timeout.
    Admitting fewer requests than there are threads and pooled connections guarantees the
    holder can finish. Event streams hold no thread or connection and pass.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/live/", "/static/")):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
