"""CSRF protection (a signed token bound to the browser and its session), client addresses for
rate limits, and the one rule for the Secure flag of every cookie."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from fastapi import Request
from starlette.requests import HTTPConnection

from servicepoint.core.i18n import N_
from servicepoint.errors import Forbidden

CSRF_COOKIE = "sp_csrf"  # a random id per browser; the form token is derived from it
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "sp_session"
# Request state set once a logged-in user is resolved: the answer is that user's own, so the
# security-headers layer sends `Cache-Control: no-store` whatever the path.
PRIVATE_STATE = "private_page"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_token_for(secret: str, browser: str, session: str) -> str:
    """The form token for this browser id and staff session cookie, signed with the secret.

    A token from another browser or another session fails, and a cookie planted by someone
    else (a sibling subdomain, plain HTTP) forges nothing without the secret.
    """
    message = f"csrf:{browser}:{session}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def csrf_protect(request: Request) -> None:
    """Dependency for every form POST: the token sent must be the one for this browser."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get("x-csrf-token", "")
    expected = getattr(request.state, "csrf_token", "")
    known = bool(request.cookies.get(CSRF_COOKIE))  # else `expected` is for a new browser id
    if not known or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise CsrfFailed(
            N_(
                "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu und "
                "versuchen Sie es noch einmal."
            )
        )


def mark_private(request: Request) -> None:
    """No browser or proxy may keep this answer (shared PCs at the counter)."""
    setattr(request.state, PRIVATE_STATE, True)


def client_key(host: str) -> str:
    """IPv6 by /64, since one household, phone or server gets a whole /64 and may use any
    address in it; an IPv4 address mapped into IPv6 is that IPv4 address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address (a test client, a Unix socket)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def client_ip(request: HTTPConnection) -> str:
    """The client as every per-client limit counts it (see client_key); a request or a
    WebSocket."""
    return client_key(request.client.host if request.client else "unknown")


def within_rate(request: HTTPConnection, key: str, *, limit: int, window: int) -> bool:
    """Count one public write of this address under `key`; False once over the limit. Always
    True with bot protection off (load and acceptance tests)."""
    if not request.app.state.settings.bot_protection_on:
        return True
    limiter = request.app.state.rate_limiter
    return bool(limiter.hit(f"{key}:{client_ip(request)}", limit=limit, window=window))


def secure_for(mode: str, scheme: str) -> bool:
    """Secure flag: always/never by setting, else when the request came over TLS.

    Behind a TLS proxy, name it in SERVICEPOINT_TRUSTED_PROXIES so the scheme is seen as https.
    """
    return mode == "always" or (mode == "auto" and scheme in ("https", "wss"))


def secure_cookie(request: Request) -> bool:
    return secure_for(request.app.state.settings.secure_cookies, request.url.scheme)
