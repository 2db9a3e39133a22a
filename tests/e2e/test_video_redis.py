"""The video call of test_video.py with citizen and clerk on two server processes (issue 16).

Two uvicorn processes share the PostgreSQL test database and Redis, as a city's workers do:
the citizen's page talks to one, the clerk's console to the other, so admission, signalling
and chat must cross processes through Redis. Skips without SERVICEPOINT_TEST_POSTGRES_URL and
SERVICEPOINT_TEST_REDIS_URL (CI sets both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from bench.video_common import prepare as with_video_location
from bench.video_common import reset_postgres, server
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from tests.conftest import prepare
from tests.e2e.support import CHROMIUM, MODULE_MARKS, STAFF, LiveServer, RequestLog
from tests.e2e.video_support import (
    FAKE_MEDIA_ARGS,
    clear_rooms,
    expect_chat,
    send_chat,
    waiting_room,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

POSTGRES_URL = os.environ.get("SERVICEPOINT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SERVICEPOINT_TEST_REDIS_URL")
SECRET = "e2e-two-processes"

pytestmark = [
    *MODULE_MARKS,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL),
        reason="needs SERVICEPOINT_TEST_POSTGRES_URL and SERVICEPOINT_TEST_REDIS_URL "
        "(two server processes share a database and Redis)",
    ),
]


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two uvicorn processes on the reset PostgreSQL test database, signalling through Redis;
    afterwards the database is left migrated, seeded and empty, as the other tests expect."""
    assert POSTGRES_URL and REDIS_URL
    reset_postgres(POSTGRES_URL)
    engine = prepare(POSTGRES_URL)
    with Session(engine) as session:
        account_service.create_user(session, username=STAFF[0], password=STAFF[1], role="staff")
        session.commit()
    engine.dispose()
    with_video_location(POSTGRES_URL).dispose()
    try:
        with (
            server(POSTGRES_URL, secret=SECRET, redis_url=REDIS_URL) as one,
            server(POSTGRES_URL, secret=SECRET, redis_url=REDIS_URL) as two,
        ):
            yield _live(one), _live(two)
    finally:
        reset_postgres(POSTGRES_URL)
        prepare(POSTGRES_URL).dispose()


def _live(base: str) -> LiveServer:
    from servicepoint.config import Settings

    settings = Settings(database_url=POSTGRES_URL or "", secret_key=SECRET, base_url=base)
    return LiveServer(
        url=base,
        host=base.removeprefix("http://"),
        database_url=settings.database_url,
        settings=settings,
    )


@pytest.fixture(scope="module")
def video_browser(browser: Browser) -> Iterator[Browser]:
    instance = browser.browser_type.launch(
        executable_path=CHROMIUM, args=FAKE_MEDIA_ARGS, headless=True
    )
    yield instance
    instance.close()


def test_citizen_and_clerk_on_two_processes_connect_see_each_other_and_chat(
    video_browser: Browser, two_servers: tuple[LiveServer, LiveServer], request_log: RequestLog
) -> None:
    citizen_server, clerk_server = two_servers
    clear_rooms(citizen_server)
    with waiting_room(
        video_browser,
        citizen_server,
        request_log,
        name="Erika Zweiprozess",
        clerk_server=clerk_server,
    ) as room:
        room.connect()
        send_chat(room.clerk, "Grüße aus dem zweiten Prozess.")
        expect_chat(room.citizen, "Grüße aus dem zweiten Prozess.")
        send_chat(room.citizen, "Angekommen im ersten.")
        expect_chat(room.clerk, "Angekommen im ersten.")
        assert not room.frames.signalling() or "peers" in room.frames.types()
    assert not room.errors, room.errors
