"""One WebSocket connection of a video call: its loop, its seat in the room, the relay.

A `Link` reads one queue (hub.Inbox: the browser's frames, the channels it listens to, a tick
a second) in one task, so frames go out in order and state changes need no locks. Database
work runs in short sessions on a worker thread, each committed at once; the event loop never
waits for the database. ws.py builds the three kinds of link (citizen, guest, staff) on this.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

import anyio
from fastapi import FastAPI, WebSocket
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from servicepoint.config import Settings
from servicepoint.consultation import access
from servicepoint.consultation.errors import TooEarly
from servicepoint.consultation.hub import Event, Inbox, Publisher, ctl_channel, room_channel
from servicepoint.consultation.signalling import (
    CLOSE_GONE,
    CLOSE_POLICY,
    CLOSE_RATE,
    CLOSE_REFUSED,
    CLOSE_REPLACED,
    CLOSE_SERVER,
    EVERYONE,
    Chat,
    FrameBudget,
    Roster,
    Signal,
    chat_frame,
    close_reason,
    delivery,
    envelope,
    error_frame,
    frame_problem,
    free_guest_name,
    may_reach_citizen,
    parse_frame,
    peers_frame,
    read_message,
    relay_envelope,
    signal_frame,
    valid_peer,
)
from servicepoint.core import i18n
from servicepoint.core.clock import utcnow
from servicepoint.errors import ServicePointError

T = TypeVar("T")
log = logging.getLogger(__name__)
HERE_SECONDS = 10.0  # a seat says it is still here this often ...
STALE_SECONDS = 35.0  # ... and one not heard from for this long has gone (its worker died)
GATHER_SECONDS = 0.25  # how long a guest or clerk listens for who is here before choosing a name
FINISH_SECONDS = 5.0  # at most this long to leave the room and the waiting room on closing
# Frames read but not yet handled (the loop may be waiting for the database or the hub): more
# than this many, or bytes, and the browser sends faster than we work: close 1008.
PENDING_FRAMES = 80
PENDING_BYTES = 1024 * 1024
LANG_COOKIE = "sp_lang"


def _lang(ws: WebSocket, settings: Settings) -> str:
    chosen = ws.query_params.get("lang") or ws.cookies.get(LANG_COOKIE)
    return i18n.coerce_lang(chosen) or settings.default_lang


class Link:
    """What every connection has: the socket, its inbox and publisher, the frame budget."""

    frames: frozenset[str] = frozenset()
    rate_kind = "ws"  # the per-client budget of connections (access.check_rate)

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.app: FastAPI = ws.app
        self.settings: Settings = self.app.state.settings
        self.conn = secrets.token_hex(16)  # fits Consultation.connection (32)
        self.lang = _lang(ws, self.settings)
        self.publish = Publisher(self.app)
        self.inbox = Inbox(self.publish)
        self.budget = FrameBudget(time.monotonic())
        self.seat: Seat | None = None
        self.closed = False
        self.pending = [0, 0]  # frames, bytes read by _receive and not yet handled

    # -- the socket ---------------------------------------------------------------------------
    async def send(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))
        except Exception:  # the browser went away mid-send: the loop ends on its disconnect
            self.closed = True

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def refuse(self, exc: ServicePointError) -> None:
        """Say why (an `error` frame in the page's language), then close 4403 or 4410."""
        detail = i18n.error_text(exc, self.lang)
        extra = {"opens_at": exc.opens_at.isoformat()} if isinstance(exc, TooEarly) else {}
        await self.send(error_frame(exc.code, detail, **extra))
        codes = {410: CLOSE_GONE, 429: CLOSE_RATE}
        code = codes.get(exc.status_code, CLOSE_REFUSED)
        await self.close(code, close_reason(exc.code, detail, **extra))

    async def db(self, step: Callable[[Session], T]) -> T:
        """Run `step` in a session of its own on a worker thread; committed when it returns."""
        factory: sessionmaker[Session] = self.app.state.sessionmaker

        def run() -> T:
            with factory.begin() as session:
                return step(session)

        return await run_in_threadpool(run)

    # -- the loop -----------------------------------------------------------------------------
    async def serve(self) -> None:
        await self.ws.accept()
        try:
            access.check_rate(self.ws, self.rate_kind)  # before any database or hub work
        except access.VideoRateLimited as exc:
            await self.refuse(exc)
            return
        helpers = [asyncio.create_task(self._receive()), asyncio.create_task(self._tick())]
        try:
            await self.start()
            while not self.closed:
                await self._handle(await self.inbox.queue.get())
        except ServicePointError as exc:
            await self.refuse(exc)
        except Exception:  # the hub (Redis) or the database failed: the browser comes back
            log.exception("video signalling connection failed")
            await self.close(CLOSE_SERVER, close_reason("unavailable"))
        finally:
            for task in helpers:
                task.cancel()
            # Leaving must happen even when the server cancels the handler (shutdown, tests):
            # else a closed tab would stay in the waiting room until its presence runs out.
            with anyio.move_on_after(FINISH_SECONDS, shield=True):
                await self.inbox.close()
                with contextlib.suppress(Exception):
                    await self.finish()
                await self.close(1000)

    async def _receive(self) -> None:
        """Read the browser's frames; size, type and rate are judged here, as they arrive, so
        a flood never piles up behind a loop that waits for the database."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                self.inbox.queue.put_nowait(("closed", int(message.get("code") or 1000)))
                return
            text = message.get("text")
            problem = frame_problem(text) or self._over_budget(text or "")
            if problem is not None:  # stop reading: the loop closes 1008 with the reason
                self.inbox.queue.put_nowait(("policy", problem))
                return
            self.inbox.queue.put_nowait(("client", text))

    def _over_budget(self, text: str) -> str | None:
        self.pending[0] += 1
        self.pending[1] += len(text)
        if not self.budget.take(time.monotonic()):
            return "too_many_frames"
        too_many = self.pending[0] > PENDING_FRAMES or self.pending[1] > PENDING_BYTES
        return "too_many_frames" if too_many else None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.inbox.queue.put_nowait(("tick",))

    async def _handle(self, event: Event) -> None:
        if event[0] == "closed":
            self.closed = True
        elif event[0] == "client":
            self.pending[0] -= 1
            self.pending[1] -= len(event[1] or "")
            await self._client(event[1])
        elif event[0] == "policy":
            await self.close(CLOSE_POLICY, close_reason(event[1]))
        elif event[0] == "message":
            await self._message(event[1], event[2])
        elif event[0] == "failed":
            await self.close(CLOSE_SERVER, close_reason("unavailable"))
        else:
            now = time.monotonic()
            if self.seat is not None:
                await self.seat.tick(now)
            await self.on_tick(now)

    async def _client(self, text: str | None) -> None:
        frame = parse_frame(text or "", self.frames)
        if frame is None:
            await self.send(error_frame("invalid_frame"))
        else:
            await self.on_frame(frame)

    async def _message(self, channel: str, text: str) -> None:
        if self.seat is not None and channel == self.seat.channel:
            await self.seat.on_room(text)
            return
        message = read_message(text)
        if channel.startswith("video:ctl:"):
            if message is not None and message.get("kind") != "probe":
                await self.on_control(channel, message)
        elif channel == "video:staff":
            await self.on_queue_changed()

    # -- what each kind of connection does ------------------------------------------------------
    async def start(self) -> None:
        """Check the right to connect (raise ServicePointError to refuse), say hello."""

    async def on_frame(self, frame: Any) -> None:
        """A valid frame from the browser."""

    async def on_control(self, channel: str, message: dict[str, Any]) -> None:
        """A control message of a call this connection listens to."""

    async def on_queue_changed(self) -> None:
        """The waiting room changed (some worker said so)."""

    async def on_tick(self, now: float) -> None:
        """Once a second."""

    async def finish(self) -> None:
        """The connection is over: leave the room, give up presence."""
        if self.seat is not None:
            await self.seat.leave()

    def may_receive(self) -> bool:
        """Whether frames relayed from the room may reach this browser now."""
        return True

    async def end_call(self) -> None:
        """The call ended (or this connection moves to another): leave its room, and let the
        browser close its peer connections."""
        if self.seat is not None:
            seat, self.seat = self.seat, None
            await self.inbox.unsubscribe(ctl_channel(seat.code))
            await seat.leave()
            await self.send(peers_frame([]))

    async def replaced(self) -> None:
        await self.send({"type": "replaced"})
        await self.close(CLOSE_REPLACED, close_reason("replaced"))

    async def pong(self) -> None:
        await self.send({"type": "pong"})


class Seat:
    """A connection's place in the room of call `code`: who else is there, and the relay.

    Presence crosses workers as room messages: `join` on entering (everyone answers `here`),
    `here` every HERE_SECONDS, `leave` on going. `call_state` is the call's state as the
    database last said; the relay refuses anything for a citizen unless it is `admitted`.
    """

    def __init__(self, link: Link, code: str, call_state: str, key: str = "") -> None:
        self.link, self.code, self.key = link, code, key
        self.channel = room_channel(code)
        self.call_state = call_state
        self.me = ""
        self.roster = Roster("", link.conn)
        self.said_at = time.monotonic()

    async def enter(self, me: str | None = None, *, takeover: bool = False) -> str:
        """Listen to the room and take the name `me` (None: the guest name this key had, or a
        free one); with `takeover`, another connection under that name is told it was
        replaced. The others learn of us only with `announce` (after our hello)."""
        await self.link.inbox.subscribe(self.channel)
        if me is None or takeover:
            me = await self._choose(me)
        self.me = self.roster.me = me
        return me

    async def announce(self) -> None:
        """Say we joined (everyone answers `here`) and tell our browser who is there."""
        await self._say("join")
        await self.link.send(peers_frame(self.roster.names()))

    async def _choose(self, me: str | None) -> str:
        await self._say("who")
        heard = await self._gather()
        same = [m for m in heard if (m["peer"] == me if me else m.get("key") == self.key)]
        chosen = me or (same[0]["peer"] if same else None)
        if chosen is None:
            chosen = free_guest_name(m["peer"] for m in heard)
        now = time.monotonic()
        for message in heard:
            if message["peer"] != chosen:
                self.roster.members[message["peer"]] = (message["conn"], now)
        for message in (m for m in heard if m["peer"] == chosen):
            replaced = json.dumps({"kind": "replaced", "conn": message["conn"]})
            await self.link.publish(ctl_channel(self.code), replaced)
        return chosen

    async def _gather(self) -> list[dict[str, Any]]:
        """The `here` answers of the next GATHER_SECONDS; other events wait their turn."""
        queue, loop = self.link.inbox.queue, asyncio.get_running_loop()
        deadline, heard, kept = loop.time() + GATHER_SECONDS, [], []
        while (left := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(queue.get(), left)
            except TimeoutError:
                break
            if event[0] == "message" and event[1] == self.channel:
                message = read_message(event[2])
                if _presence(message) and message["kind"] in ("here", "join"):
                    heard.append(message)
            else:
                kept.append(event)
        while not queue.empty():
            kept.append(queue.get_nowait())
        for event in kept:
            queue.put_nowait(event)
        return [m for m in heard if m["conn"] != self.link.conn]

    async def _say(self, kind: str) -> None:
        extra = {"key": self.key} if self.key else {}
        await self.link.publish(self.channel, envelope(kind, self.me, self.link.conn, **extra))
        self.said_at = time.monotonic()

    async def on_room(self, text: str) -> None:
        message = read_message(text)
        if message is None:
            return
        if message.get("kind") == "frame":
            frame = delivery(message, me=self.me, conn=self.link.conn)
            if frame is not None and self.link.may_receive():
                await self.link.send(frame)
        elif _presence(message) and message["conn"] != self.link.conn:
            await self._presence(message)

    async def _presence(self, message: dict[str, Any]) -> None:
        kind, peer, conn = message["kind"], message["peer"], message["conn"]
        if kind in ("join", "who"):
            await self._say("here")
        if kind == "leave":
            if self.roster.gone(peer, conn):
                await self.link.send(peers_frame(self.roster.names()))
        elif kind in ("join", "here"):
            change = self.roster.heard(peer, conn, time.monotonic())
            if change == "replaced":  # a new tab: the browsers start that connection afresh
                await self.link.send(peers_frame(n for n in self.roster.names() if n != peer))
            if change != "same":
                await self.link.send(peers_frame(self.roster.names()))

    async def relay(self, frame: Signal | Chat) -> None:
        """A browser's signal or chat into the room: the seal holds on the sending side too."""
        if isinstance(frame, Signal):
            if not may_reach_citizen(frame.to, self.call_state):
                return
            out, to = signal_frame(self.me, frame.data), frame.to
        else:
            out, to = chat_frame(self.me, frame.text, utcnow()), EVERYONE
        await self.link.publish(self.channel, relay_envelope(self.me, self.link.conn, to, out))

    async def tick(self, now: float) -> None:
        if now - self.said_at >= HERE_SECONDS:
            await self._say("here")
        if self.roster.expire(now, STALE_SECONDS):
            await self.link.send(peers_frame(self.roster.names()))

    async def leave(self) -> None:
        """Leave at once: stop listening first, then tell the others."""
        await self.link.inbox.unsubscribe(self.channel)
        self.roster.members.clear()
        await self._say("leave")


def _presence(message: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """A well-formed presence message (`who` may come before its sender has a name)."""
    if message is None or message.get("kind") not in ("join", "here", "leave", "who"):
        return False
    peer, conn = message.get("peer"), message.get("conn")
    named = message.get("kind") == "who" or valid_peer(peer)
    return named and isinstance(conn, str) and isinstance(peer, str)
