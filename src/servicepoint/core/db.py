"""Engine, declarative base and the request-scoped session (committed once per request)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar, cast

from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; SQLite drops the offset, so it is restored on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times must be timezone-aware")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


def table(model: type[Base]) -> Table:
    """A model's table, for core INSERTs on hot paths (no unit-of-work bookkeeping)."""
    return cast(Table, model.__table__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """Build the engine; SQLite gets WAL and a busy timeout so concurrent writers wait, not fail."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextlib.contextmanager
def request_transaction(request: Request) -> Iterator[Session]:
    """The request's one session: committed once on success, rolled back on any exception."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory.begin() as session:
        yield session


def get_session(request: Request) -> Iterator[Session]:
    """Request dependency around `request_transaction`."""
    with request_transaction(request) as session:
        yield session


# scope="function" commits before the response is sent, so a failed commit is never reported
# to the client as success. Every route and dependency takes its session through this, except
# hot write routes that open `request_transaction` themselves: a sync dependency enters and
# exits in thread hops of their own, and on SQLite the write lock would be held across the
# hop between the route's last write and the commit.
SessionDep: Any = Depends(get_session, scope="function")
