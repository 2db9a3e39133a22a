"""Limits on password guessing, counted in the database before a password is checked.

Each attempt is counted first (atomically, see core.guards) and handed back when it succeeds,
so concurrent guesses cannot slip past the count, and only failures use up a budget. The
budget per address stops one guesser; the budget per account stops guessing from many
addresses, but never for a browser the account has logged in from before (a signed cookie),
so an attacker cannot lock the owner out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

from fastapi import Request, Response
from sqlalchemy.orm import Session

from servicepoint.config import Settings
from servicepoint.core import guards
from servicepoint.core.clock import utcnow
from servicepoint.core.security import client_ip, secure_cookie

KNOWN_COOKIE = "sp_known"
KNOWN_DAYS = 180


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _mark(request: Request, username: str) -> str:
    secret = _settings(request).secret_key.encode()
    return hmac.new(secret, f"known-login:{username}".encode(), hashlib.sha256).hexdigest()


def _known_browser(request: Request, username: str) -> bool:
    return hmac.compare_digest(request.cookies.get(KNOWN_COOKIE, ""), _mark(request, username))


def _budgets(request: Request, username: str) -> Iterator[tuple[str, int]]:
    settings = _settings(request)
    yield f"login:ip:{client_ip(request)}", settings.login_max_attempts
    if not _known_browser(request, username):
        yield f"login:account:{username}", settings.login_account_max_attempts


def admit(request: Request, session: Session, username: str) -> int | None:
    """Count this attempt; the seconds to wait when a budget is spent, else None."""
    settings = _settings(request)
    if not settings.bot_protection_on:  # API.md: BOT_PROTECTION=off turns rate limits off
        return None
    now = utcnow()
    for key, limit in _budgets(request, username):
        count = guards.bump(session, key, window=settings.login_window_seconds, now=now)
        if count.value > limit:
            guards.refund(session, key)  # a refused attempt uses up nothing more
            return count.retry_after(now)
    return None


def succeeded(request: Request, session: Session, username: str, response: Response) -> None:
    """Hand back the attempt and remember this browser for the account."""
    if _settings(request).bot_protection_on:
        for key, _ in _budgets(request, username):
            guards.refund(session, key)
    response.set_cookie(
        KNOWN_COOKIE,
        _mark(request, username),
        max_age=KNOWN_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
    )
