"""Password guessing: concurrent guesses are counted before any is checked, on both databases;
a guesser is slowed down, the owner in a browser the account used before is not locked out.

These tests use the app's own engine (real commits, as in production) instead of the rolled-back
test connection, which cannot be shared between threads; they clean up what they wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from servicepoint.account import guard
from servicepoint.account import service as account_service
from servicepoint.account.models import AuditEntry, StaffSession, User
from servicepoint.app import create_app
from servicepoint.config import Settings
from servicepoint.core import guards
from servicepoint.core.guards import AttemptCounter
from tests.conftest import csrf_of, make_user

NAME = "guard-target"
OTHER = "guard-colleague"
BURST = 30
RIGHT = "correct-horse-1"
OFFICE = ("192.0.2.70", 5000)  # one address for the whole office (NAT)


@pytest.fixture
def live_app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings.model_copy(update={"login_address_max_attempts": 9}))
    with application.state.sessionmaker() as session:
        make_user(session, NAME, "staff")
        make_user(session, OTHER, "staff")
    yield application
    with application.state.sessionmaker.begin() as session:
        session.execute(delete(StaffSession))
        session.execute(delete(User).where(User.username.in_([NAME, OTHER])))
        session.execute(delete(AuditEntry).where(AuditEntry.target.in_([NAME, OTHER])))
        session.execute(delete(AuditEntry).where(AuditEntry.username.in_([NAME, OTHER])))
        session.execute(delete(AttemptCounter))
    application.state.engine.dispose()


def _guess(client: TestClient, token: str, password: str, name: str = NAME) -> int:
    data = {"username": name, "password": password, "csrf_token": token, "next": "/mitarbeiter"}
    return client.post("/mitarbeiter/login", data=data, follow_redirects=False).status_code


def _browser(app: FastAPI, address: tuple[str, int] = OFFICE) -> TestClient:
    return TestClient(app, client=address)


def _try(client: TestClient, password: str, name: str = NAME) -> int:
    return _guess(client, csrf_of(client), password, name)


def _spend_the_office_budget(app: FastAPI, name: str = NAME) -> None:
    with _browser(app) as guesser:
        codes = [_try(guesser, f"wrong-{n}-pw", name) for n in range(6)]
    assert codes == [401] * 5 + [429]


def test_a_burst_of_concurrent_guesses_is_checked_at_most_the_budget(
    live_app: FastAPI, settings: Settings
) -> None:
    with TestClient(live_app, client=("192.0.2.50", 5000)) as guesser:
        token = csrf_of(guesser)
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            codes = list(pool.map(lambda n: _guess(guesser, token, f"wrong-{n}-pw"), range(BURST)))
    assert sorted(set(codes)) == [401, 429]
    assert codes.count(401) == settings.login_max_attempts
    with TestClient(live_app, client=("192.0.2.51", 5000)) as owner:
        assert _guess(owner, csrf_of(owner), "correct-horse-1") == 303


def test_counters_expire_and_the_worker_purges_them(live_app: FastAPI) -> None:
    import datetime as dt

    start = dt.datetime(2026, 12, 14, 7, 0, tzinfo=dt.UTC)
    with live_app.state.sessionmaker.begin() as session:
        assert guards.bump(session, "k", window=60, now=start).value == 1
        assert guards.bump(session, "k", window=60, now=start).value == 2
        later = start + dt.timedelta(seconds=61)
        assert guards.bump(session, "k", window=60, now=later).value == 1  # a new window
        assert guards.purge(session, now=later + dt.timedelta(seconds=61)) == 1


def test_a_guesser_sharing_the_address_does_not_lock_out_the_owners_browser(
    live_app: FastAPI,
) -> None:
    with _browser(live_app) as owner:
        assert _try(owner, RIGHT) == 303
        owner.cookies.delete("sp_session")
        _spend_the_office_budget(live_app)
        assert _try(owner, RIGHT) == 303  # a known browser: exempt from the address budget
    with _browser(live_app) as new_browser:
        assert _try(new_browser, RIGHT) == 429  # the guesser is still slowed down


def test_a_known_browser_still_counts_its_own_failures(live_app: FastAPI) -> None:
    with _browser(live_app) as owner:
        assert _try(owner, RIGHT) == 303
        owner.cookies.delete("sp_session")
        codes = [_try(owner, f"wrong-{n}-pw") for n in range(6)]
        assert codes == [401] * 5 + [429]
        assert _try(owner, RIGHT) == 429


def test_guessing_one_account_leaves_colleagues_at_that_address_alone(live_app: FastAPI) -> None:
    _spend_the_office_budget(live_app)
    with _browser(live_app) as colleague:
        assert _try(colleague, RIGHT, OTHER) == 303
        colleague.cookies.clear()
        # Across accounts the address has a larger budget (9 here): 5 spent above, 4 more.
        codes = [_try(colleague, f"wrong-{n}-pw", OTHER) for n in range(5)]
    assert codes == [401] * 4 + [429]


def _marks(client: TestClient) -> list[str]:
    return [v for k, v in client.cookies.items() if k.startswith(guard.KNOWN_COOKIE)]


def test_each_browser_gets_its_own_mark(live_app: FastAPI) -> None:
    with _browser(live_app) as first, _browser(live_app) as second:
        assert _try(first, RIGHT) == 303 and _try(second, RIGHT) == 303
        assert len(_marks(first)) == 1 and _marks(first) != _marks(second)


def _change_password(app: FastAPI) -> None:
    with app.state.sessionmaker.begin() as session:
        new_hash = account_service._HASHER.hash("a-new-secret-9")
        session.execute(update(User).where(User.username == NAME).values(password_hash=new_hash))


def test_a_password_change_revokes_every_mark(live_app: FastAPI) -> None:
    with _browser(live_app) as owner:
        assert _try(owner, RIGHT) == 303
        owner.cookies.delete("sp_session")
        _change_password(live_app)
        _spend_the_office_budget(live_app)
        assert _try(owner, "a-new-secret-9") == 429


def test_a_mark_expires(live_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    with _browser(live_app) as owner:
        assert _try(owner, RIGHT) == 303
        owner.cookies.delete("sp_session")
        later = guard.utcnow() + dt.timedelta(days=guard.KNOWN_DAYS + 1)
        monkeypatch.setattr(guard, "utcnow", lambda: later)
        _spend_the_office_budget(live_app)
        assert _try(owner, RIGHT) == 429


def test_the_attempt_is_committed_before_the_password_is_checked(
    live_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slow check must hold no transaction that counts: on SQLite that would hold the one
    write lock (and stall every booking) for the whole password check."""
    seen: list[int] = []
    real = account_service._HASHER

    class Probe:
        def verify(self, *args: Any) -> bool:
            with live_app.state.sessionmaker() as other:
                seen.append(int(other.scalar(select(func.count()).select_from(AttemptCounter))))
            return bool(real.verify(*args))

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(account_service, "_HASHER", Probe())
    with _browser(live_app) as owner:
        assert _try(owner, "wrong-pw-123") == 401
    assert seen and seen[0] > 0
