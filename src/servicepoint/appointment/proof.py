"""The booking proof-of-work as requests use it: the form and the API need the same proof.

`core.challenge` issues and checks a challenge; here a solved one is also spent, in the
database, so a replay fails on every worker, with or without Redis.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from servicepoint.appointment.errors import ChallengeFailed
from servicepoint.config import Settings
from servicepoint.core import challenge, guards
from servicepoint.core.i18n import N_


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def issue(request: Request) -> str | None:
    """A fresh challenge, or None when bot protection is off (load and acceptance tests)."""
    settings = _settings(request)
    if not settings.bot_protection_on:
        return None
    return challenge.issue(settings.secret_key, settings.pow_difficulty)


def require(request: Request, session: Session, token: str | None, nonce: str | None) -> None:
    """The challenge must be ours, fresh, solved and not used before; else nothing is booked."""
    settings = _settings(request)
    if not settings.bot_protection_on:
        return
    solved = challenge.verify(settings.secret_key, token or "", nonce or "")
    if not solved or not guards.spend(session, token or "", ttl=challenge.MAX_AGE_SECONDS):
        raise ChallengeFailed(
            N_(
                "Die Sicherheitsprüfung ist fehlgeschlagen. Bitte laden Sie "
                "die Seite neu (JavaScript wird dafür benötigt)."
            )
        )
