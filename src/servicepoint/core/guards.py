"""Abuse guards that every worker shares through the database: attempt counters, spent challenges.

Both work inside the request's transaction, so they hold across processes without Redis: an
upsert counts atomically (a row lock on PostgreSQL, the write lock on SQLite), and a primary key
accepts a solved challenge once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Integer, String, case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base, UTCDateTime, table


class AttemptCounter(Base):
    __tablename__ = "attempt_counter"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class SpentChallenge(Base):
    __tablename__ = "spent_challenge"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


@dataclass(frozen=True)
class Count:
    value: int
    expires_at: dt.datetime

    def retry_after(self, now: dt.datetime) -> int:
        """Whole seconds until the window ends (at least 1), for a Retry-After header."""
        return max(1, int((self.expires_at - now).total_seconds() + 0.999))


def _digest(text: str) -> str:
    # Keys may carry an address and a login name; only their hash is stored.
    return hashlib.sha256(text.encode()).hexdigest()


def bump(session: Session, key: str, *, window: int, now: dt.datetime | None = None) -> Count:
    """Count one attempt under `key` in a fixed window and return the count, atomically."""
    now = now or utcnow()
    counters = table(AttemptCounter)
    ends = now + dt.timedelta(seconds=window)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    expired = counters.c.expires_at <= literal(now, UTCDateTime())
    renewed = literal(ends, UTCDateTime())
    stmt = (
        insert(counters)
        .values(key=_digest(key), count=1, expires_at=ends)
        .on_conflict_do_update(
            index_elements=[counters.c.key],
            set_={
                "count": case((expired, 1), else_=counters.c.count + 1),
                "expires_at": case((expired, renewed), else_=counters.c.expires_at),
            },
        )
        .returning(counters.c.count, counters.c.expires_at)
    )
    count, expires_at = session.execute(stmt).one()
    return Count(int(count), expires_at)


def refund(session: Session, key: str) -> None:
    """Take back one attempt (it turned out to be legitimate)."""
    counters = table(AttemptCounter)
    session.execute(
        update(counters)
        .where(counters.c.key == _digest(key), counters.c.count > 0)
        .values(count=counters.c.count - 1)
    )


def clear(session: Session, key: str) -> None:
    session.execute(delete(AttemptCounter).where(AttemptCounter.key == _digest(key)))


def spend(session: Session, token: str, *, ttl: int, now: dt.datetime | None = None) -> bool:
    """Mark a solved challenge as used; False when any worker has used it before."""
    now = now or utcnow()
    row = SpentChallenge(token_hash=_digest(token), expires_at=now + dt.timedelta(seconds=ttl))
    try:
        with session.begin_nested():  # a duplicate rolls back only this savepoint
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def purge(session: Session, *, now: dt.datetime | None = None) -> int:
    """Drop expired counters and spent challenges (the worker calls this)."""
    now = now or utcnow()
    total = 0
    for model in (AttemptCounter, SpentChallenge):
        result = session.execute(delete(model).where(model.expires_at <= now))
        total += int(getattr(result, "rowcount", 0) or 0)
    return total
