"""Pure ASGI middleware: request language, CSRF token, body size limit, security headers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicepoint.core import i18n
from servicepoint.core.i18n import N_
from servicepoint.core.security import (
    CSRF_COOKIE,
    PRIVATE_STATE,
    SESSION_COOKIE,
    csrf_token_for,
    new_csrf_token,
    secure_for,
)
from servicepoint.web.errors import error_response

LANG_COOKIE = "sp_lang"
_TOO_LARGE = N_("Die Anfrage ist zu groß.")


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


def _remembered_lang(scope: Scope, cookies: dict[str, str], secure: bool) -> str | None:
    """A page opened with ?lang= keeps that language for the next links and forms, which
    carry no ?lang=: the choice goes into the same cookie the language switch sets. API calls
    (the widget asks with the page's ?lang=) choose nothing."""
    chosen = _query_lang(scope)
    if chosen is None or chosen == cookies.get(LANG_COOKIE) or scope["path"].startswith("/api"):
        return None
    return f"{LANG_COOKIE}={chosen}; Path=/; Max-Age={365 * 86400}; SameSite=Lax; HttpOnly" + (
        "; Secure" if secure else ""
    )


def _media_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


def path_matches(path: str, pattern: str) -> bool:
    """`pattern` is a path prefix, or `head*tail`: the whole path is head, one non-empty path
    segment (no "/"), then tail — so only that one route earns its limit, not its siblings."""
    head, star, tail = pattern.partition("*")
    if not star:
        return path.startswith(pattern)
    middle = path[len(head) : len(path) - len(tail)]
    fits = len(path) > len(head) + len(tail)
    return fits and path.startswith(head) and path.endswith(tail) and "/" not in middle


class RequestContextMiddleware:
    """Language, CSRF token and the body size limit of every request.

    Every body is limited to `max_body`, except multipart forms posted to a path matching a
    pattern in `multipart_limits` (the pages citizens upload documents on), which get its limit.
    Only the form type earns the larger limit, so JSON and plain forms stay small everywhere.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        default_lang: i18n.Lang,
        secret_key: str,
        secure_cookies: str,
        multipart_limits: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.multipart_limits = tuple(multipart_limits)
        self.default_lang = default_lang
        self.secret_key = secret_key
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        lang = _lang(scope, cookies, self.default_lang)
        browser = cookies.get(CSRF_COOKIE) or new_csrf_token()
        token = csrf_token_for(self.secret_key, browser, cookies.get(SESSION_COOKIE, ""))
        state: dict[str, Any] = scope.setdefault("state", {})
        state.update(lang=lang, csrf_token=token)
        i18n.current_lang.set(lang)
        limit = self._limit(scope)
        if _declared_too_large(scope, limit):
            await _reject(scope, receive, send, lang)
            return
        secure = secure_for(self.secure_cookies, scope.get("scheme", "http"))
        new_cookies = [_remembered_lang(scope, cookies, secure)]
        if CSRF_COOKIE not in cookies:
            new_cookies.append(self._browser_cookie(scope, browser))
        sent = self._set_cookies(send, [c.encode() for c in new_cookies if c])
        await self.app(scope, _limited(receive, limit), sent)

    def _limit(self, scope: Scope) -> int:
        if self.multipart_limits and _media_type(scope) == b"multipart/form-data":
            path: str = scope.get("path", "")
            for pattern, limit in self.multipart_limits:
                if path_matches(path, pattern):
                    return limit
        return self.max_body

    def _browser_cookie(self, scope: Scope, browser: str) -> str:
        cookie = f"{CSRF_COOKIE}={browser}; Path=/; SameSite=Strict; HttpOnly"
        if secure_for(self.secure_cookies, scope.get("scheme", "http")):
            cookie += "; Secure"  # the same rule as the session cookie
        return cookie

    def _set_cookies(self, send: Send, cookies: list[bytes]) -> Send:
        async def wrapped(message: Message) -> None:
            if cookies and message["type"] == "http.response.start":
                extra = [(b"set-cookie", cookie) for cookie in cookies]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return wrapped


async def _reject(scope: Scope, receive: Receive, send: Send, lang: str) -> None:
    """The shared error answer: JSON for the API, the error page in the user's language for
    people (a citizen's too large upload must not end on a bare JSON text)."""
    detail = i18n.translate(lang, _TOO_LARGE)
    response = error_response(Request(scope, receive), 413, "payload_too_large", detail)
    await response(scope, receive, send)


def _declared_too_large(scope: Scope, limit: int) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return not value.isdigit() or int(value) > limit
    return False


def _limited(receive: Receive, limit: int) -> Receive:
    """Stop chunked bodies that grow past the limit (no Content-Length to check upfront)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # An HTTPException survives FastAPI's body parsing as 413; others become 400.
                raise HTTPException(status_code=413)

        return message

    return wrapped


# Paths only staff use: their redirects to the login and their errors are never kept either.
STAFF_PREFIXES = ("/mitarbeiter", "/verwaltung")


class SecurityHeadersMiddleware:
    """The outermost layer: every answer carries the security headers, errors included.

    It wraps even Starlette's error middleware (500) and the early 413, which the app's own
    middleware never sees. `Cache-Control: no-store` goes on every answer built for a
    logged-in user (the account dependency marks the request state, see security.mark_private)
    and on everything under the staff paths.
    """

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", csp.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        staff = any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)
        # Shared with request.state of every layer inside, which may mark the page private.
        state: dict[str, Any] = scope.setdefault("state", {})

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                private = staff or bool(state.get(PRIVATE_STATE))
                extra = self.headers + ([(b"cache-control", b"no-store")] if private else [])
                replaced = {name for name, _ in extra}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, wrapped)


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
