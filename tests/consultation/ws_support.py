"""WebSocket test helpers for the signalling tests: apps on a committed database, bookings,
a logged-in clerk, and reading frames with a timeout (Starlette's test session has none).

The connections run in the app's event loop while the test waits in its own thread, so these
tests use a committed database of the module's own (conftest.real_engine), never the rolled-
back connection of the other tests.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from servicepoint.app import create_app
from servicepoint.config import Settings
from servicepoint.consultation import service, tokens
from servicepoint.consultation.hub import ctl_channel
from servicepoint.consultation.models import Consultation
from servicepoint.core.clock import utcnow
from tests.conftest import login
from tests.consultation import support

SECRET = "test-secret"
ORIGIN = "http://testserver"
CLERK_NAME = "h3-clerk"
Frame = dict[str, Any]


def make_settings(engine: Engine, state_dir: Path, redis_url: str | None = None) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=SECRET,
        bot_protection="off",
        redis_url=redis_url,
        state_dir=state_dir,
    )


@contextmanager
def running(settings: Settings) -> Iterator[TestClient]:
    """An app (think: one worker process) with a test client in its own event loop."""
    app = create_app(settings)
    try:
        with TestClient(app, base_url=ORIGIN) as client:
            yield client
    finally:
        app.state.engine.dispose()


def booking(engine: Engine, *, minutes_from_now: int = 5, status: str = "booked") -> str:
    """A committed video booking; returns its code."""
    with Session(engine) as session:
        start = utcnow() + dt.timedelta(minutes=minutes_from_now)
        code = support.video_booking(session, start=start, status=status).code
        session.commit()
    return code


def join_path(code: str) -> str:
    return f"/video/{tokens.join_token(SECRET, code)}/ws"


def ensure_clerk(engine: Engine, username: str = CLERK_NAME, role: str = "staff") -> int:
    with Session(engine) as session:
        user = support.clerk(session, username)
        if user.role != role:
            user.role = role
        session.commit()
        return user.id


def staff_ws(client: TestClient, username: str = CLERK_NAME) -> WebSocketTestSession:
    login(client, username)
    return client.websocket_connect("/mitarbeiter/video/ws", headers={"origin": ORIGIN})


def admit(client: TestClient, engine: Engine, code: str, username: str = CLERK_NAME) -> None:
    """What the console's admit POST does: the CAS in the database, then the control message."""
    with Session(engine) as session:
        user = support.clerk(session, username)
        service.admit(session, code=code, clerk=user, settings=_settings(client))
        session.commit()
    publish(client, code, {"kind": "admitted"})


def send_back(client: TestClient, engine: Engine, code: str) -> None:
    with Session(engine) as session:
        service.send_back(session, code=code, clerk=support.clerk(session, CLERK_NAME))
        session.commit()
    publish(client, code, {"kind": "returned"})


def end(client: TestClient, engine: Engine, code: str) -> None:
    with Session(engine) as session:
        service.end(session, code=code, clerk=support.clerk(session, CLERK_NAME))
        session.commit()
    publish(client, code, {"kind": "ended"})


def guest_path(client: TestClient, engine: Engine, code: str) -> str:
    with Session(engine) as session:
        path = service.issue_guest_link(session, code=code, settings=_settings(client))
        session.commit()
    return f"{path}/ws"


def publish(client: TestClient, code: str, message: Frame) -> None:
    _app(client).state.broadcaster.publish(ctl_channel(code), json.dumps(message))


def _app(client: TestClient) -> FastAPI:
    assert isinstance(client.app, FastAPI)
    return client.app


def _settings(client: TestClient) -> Settings:
    settings: Settings = _app(client).state.settings
    return settings


def quiet_everyone(engine: Engine) -> None:
    """End every call of the module's database, so one test's waiting room is not the next's."""
    with Session(engine) as session:
        session.execute(update(Consultation).values(state="ended", seen_at=None))
        session.commit()


# -- reading frames -----------------------------------------------------------------------------
def receive_within(ws: WebSocketTestSession, seconds: float) -> Frame | None:
    """The next frame, or None if none comes within `seconds`; a close raises
    WebSocketDisconnect with its code and reason."""

    async def get() -> dict[str, Any] | None:
        with anyio.move_on_after(seconds):
            message: dict[str, Any] = await ws._send_rx.receive()
            return message
        return None

    message = ws.portal.call(get)
    if message is None:
        return None
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")
    frame: Frame = json.loads(message["text"])
    return frame


def until(ws: WebSocketTestSession, kind: str, seconds: float = 5.0, **match: Any) -> Frame:
    """Read frames until one of `kind` (with the given values) arrives; fail after `seconds`."""
    skipped: list[Frame] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = receive_within(ws, 0.1)
        if frame is None:
            continue
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame
        skipped.append(frame)
    raise AssertionError(f"no {kind} {match} within {seconds}s; got {skipped}")


def drain(ws: WebSocketTestSession, seconds: float) -> list[Frame]:
    """Every frame arriving within `seconds`."""
    frames: list[Frame] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = receive_within(ws, 0.05)
        if frame is not None:
            frames.append(frame)
    return frames


def closed_with(ws: WebSocketTestSession, seconds: float = 5.0) -> tuple[int, Frame, list[Frame]]:
    """Read until the server closes: (close code, parsed reason, frames before)."""
    frames: list[Frame] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            frame = receive_within(ws, 0.1)
            if frame is not None:
                frames.append(frame)
    except WebSocketDisconnect as exc:
        reason = json.loads(exc.reason) if exc.reason else {}
        return exc.code, reason, frames
    raise AssertionError(f"not closed within {seconds}s; got {frames}")


SEALED = frozenset({"signal", "chat", "peers", "upload"})


def sealed_frames(frames: list[Frame]) -> list[Frame]:
    """What must never reach a citizen not admitted."""
    return [f for f in frames if f.get("type") in SEALED]
