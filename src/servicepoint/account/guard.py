"""Limits on password guessing, counted in the database before a password is checked.

Each attempt is counted first, in a short transaction of its own that commits before the slow
password check (on SQLite a longer one would hold the database's one write lock and stall every
booking), and handed back when it succeeds. Counting is atomic (see core.guards), so concurrent
guesses cannot slip past it, and only failures use up a budget.

A browser that is unknown for the account spends three budgets: per address and account (one
guesser at the office's shared address cannot lock the colleagues out), per address across
accounts (a larger one), and per account from all addresses. A browser where the account logged
in before carries a signed mark for it and spends only a budget of its own, so no guesser,
wherever they are, locks the owner out. The mark is bound to a random id of that browser, to the
account's password (a new password revokes every mark) and expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.account import service
from servicepoint.account.models import User
from servicepoint.config import Settings
from servicepoint.core import guards
from servicepoint.core.clock import utcnow
from servicepoint.core.security import client_ip, secure_cookie

KNOWN_COOKIE = "sp_known_"  # + a keyed digest of the account name: one mark per account
KNOWN_DAYS = 90


@dataclass(frozen=True)
class Attempt:
    """The budgets one login attempt was counted against, and the wait when one is spent."""

    keys: tuple[str, ...]
    wait: int | None = None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _sign(request: Request, text: str) -> str:
    secret = _settings(request).secret_key.encode()
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def _cookie_name(request: Request, username: str) -> str:
    return KNOWN_COOKIE + _sign(request, f"known-name:{username}")[:16]


def _signature(request: Request, username: str, browser: str, expires: int, pw_hash: str) -> str:
    stamp = hashlib.sha256(pw_hash.encode()).hexdigest()  # changes with the password
    return _sign(request, f"known-login:{username}:{browser}:{expires}:{stamp}")


def _mark(request: Request, username: str, browser: str, pw_hash: str) -> str:
    expires = int((utcnow() + dt.timedelta(days=KNOWN_DAYS)).timestamp())
    return f"{browser}.{expires}.{_signature(request, username, browser, expires, pw_hash)}"


def _known_browser(request: Request, session: Session, username: str) -> str | None:
    """This browser's id when it carries a valid, unexpired mark for the account."""
    browser, _, rest = request.cookies.get(_cookie_name(request, username), "").partition(".")
    expires, _, signature = rest.partition(".")
    if not browser or not expires.isdigit() or int(expires) <= utcnow().timestamp():
        return None
    pw_hash = service.password_hash_of(session, username=username)
    if pw_hash is None:
        return None
    expected = _signature(request, username, browser, int(expires), pw_hash)
    return browser if hmac.compare_digest(signature, expected) else None


def _budgets(request: Request, username: str, browser: str | None) -> list[tuple[str, int]]:
    settings = _settings(request)
    if browser is not None:
        return [(f"login:browser:{browser}", settings.login_max_attempts)]
    address = client_ip(request)
    return [
        (f"login:address:{address}:account:{username}", settings.login_max_attempts),
        (f"login:address:{address}", settings.login_address_max_attempts),
        (f"login:account:{username}", settings.login_account_max_attempts),
    ]


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


def admit(request: Request, username: str) -> Attempt:
    """Count this attempt and commit the count at once; `wait` is set when a budget is spent.

    Call it before the request's own session writes anything (SQLite has one write lock).
    """
    settings = _settings(request)
    if not settings.bot_protection_on:  # API.md: BOT_PROTECTION=off turns rate limits off
        return Attempt(())
    now = utcnow()
    with _factory(request).begin() as session:
        budgets = _budgets(request, username, _known_browser(request, session, username))
        counted: list[str] = []
        for key, limit in budgets:
            count = guards.bump(session, key, window=settings.login_window_seconds, now=now)
            counted.append(key)
            if count.value > limit:
                for spent in counted:  # a refused attempt uses up nothing
                    guards.refund(session, spent)
                return Attempt((), count.retry_after(now))
    return Attempt(tuple(key for key, _ in budgets))


def succeeded(request: Request, attempt: Attempt, user: User, response: Response) -> None:
    """Hand back the attempt and mark this browser as known for the account."""
    if attempt.keys:
        with _factory(request).begin() as session:
            for key in attempt.keys:
                guards.refund(session, key)
    browser = secrets.token_urlsafe(16)  # fresh: an id planted from elsewhere is never kept
    response.set_cookie(
        _cookie_name(request, user.username),
        _mark(request, user.username, browser, user.password_hash),
        max_age=KNOWN_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
    )
