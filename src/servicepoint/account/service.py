"""Accounts: users with argon2 hashes, server-side sessions, roles and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from servicepoint.account.errors import InvalidCredentials, InvalidUser, RoleRequired
from servicepoint.account.models import ROLES, AuditEntry, StaffSession, User
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

_HASHER = PasswordHasher()
# Verifying against a dummy hash for unknown users keeps the timing the same for both cases.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
# Who may open pages of which role: admins may do everything.
ROLE_GRANTS = {
    "any": {"staff", "planner", "admin"},
    "staff": {"staff", "admin"},
    "planner": {"planner", "admin"},
    "admin": {"admin"},
}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, *, username: str, password: str, role: str) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise InvalidUser(N_("Unbekannte Rolle: %(role)s"), role=role)
    if not (3 <= len(username) <= 64) or not username.replace(".", "").replace("-", "").isalnum():
        raise InvalidUser(
            N_("Benutzernamen: 3–64 Zeichen, Buchstaben, Ziffern, Punkt, Bindestrich.")
        )
    if len(password) < 10:
        raise InvalidUser(N_("Das Passwort muss mindestens 10 Zeichen lang sein."))
    if session.scalar(select(User).where(User.username == username)):
        raise InvalidUser(N_("Diesen Benutzernamen gibt es schon."))
    user = User(username=username, password_hash=_HASHER.hash(password), role=role)
    session.add(user)
    session.flush()
    audit(session, username=None, action="user.create", target=username, detail={"role": role})
    return user


def authenticate(session: Session, *, username: str, password: str) -> User:
    name = username.strip().lower()
    # No username holds a NUL, and PostgreSQL rejects it in a query: treat it as unknown.
    user = None if "\x00" in name else session.scalar(select(User).where(User.username == name))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials(N_("Benutzername oder Passwort ist falsch.")) from None
    if user is None or not user.active:
        raise InvalidCredentials(N_("Benutzername oder Passwort ist falsch."))
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def password_hash_of(session: Session, *, username: str) -> str | None:
    """The stored hash of an active account (marks of known browsers are bound to it)."""
    if "\x00" in username:
        return None
    user = session.scalar(select(User).where(User.username == username))
    return user.password_hash if user is not None and user.active else None


def start_session(session: Session, *, user: User, hours: int) -> str:
    """Create a server-side session; returns the cookie value (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(hours=hours)
    session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, expires_at=expires))
    audit(session, username=user.username, action="login")
    return token


def user_for_token(session: Session, *, token: str | None) -> User | None:
    if not token:
        return None
    row = session.get(StaffSession, _token_hash(token))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


def end_session(session: Session, *, token: str | None) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def purge_expired_sessions(session: Session) -> int:
    result = session.execute(delete(StaffSession).where(StaffSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def require_role(user: User, role: str) -> None:
    if user.role not in ROLE_GRANTS[role]:
        raise RoleRequired(N_("Für diese Seite fehlt Ihnen die Berechtigung."))


def audit(
    session: Session,
    *,
    username: str | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    if target is not None:
        target = target.replace("\x00", "")  # e.g. a typed login name; PostgreSQL refuses NUL
    session.add(AuditEntry(username=username, action=action, target=target, detail=detail or {}))


def purge_audit(session: Session, *, retention_days: int, now: dt.datetime) -> int:
    """Delete audit entries older than the retention period; returns how many went."""
    cutoff = now - dt.timedelta(days=retention_days)
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def recent_audit(session: Session, *, limit: int = 100) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
