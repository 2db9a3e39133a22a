"""Signalling across worker processes: two apps (two workers) sharing one database and Redis.

The citizen's connection is on app A, the clerk's on app B; everything between them (presence,
offers, candidates, chat, control messages, takeover, the queue) crosses through Redis pub/sub.
Runs when SERVICEPOINT_TEST_REDIS_URL is set (CI has Redis), else skips with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import REDIS_URL
from tests.consultation.ws_support import (
    admit,
    booking,
    closed_with,
    drain,
    end,
    ensure_clerk,
    guest_path,
    join_path,
    make_settings,
    quiet_everyone,
    running,
    sealed_frames,
    staff_ws,
    until,
)

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="SERVICEPOINT_TEST_REDIS_URL not set: cross-worker signalling skipped"
)

OFFER = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
ANSWER = {"description": {"type": "answer", "sdp": "v=0\r\n"}}


@pytest.fixture
def workers(real_engine: Engine, state_dir: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps, each in its own event loop and thread, like two uvicorn workers."""
    ensure_clerk(real_engine)
    settings = make_settings(real_engine, state_dir, redis_url=REDIS_URL)
    with running(settings) as a, running(settings) as b:
        yield a, b
    quiet_everyone(real_engine)


def test_citizen_on_one_worker_clerk_on_another(
    workers: tuple[TestClient, TestClient], real_engine: Engine
) -> None:
    a, b = workers
    code = booking(real_engine)
    with staff_ws(b) as console:
        until(console, "queue")
        with a.websocket_connect(join_path(code)) as citizen:
            until(citizen, "state", state="waiting")
            queue = until(console, "queue")
            while code not in [w["code"] for w in queue["waiting"]]:
                queue = until(console, "queue")  # the knock on A reached the console on B
            admit(b, real_engine, code)  # the admit POST runs on B
            until(citizen, "state", state="admitted")
            console.send_json({"type": "join", "code": code})
            assert until(console, "peers", peers=["citizen"])
            assert until(citizen, "peers", peers=["clerk"])
            console.send_json({"type": "signal", "to": "citizen", "data": OFFER})
            assert until(citizen, "signal") == {"type": "signal", "from": "clerk", "data": OFFER}
            citizen.send_json({"type": "signal", "to": "clerk", "data": ANSWER})
            assert until(console, "signal")["data"] == ANSWER
            citizen.send_json({"type": "chat", "text": "Guten Tag"})
            assert until(console, "chat")["text"] == "Guten Tag"
            console.send_json({"type": "chat", "text": "Hallo"})
            assert until(citizen, "chat")["from"] == "clerk"
            end(b, real_engine, code)
            assert until(citizen, "state", state="ended")
            assert closed_with(citizen)[0] == 4410
        assert until(console, "state", state="ended")["code"] == code


def test_a_second_tab_on_another_worker_takes_over(
    workers: tuple[TestClient, TestClient], real_engine: Engine
) -> None:
    a, b = workers
    code = booking(real_engine)
    with a.websocket_connect(join_path(code)) as first:
        until(first, "state")
        with b.websocket_connect(join_path(code)) as second:
            until(second, "state")
            close, reason, frames = closed_with(first)
            assert (close, reason["error"], frames[-1]) == (4409, "replaced", {"type": "replaced"})
            second.send_json({"type": "ping"})
            assert until(second, "pong")


def test_the_seal_holds_across_workers(
    workers: tuple[TestClient, TestClient], real_engine: Engine
) -> None:
    a, b = workers
    code = booking(real_engine)
    with a.websocket_connect(join_path(code)) as citizen:
        until(citizen, "state", state="waiting")
        with b.websocket_connect(guest_path(b, real_engine, code)) as guest:
            until(guest, "peers")
            for n in range(10):
                guest.send_json({"type": "signal", "to": "citizen", "data": OFFER})
                guest.send_json({"type": "chat", "text": f"{n}"})
            guest.send_json({"type": "ping"})
            until(guest, "pong")
            assert sealed_frames(drain(citizen, 1.0)) == []
            admit(a, real_engine, code)
            assert until(citizen, "peers", peers=["guest-1"])
            assert until(guest, "peers", peers=["citizen"])
            guest.send_json({"type": "signal", "to": "citizen", "data": OFFER})
            assert until(citizen, "signal")["from"] == "guest-1"
        assert until(citizen, "peers", peers=[])  # the guest on B left
