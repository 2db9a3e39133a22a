"""Request dependencies that resolve the logged-in staff member and enforce roles."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from servicepoint.account import service
from servicepoint.account.errors import LoginRequired
from servicepoint.account.models import User
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_
from servicepoint.core.security import SESSION_COOKIE, mark_private

__all__ = ["SESSION_COOKIE", "optional_user", "require"]


def optional_user(request: Request, session: Session = SessionDep) -> User | None:
    user = service.user_for_token(session, token=request.cookies.get(SESSION_COOKIE))
    request.state.user = user
    if user is not None:  # the page may show what only this user sees
        mark_private(request)
    return user


def require(role: str) -> Callable[..., User]:
    """Dependency factory: the page needs a logged-in user holding `role` (admins pass all)."""

    def dependency(user: User | None = Depends(optional_user)) -> User:
        if user is None:
            raise LoginRequired(N_("Bitte melden Sie sich an."))
        service.require_role(user, role)
        return user

    return dependency
