"""The seal: until staff admit a citizen, no offer, ICE candidate, chat or peer list reaches them.

The citizen's connection listens to the room only after reading `admitted` from the database,
and the sending side refuses anything addressed to a citizen who is not admitted, so either
alone holds. The tests flood a waiting citizen from a guest in the room, from the clerk after a
send-back, and with raw messages on the room channel, and count what arrives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.testclient import WebSocketTestSession

from servicepoint.config import Settings
from servicepoint.consultation import hub, signalling
from tests.consultation.ws_support import (
    admit,
    booking,
    closed_with,
    drain,
    ensure_clerk,
    guest_path,
    join_path,
    make_settings,
    publish,
    quiet_everyone,
    running,
    sealed_frames,
    send_back,
    staff_ws,
    until,
)

OFFER = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
CANDIDATE = {"candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host", "sdpMid": "0"}}


@pytest.fixture
def client(real_engine: Engine, state_dir: Path) -> Iterator[TestClient]:
    ensure_clerk(real_engine)
    settings: Settings = make_settings(real_engine, state_dir)
    with running(settings) as test_client:
        yield test_client
    quiet_everyone(real_engine)


def flood(sender: WebSocketTestSession, rounds: int = 10) -> None:
    """Offers, candidates and chat for the citizen, paced under the frame limit; the pong
    at the end proves the sender's connection has handled every frame."""
    for n in range(rounds):
        sender.send_json({"type": "signal", "to": "citizen", "data": OFFER})
        sender.send_json({"type": "signal", "to": "citizen", "data": CANDIDATE})
        sender.send_json({"type": "chat", "text": f"Hallo {n}"})
    sender.send_json({"type": "ping"})
    until(sender, "pong")


def raw_flood(client: TestClient, code: str, rounds: int = 50) -> None:
    """What a broken or hostile worker could put on the room channel."""
    channel, broadcaster = hub.room_channel(code), client.app.state.broadcaster  # type: ignore[attr-defined]
    for n in range(rounds):
        frame = {"type": "signal", "from": "clerk", "data": OFFER}
        for to in ("citizen", "*"):
            broadcaster.publish(channel, signalling.relay_envelope("clerk", f"x{n}", to, frame))
        broadcaster.publish(channel, signalling.envelope("join", "clerk", f"x{n}"))
    publish(client, code, {"kind": "chat", "from": "clerk", "text": "not for the waiting room"})


def test_a_waiting_citizen_receives_nothing_until_admitted_and_nothing_after_send_back(
    client: TestClient, real_engine: Engine
) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as citizen:
        until(citizen, "state", state="waiting")
        with client.websocket_connect(guest_path(client, real_engine, code)) as guest:
            until(guest, "peers")
            flood(guest)
            raw_flood(client, code)
            assert sealed_frames(drain(citizen, 1.0)) == []
            admit(client, real_engine, code)
            until(citizen, "state", state="admitted")
            assert until(citizen, "peers", peers=["guest-1"])
            guest.send_json({"type": "signal", "to": "citizen", "data": OFFER})
            assert until(citizen, "signal")["from"] == "guest-1"  # admitted: it arrives
            with staff_ws(client) as console:
                console.send_json({"type": "join", "code": code})
                until(console, "peers", peers=["guest-1", "citizen"])
                send_back(client, real_engine, code)
                until(citizen, "state", state="waiting")
                drain(citizen, 0.3)  # what was under way before the send-back
                flood(console)
                flood(guest)
                raw_flood(client, code)
                assert sealed_frames(drain(citizen, 1.0)) == []


def _listen(client: TestClient, channel: str, seconds: float) -> Future[list[str]]:
    """Everything said on `channel` in the app's broadcaster for `seconds` (from now on)."""
    broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]

    async def listen() -> list[str]:
        heard: list[str] = []
        with anyio.move_on_after(seconds):
            async for message in broadcaster.subscribe(channel):
                heard.append(message)
        return heard

    assert client.portal is not None
    future: Future[list[str]] = client.portal.start_task_soon(listen)
    client.portal.call(anyio.sleep, 0.05)  # the subscription is active
    return future


def test_the_sending_side_refuses_signals_for_a_citizen_not_admitted(
    client: TestClient, real_engine: Engine
) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as citizen, staff_ws(client) as console:
        until(citizen, "state")
        admit(client, real_engine, code)
        console.send_json({"type": "join", "code": code})
        until(console, "peers", peers=["citizen"])
        send_back(client, real_engine, code)
        until(console, "state", state="waiting")
        heard = _listen(client, hub.room_channel(code), 1.0)
        flood(console, rounds=5)
        frames = [json.loads(m) for m in heard.result(timeout=5)]
    relayed = [m for m in frames if m.get("kind") == "frame"]
    assert relayed and all(m["to"] == "*" for m in relayed)  # the chat, for clerk and guests
    assert not [m for m in relayed if m["frame"]["type"] == "signal"]


ATTEMPTS = 25  # per kind; the bench (bench/video_seal.py) makes the 1,000


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("none", 4403), ("wrong", 4403), ("expired", 4410), ("cancelled", 4410), ("early", 4403)],
)
def test_scripted_attempts_receive_no_signalling(
    client: TestClient, real_engine: Engine, kind: str, expected: int
) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as citizen:  # the real call is going on
        until(citizen, "state")
        admit(client, real_engine, code)
        until(citizen, "peers")
        paths = [_attempt_path(real_engine, kind, code, n) for n in range(ATTEMPTS)]
        for path in paths:
            with client.websocket_connect(path) as ws:
                close, _, frames = closed_with(ws)
                raw_flood(client, code, rounds=1)
            assert close == expected
            assert sealed_frames(frames) == []


def _attempt_path(engine: Engine, kind: str, code: str, n: int) -> str:
    if kind == "none":  # (a path without any token matches no route and is closed unaccepted)
        return "/video/-/ws" if n % 2 else f"/video/ABCD{n:04d}/ws"
    if kind == "wrong":  # another booking's code with this one's MAC, or a made-up MAC
        real = join_path(code).split("/")[2]
        return f"/video/{code}-{'f' * 32}/ws" if n % 2 else f"/video/ZZZZ{n:04d}-{real[-32:]}/ws"
    minutes, status = {"expired": (-120, "booked"), "cancelled": (5, "cancelled")}.get(
        kind, (60, "booked")
    )
    return join_path(booking(engine, minutes_from_now=minutes, status=status))
