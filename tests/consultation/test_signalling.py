"""WebSocket signalling: the protocol, takeover, presence, refusals, frame limits, staff access.

The pure parts (frames, ranks, roster, TURN credentials) are tested without a server; the
rest through Starlette's test client on a committed database (SQLite, and PostgreSQL when
SERVICEPOINT_TEST_POSTGRES_URL is set).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import BackgroundTasks
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from servicepoint.config import Settings
from servicepoint.consultation import hub, service, signalling
from servicepoint.consultation.signalling import (
    Chat,
    FrameBudget,
    Join,
    Ping,
    Roster,
    Signal,
    close_reason,
    ice_servers,
    offers,
    parse_frame,
)
from servicepoint.core.clock import local, utcnow
from tests.conftest import login
from tests.consultation.ws_support import (
    CLERK_NAME,
    ORIGIN,
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
    receive_within,
    running,
    send_back,
    staff_ws,
    until,
)

ALL = signalling.STAFF_FRAMES | signalling.CITIZEN_FRAMES
OFFER = {"description": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}
CANDIDATE = {
    "candidate": {
        "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    }
}


# -- pure ----------------------------------------------------------------------------------------
def test_frames_parse_into_their_models() -> None:
    assert isinstance(parse_frame('{"type":"ping"}', ALL), Ping)
    signal = parse_frame(json.dumps({"type": "signal", "to": "clerk", "data": OFFER}), ALL)
    assert isinstance(signal, Signal) and signal.to == "clerk"
    assert signalling.signal_frame("citizen", signal.data) == {
        "type": "signal",
        "from": "citizen",
        "data": OFFER,
    }
    candidate = parse_frame(json.dumps({"type": "signal", "to": "guest-2", "data": CANDIDATE}), ALL)
    assert isinstance(candidate, Signal)
    assert signalling.signal_frame("clerk", candidate.data)["data"] == CANDIDATE
    chat = parse_frame(json.dumps({"type": "chat", "text": "  Gru\u0308\u00dfe  "}), ALL)
    assert isinstance(chat, Chat) and chat.text == "Grüße"  # NFC, trimmed
    assert isinstance(parse_frame('{"type":"join","code":"ABC123"}', ALL), Join)


@pytest.mark.parametrize(
    "doc",
    [
        "not json",
        "[1, 2]",
        '{"type": "nonsense"}',
        '{"type": "signal", "to": "everyone", "data": {"candidate": {"candidate": "x"}}}',
        '{"type": "signal", "to": "clerk", "data": {}}',
        '{"type": "signal", "to": "clerk", "data": {"description": {"type": "hack"}}}',
        '{"type": "chat", "text": ""}',
        '{"type": "chat", "text": "   "}',
        json.dumps({"type": "chat", "text": "x" * 2001}),
        json.dumps({"type": "chat", "text": "evil\u202etxt"}),
        json.dumps({"type": "chat", "text": "nul\u0000"}),
        json.dumps({"type": "chat", "text": "ok", "extra": "bell\u0007"}),
        '{"type": "fallback", "mode": "carrier-pigeon"}',
        "[" * 50 + "]" * 50,
    ],
)
def test_bad_frames_are_refused(doc: str) -> None:
    assert parse_frame(doc, ALL) is None


def test_each_side_sends_only_its_own_frames() -> None:
    assert parse_frame('{"type":"join","code":"ABC123"}', signalling.CITIZEN_FRAMES) is None
    assert parse_frame('{"type":"fallback","mode":"audio"}', signalling.STAFF_FRAMES) is None
    assert parse_frame('{"type":"fallback","mode":"audio"}', signalling.GUEST_FRAMES) is None


def test_frame_size_and_rate_limits() -> None:
    assert not signalling.too_large("x" * signalling.MAX_FRAME_BYTES)
    assert signalling.too_large("x" * (signalling.MAX_FRAME_BYTES + 1))
    assert signalling.too_large("ä" * (signalling.MAX_FRAME_BYTES // 2 + 1))  # bytes count
    budget = FrameBudget(0.0)
    assert all(budget.take(0.0) for _ in range(signalling.BURST))
    assert not budget.take(0.0)
    assert budget.take(0.05)  # 20 a second come back
    steady = FrameBudget(0.0)
    assert all(steady.take(i / 20) for i in range(200))  # 20/s for ten seconds is fine


def test_lower_rank_offers() -> None:
    assert offers("clerk", "citizen") and offers("clerk", "guest-1")
    assert offers("guest-1", "citizen") and offers("guest-1", "guest-2")
    assert not offers("citizen", "clerk") and not offers("guest-2", "guest-1")
    assert signalling.peers_frame(["citizen", "guest-2", "clerk", "guest-1"])["peers"] == [
        "clerk",
        "guest-1",
        "guest-2",
        "citizen",
    ]


def test_roster_follows_presence() -> None:
    roster = Roster("clerk", "c0")
    assert roster.heard("citizen", "a", 0.0) == "new"
    assert roster.heard("citizen", "a", 1.0) == "same"
    assert roster.heard("citizen", "b", 2.0) == "replaced"  # a new tab
    assert not roster.gone("citizen", "a")  # the old tab leaving keeps the new one
    assert roster.heard("clerk", "other", 2.0) == "same"  # our own name is not another peer
    assert roster.heard("guest-1", "g", 2.0) == "new"
    assert roster.names() == ["guest-1", "citizen"]
    assert roster.heard("citizen", "b", 10.0) == "same"  # still here
    assert roster.expire(40.0, 35.0) and roster.names() == ["citizen"]
    assert roster.gone("citizen", "b") and roster.names() == []
    assert signalling.free_guest_name(["clerk", "guest-1", "guest-3"]) == "guest-2"


def test_close_reason_fits_a_control_frame() -> None:
    short = json.loads(close_reason("too_early", "Öffnet um 10:50 Uhr.", opens_at="2030"))
    assert short == {"error": "too_early", "opens_at": "2030", "detail": "Öffnet um 10:50 Uhr."}
    long = close_reason("expired", "ä" * 200)
    assert len(long.encode()) <= 123 and json.loads(long) == {"error": "expired"}


def test_ice_servers_carry_time_limited_turn_credentials(tmp_path: Path) -> None:
    servers = [
        {"urls": "stun:stun.example.org:3478"},
        {"urls": ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]},
    ]
    plain = Settings(video_ice_servers=servers, state_dir=tmp_path)
    now = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)
    assert ice_servers(plain, now) == servers  # no secret: as configured
    settings = Settings(
        video_ice_servers=servers,
        video_turn_secret="north",
        video_turn_ttl_seconds=600,
        state_dir=tmp_path,
    )
    stun, turn = ice_servers(settings, now, "citizen")
    assert stun == servers[0]  # STUN needs no credentials
    expires = int(now.timestamp()) + 600
    assert turn["username"] == f"{expires}:citizen"
    digest = hmac.new(b"north", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert turn["urls"] == servers[1]["urls"]


def test_notify_publishes_after_the_response() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.sent: list[tuple[str, str]] = []

        def publish(self, channel: str, message: str) -> None:
            self.sent.append((channel, message))

    recorder = Recorder()
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(broadcaster=recorder)))
    background = BackgroundTasks()
    hub.notify(background, request, "ABC123", {"kind": "admitted"})  # type: ignore[arg-type]
    hub.notify(background, request, "ABC123", {"kind": "upload", "id": 1})  # type: ignore[arg-type]
    hub.notify_staff(background, request)  # type: ignore[arg-type]
    assert recorder.sent == []  # nothing before the commit
    asyncio.run(background())
    assert recorder.sent == [
        ("video:ctl:ABC123", '{"kind": "admitted"}'),
        ("video:staff", "changed"),  # admission changes the queue
        ("video:ctl:ABC123", '{"kind": "upload", "id": 1}'),
        ("video:staff", "changed"),
    ]


# -- over the socket -------------------------------------------------------------------------------
@pytest.fixture
def settings(real_engine: Engine, state_dir: Path) -> Settings:
    return make_settings(real_engine, state_dir)


@pytest.fixture
def client(settings: Settings, real_engine: Engine) -> Iterator[TestClient]:
    ensure_clerk(real_engine)
    with running(settings) as test_client:
        yield test_client
    quiet_everyone(real_engine)


def test_citizen_gets_hello_and_own_place(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as ws:
        hello = ws.receive_json()
        assert hello == {"type": "hello", "peer": "citizen", "ice_servers": []}
        state = ws.receive_json()
        assert state["type"] == "state" and state["state"] == "waiting"
        assert state["position"] == 1 and isinstance(state["estimate_minutes"], int)
        assert set(state) == {"type", "state", "position", "estimate_minutes", "late"}
        ws.send_json({"type": "ping"})
        assert until(ws, "pong")
        ws.send_text("{oops")
        assert until(ws, "error") == {"type": "error", "error": "invalid_frame"}
        ws.send_json({"type": "ping"})
        assert until(ws, "pong")  # an invalid frame is dropped, the connection stays


@pytest.mark.parametrize(
    ("minutes", "status", "close", "error"),
    [
        (30, "booked", 4403, "too_early"),
        (-120, "booked", 4410, "expired"),
        (5, "cancelled", 4410, "cancelled"),
    ],
)
def test_refusals_say_why(
    client: TestClient, real_engine: Engine, minutes: int, status: str, close: int, error: str
) -> None:
    code = booking(real_engine, minutes_from_now=minutes, status=status)
    with client.websocket_connect(join_path(code)) as ws:
        code_, reason, frames = closed_with(ws)
    assert (code_, reason["error"]) == (close, error)
    assert [f["type"] for f in frames] == ["error"]
    assert frames[0]["error"] == error and frames[0]["detail"]
    if error == "too_early":
        opens = dt.datetime.fromisoformat(frames[0]["opens_at"])
        assert local(opens).strftime("%H:%M") in frames[0]["detail"]
        assert reason["opens_at"] == frames[0]["opens_at"]


@pytest.mark.parametrize("path", ["/video/ABCD12-" + "0" * 32 + "/ws", "/video/x%00y/ws"])
def test_bad_tokens_are_refused(client: TestClient, path: str) -> None:
    with client.websocket_connect(path) as ws:
        code, reason, frames = closed_with(ws)
    assert (code, reason["error"]) == (4403, "bad_token")
    assert signalling_free(frames)


def signalling_free(frames: list[dict[str, object]]) -> bool:
    return not [f for f in frames if f.get("type") in ("signal", "chat", "peers")]


def test_a_second_tab_takes_over(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as first:
        until(first, "state")
        with client.websocket_connect(join_path(code)) as second:
            until(second, "state", state="waiting")
            close, reason, frames = closed_with(first)
            assert (close, reason["error"]) == (4409, "replaced")
            assert frames[-1] == {"type": "replaced"}
            second.send_json({"type": "ping"})
            assert until(second, "pong")
            with Session(real_engine) as session:
                waiting = service.waiting_room(session, settings=client.app.state.settings)  # type: ignore[attr-defined]
            assert [w.code for w in waiting] == [code]  # still waiting: the new tab holds it


def test_a_closed_tab_leaves_the_queue_at_once(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with client.websocket_connect(join_path(code)) as ws:
        until(ws, "state")
        with Session(real_engine) as session:
            assert [w.code for w in service.waiting_room(session, settings=settings)] == [code]
    with Session(real_engine) as session:
        assert service.waiting_room(session, settings=settings) == []


def test_oversized_frames_close_1008(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as ws:
        until(ws, "state")
        ws.send_text(json.dumps({"type": "chat", "text": "x" * (64 * 1024)}))
        close, reason, _ = closed_with(ws)
    assert (close, reason["error"]) == (1008, "frame_too_large")


def test_binary_frames_close_1008(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as ws:
        until(ws, "state")
        ws.send_bytes(b'{"type":"ping"}')
        close, reason, _ = closed_with(ws)
    assert (close, reason["error"]) == (1008, "binary_frame")


def test_a_flood_closes_1008(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as ws:
        until(ws, "state")
        for _ in range(100):
            ws.send_text('{"type":"nonsense"}')
        close, reason, _ = closed_with(ws)
    assert (close, reason["error"]) == (1008, "too_many_frames")


# -- staff -------------------------------------------------------------------------------------
def test_staff_socket_needs_our_origin_a_login_and_the_staff_role(
    client: TestClient, real_engine: Engine
) -> None:
    path = "/mitarbeiter/video/ws"
    with client.websocket_connect(path, headers={"origin": ORIGIN}) as ws:
        assert closed_with(ws)[1]["error"] == "login_required"
    ensure_clerk(real_engine, "h3-planner", role="planner")
    with staff_ws(client, "h3-planner") as ws:
        close, reason, _ = closed_with(ws)
    assert (close, reason["error"]) == (4403, "role_required")
    login(client, CLERK_NAME)
    for headers in ({}, {"origin": "https://evil.example"}, {"origin": "null"}):
        with client.websocket_connect(path, headers=headers) as ws:
            close, reason, frames = closed_with(ws)
        assert (close, reason["error"]) == (4403, "bad_origin")
        assert [f["type"] for f in frames] == ["error"]


def test_staff_get_the_queue_pushed_on_change(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with staff_ws(client) as console:
        assert console.receive_json()["type"] == "hello"
        first = until(console, "queue")
        assert first["waiting"] == [] and set(first) == {"type", "waiting", "in_call", "today"}
        assert code in [t["code"] for t in first["today"]]
        with client.websocket_connect(join_path(code)) as citizen:
            until(citizen, "state")
            queue = until(console, "queue", seconds=5)
            while not queue["waiting"]:
                queue = until(console, "queue", seconds=5)
            entry = queue["waiting"][0]
            assert entry["code"] == code and entry["name"] == "Erika Mustermann"
            assert {"start", "waited_seconds", "services"} <= set(entry)
        queue = until(console, "queue", seconds=5)
        while queue["waiting"]:
            queue = until(console, "queue", seconds=5)


def test_the_call_from_admission_to_end(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as citizen, staff_ws(client) as console:
        until(citizen, "state", state="waiting")
        until(console, "queue")
        console.send_json({"type": "join", "code": code})
        assert until(console, "error")["error"] == "not_admitted"
        admit(client, real_engine, code)
        assert until(citizen, "state", state="admitted")["position"] is None
        assert until(citizen, "peers")["peers"] == []
        console.send_json({"type": "join", "code": code})
        assert until(console, "state", state="admitted")["code"] == code
        assert until(console, "peers", peers=["citizen"])
        assert until(citizen, "peers", peers=["clerk"])
        console.send_json({"type": "signal", "to": "citizen", "data": OFFER})
        assert until(citizen, "signal") == {"type": "signal", "from": "clerk", "data": OFFER}
        citizen.send_json({"type": "signal", "to": "clerk", "data": CANDIDATE})
        assert until(console, "signal")["data"] == CANDIDATE
        citizen.send_json({"type": "chat", "text": "Hallo"})
        chat = until(console, "chat")
        assert (chat["from"], chat["text"]) == ("citizen", "Hallo")
        assert dt.datetime.fromisoformat(chat["at"]) <= utcnow()
        end(client, real_engine, code)
        assert until(citizen, "state", state="ended")
        assert closed_with(citizen)[:2] == (4410, {"error": "ended"})
        assert until(console, "state", state="ended")["code"] == code
        assert until(console, "peers", peers=[])


def test_an_admitted_citizen_who_reconnects_is_back_in_the_call(
    client: TestClient, real_engine: Engine
) -> None:
    code = booking(real_engine)
    with staff_ws(client) as console:
        with client.websocket_connect(join_path(code)) as citizen:
            until(citizen, "state")
            admit(client, real_engine, code)
            until(citizen, "state", state="admitted")
            console.send_json({"type": "join", "code": code})
            until(console, "peers", peers=["citizen"])
        assert until(console, "peers", peers=[])  # the tab closed
        with client.websocket_connect(join_path(code)) as again:
            assert until(again, "state")["state"] == "admitted"  # no waiting again
            assert until(again, "peers", peers=["clerk"])
            assert until(console, "peers", peers=["citizen"])


def test_send_back_and_the_guest(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as citizen, staff_ws(client) as console:
        until(citizen, "state")
        admit(client, real_engine, code)
        console.send_json({"type": "join", "code": code})
        until(console, "peers", peers=["citizen"])
        with client.websocket_connect(guest_path(client, real_engine, code)) as guest:
            assert guest.receive_json()["peer"] == "guest-1"  # hello
            assert until(guest, "peers", peers=["clerk", "citizen"])
            assert until(console, "peers", peers=["guest-1", "citizen"])
            assert until(citizen, "peers", peers=["clerk", "guest-1"])
            send_back(client, real_engine, code)
            assert until(citizen, "state", state="waiting")["position"] == 1
            # The citizen's leaving and the control message travel apart: either comes first.
            seen = drain(console, 1.5)
            assert {"state": "waiting", "code": code}.items() <= _last(seen, "state").items()
            assert _last(seen, "peers")["peers"] == ["guest-1"]
            assert _last(drain(guest, 0.5), "peers")["peers"] == ["clerk"]
            for frame in drain(citizen, 0.3):
                assert frame["type"] in ("state", "pong")


def _last(frames: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return [f for f in frames if f["type"] == kind][-1]


def test_receive_within_returns_none_on_silence(client: TestClient, real_engine: Engine) -> None:
    code = booking(real_engine)
    with client.websocket_connect(join_path(code)) as ws:
        until(ws, "state")
        assert receive_within(ws, 0.2) is None
