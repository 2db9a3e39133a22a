"""Account fixtures: real transaction isolation on SQLite and a cheap argon2 cost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine

from servicepoint.account import service as account_service

# The production argon2 cost (~0.25 s per hash or check) would make the account tests slow; they
# need the same algorithm and code path, not the same cost. test_accounts checks the real one.
REAL_HASHER = account_service._HASHER
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_service, "_HASHER", _FAST_HASHER)
    monkeypatch.setattr(account_service, "_DUMMY_HASH", _FAST_HASHER.hash("not-a-real-password"))


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """Like the root fixture, but with a real BEGIN on SQLite.

    pysqlite opens no transaction for `conn.begin()`, so the session's first SAVEPOINT is the
    outermost one and releasing it (every `session.commit()` in a test or request) COMMITS to the
    shared test database. An explicit BEGIN keeps the work inside the rolled-back transaction.
    """
    with engine.connect() as conn:
        outer = conn.begin()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        yield conn
        if outer.is_active:
            outer.rollback()
