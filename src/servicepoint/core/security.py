"""CSRF protection (double-submit cookie) and client addresses for rate limits."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from servicepoint.core.i18n import N_
from servicepoint.errors import Forbidden

CSRF_COOKIE = "sp_csrf"
CSRF_FIELD = "csrf_token"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


async def csrf_protect(request: Request) -> None:
    """Dependency for every form POST: the form's token must equal the cookie's."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get("x-csrf-token", "")
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(cookie, sent):
        raise CsrfFailed(
            N_(
                "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu und "
                "versuchen Sie es noch einmal."
            )
        )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def within_rate(request: Request, key: str, *, limit: int, window: int) -> bool:
    """Count one public write of this address under `key`; False once over the limit. Always
    True with bot protection off (load and acceptance tests)."""
    if not request.app.state.settings.bot_protection_on:
        return True
    limiter = request.app.state.rate_limiter
    return bool(limiter.hit(f"{key}:{client_ip(request)}", limit=limit, window=window))


def secure_cookie(request: Request) -> bool:
    """Secure flag: always/never by setting, else when the request came over TLS.

    Behind a TLS proxy run uvicorn with --proxy-headers so the scheme is seen as https.
    """
    mode = request.app.state.settings.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")
