"""The WebSocket signalling of video calls: citizen, guest and staff connections.

The database is the one source of truth: admission, send-back and end are HTTP POSTs, and
their control messages (hub.notify) only make each connection re-read it. The seal: a citizen's
connection listens to the call's room only after it has read `admitted` from the database,
and stops the moment it hears `returned` or `ended`; until then its browser gets nothing but
its own hello, state, pong and replaced frames (VIDEO.md, "Transport").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.errors import LoginRequired
from servicepoint.config import Settings
from servicepoint.consultation import access, service
from servicepoint.consultation.hub import CHANGED, STAFF_CHANNEL, ctl_channel
from servicepoint.consultation.queue_cache import queue_cache
from servicepoint.consultation.relay import Link, Seat
from servicepoint.consultation.schemas import Place
from servicepoint.consultation.signalling import (
    CITIZEN,
    CITIZEN_FRAMES,
    CLERK,
    CLOSE_GONE,
    GUEST_FRAMES,
    HEARTBEAT_SECONDS,
    STAFF_FRAMES,
    Chat,
    Fallback,
    Join,
    Ping,
    Signal,
    chat_frame,
    close_reason,
    error_frame,
    hello_frame,
    ice_servers,
    queue_frame,
    state_frame,
    upload_frame,
    valid_peer,
)
from servicepoint.core import i18n
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_
from servicepoint.core.security import SESSION_COOKIE
from servicepoint.errors import Forbidden, ServicePointError

router = APIRouter()

# A bad, expired or cancelled link is refused by the service (open_join, open_guest) in its
# own words; the texts here are the connections' own.
_FOREIGN = N_("Diese Verbindung kommt nicht von unserer Seite.")
_LOGIN = N_("Bitte melden Sie sich an.")
_NOT_ADMITTED = N_("Diese Person ist nicht (mehr) zur Videoberatung eingelassen.")
_NOT_IN_CALL = N_("Sie sind in keiner Videoberatung.")
STATE_EVERY = 15.0  # a waiting citizen's position and estimate, at least this often
QUEUE_EVERY = 10.0  # the consoles' queue, at least this often
DEBOUNCE = 1.0  # at most one recomputation a second however often the queue changes


class ForeignOrigin(Forbidden):
    code = "bad_origin"


@dataclasses.dataclass(frozen=True)
class Opened:
    consultation_id: int
    code: str
    closes_at: dt.datetime
    previous: str | None  # the tab this one took over from


def _open_citizen(session: Session, token: str, settings: Settings, conn: str) -> Opened:
    now = utcnow()
    joined = service.open_join(session, token=token, settings=settings, now=now)
    previous = service.knock(session, consultation=joined.consultation, connection=conn, now=now)
    return Opened(joined.consultation.id, joined.booking.code, joined.closes_at, previous)


class CitizenLink(Link):
    """The citizen's page: waiting room first, the call once staff admit (the seal)."""

    frames = CITIZEN_FRAMES

    def __init__(self, ws: WebSocket, token: str) -> None:
        super().__init__(ws)
        self.token = token
        self.state = "booked"
        self.opened: Opened | None = None
        self.last_state: dict[str, Any] | None = None
        self.refreshed_at = self.beat_at = time.monotonic()
        self.dirty = False

    async def start(self) -> None:
        opened = await self.db(lambda s: _open_citizen(s, self.token, self.settings, self.conn))
        self.opened = opened
        await self.inbox.subscribe(ctl_channel(opened.code))
        if opened.previous:  # the other tab, on whatever worker, says so and stops
            await self._control({"kind": "replaced", "conn": opened.previous})
        await self.publish(STAFF_CHANNEL, CHANGED)
        await self.send(hello_frame(CITIZEN, ice_servers(self.settings, utcnow(), CITIZEN)))
        await self.refresh()

    async def _control(self, message: dict[str, Any]) -> None:
        assert self.opened is not None
        await self.publish(ctl_channel(self.opened.code), json.dumps(message))

    def _read(self, session: Session) -> tuple[str, Place]:
        assert self.opened is not None
        state = service.state_of(session, code=self.opened.code)
        place = service.place(
            session, consultation_id=self.opened.consultation_id, settings=self.settings
        )
        return state, place

    async def refresh(self, *, again: bool = False) -> None:
        """Re-read the call's state: enter the room only on `admitted` read here (the seal).
        The state frame goes out when it changed, or `again` (the periodic update)."""
        state, place = await self.db(self._read)
        self.state, self.refreshed_at, self.dirty = state, time.monotonic(), False
        if state != "admitted":
            await self._leave_room()
        frame = state_frame(
            state, position=place.position, estimate_minutes=place.estimate_minutes, late=place.late
        )
        if frame != self.last_state or again:
            await self.send(frame)
            self.last_state = frame
        await self._listen_to_queue(state in ("booked", "waiting"))
        if state == "admitted" and self.seat is None and self.opened is not None:
            self.seat = Seat(self, self.opened.code, state)
            await self.seat.enter(CITIZEN)
            await self.seat.announce()
        elif state == "ended":
            await self.close(CLOSE_GONE, close_reason("ended"))

    async def _listen_to_queue(self, waiting: bool) -> None:
        # While waiting, a change of the queue may change the own position: recompute then.
        if waiting and not self.inbox.listening(STAFF_CHANNEL):
            await self.inbox.subscribe(STAFF_CHANNEL)
        elif not waiting:
            await self.inbox.unsubscribe(STAFF_CHANNEL)

    async def _leave_room(self) -> None:
        if self.state == "admitted":
            self.state = "waiting"  # nothing more reaches this browser, even if queued
        if self.seat is not None:
            seat, self.seat = self.seat, None
            await seat.leave()

    def may_receive(self) -> bool:
        return self.state == "admitted"

    async def on_frame(self, frame: Any) -> None:
        if isinstance(frame, Ping):
            await self.pong()
            await self._beat()
        elif isinstance(frame, Signal | Chat):
            if self.seat is not None and self.state == "admitted":
                await self.seat.relay(frame)  # from a citizen not admitted: dropped
        elif isinstance(frame, Fallback) and self.opened is not None:
            cid = self.opened.consultation_id
            await self.db(
                lambda s: service.record_fallback(s, consultation_id=cid, mode=frame.mode)
            )

    async def _beat(self) -> None:
        """Presence: refresh seen_at (at most every few seconds); lost the entry: replaced."""
        now = time.monotonic()
        if now - self.beat_at < HEARTBEAT_SECONDS or self.opened is None:
            return
        self.beat_at = now
        cid = self.opened.consultation_id
        held = await self.db(
            lambda s: service.heartbeat(s, consultation_id=cid, connection=self.conn, now=utcnow())
        )
        if not held:
            await self.replaced()

    async def on_control(self, channel: str, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "replaced":
            if message.get("conn") == self.conn:
                await self.replaced()
        elif kind in ("returned", "ended"):
            await self._leave_room()  # at once, before the database is even asked
            await self.refresh()
        elif kind == "admitted":
            await self.refresh()
        elif kind == "chat" and self.seat is not None and self.may_receive():
            await self.send(_server_chat(message))

    async def on_queue_changed(self) -> None:
        self.changed_at, self.dirty = time.monotonic(), True
        if time.monotonic() - self.refreshed_at >= DEBOUNCE:
            await self.refresh()

    async def on_tick(self, now: float) -> None:
        if self.state not in ("booked", "waiting") or self.opened is None:
            return
        if utcnow() >= self.opened.closes_at:
            await self._recheck_link()
        elif self.dirty and now - self.refreshed_at >= DEBOUNCE:
            await self.refresh()
        elif now - self.refreshed_at >= STATE_EVERY:
            await self.refresh(again=True)

    async def _recheck_link(self) -> None:
        """The window has closed as this connection knew it: the service says whether the link
        still works (LinkExpired otherwise, in its words; the loop refuses with it)."""
        joined = await self.db(
            lambda s: service.open_join(s, token=self.token, settings=self.settings)
        )
        assert self.opened is not None
        later = utcnow() + dt.timedelta(seconds=STATE_EVERY)  # asked again at most this often
        self.opened = dataclasses.replace(self.opened, closes_at=max(joined.closes_at, later))

    async def finish(self) -> None:
        await super().finish()
        if self.opened is not None:
            cid = self.opened.consultation_id
            await self.db(lambda s: service.leave(s, consultation_id=cid, connection=self.conn))
            await self.publish(STAFF_CHANNEL, CHANGED)


def _server_chat(message: dict[str, Any]) -> dict[str, Any]:
    sender = message.get("from")
    text = str(message.get("text") or "")[:2000]
    return chat_frame(sender if valid_peer(sender) else CLERK, text, utcnow())


def _guest_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class GuestLink(Link):
    """An interpreter or second clerk: straight into the room (staff issued the link)."""

    frames = GUEST_FRAMES

    def __init__(self, ws: WebSocket, token: str) -> None:
        super().__init__(ws)
        self.token = token
        self.code = ""

    async def start(self) -> None:
        def step(session: Session) -> tuple[str, str]:
            joined = service.open_guest(session, token=self.token, settings=self.settings)
            return joined.booking.code, joined.consultation.state

        self.code, state = await self.db(step)
        await self.inbox.subscribe(ctl_channel(self.code))
        if state == "ended":
            await self.send(state_frame(state))
            await self.close(CLOSE_GONE, close_reason("ended"))
            return
        self.seat = Seat(self, self.code, state, key=_guest_key(self.token))
        me = await self.seat.enter()
        await self.send(hello_frame(me, ice_servers(self.settings, utcnow(), me)))
        await self.send(state_frame(state))
        await self.seat.announce()

    async def on_frame(self, frame: Any) -> None:
        if isinstance(frame, Ping):
            await self.pong()
        elif isinstance(frame, Signal | Chat) and self.seat is not None:
            await self.seat.relay(frame)

    async def on_control(self, channel: str, message: dict[str, Any]) -> None:
        await _call_control(self, self.code, message)

    async def end_call(self) -> None:
        await super().end_call()
        await self.close(CLOSE_GONE, close_reason("ended"))


async def _call_control(link: Link, code: str, message: dict[str, Any]) -> None:
    """Control messages as the clerk's and guests' connections take them."""
    kind, seat = message.get("kind"), link.seat
    if seat is None or seat.code != code:
        return
    if kind == "replaced":
        if message.get("conn") == link.conn:
            await link.replaced()
    elif kind in ("admitted", "returned", "ended"):
        seat.call_state = await link.db(lambda s: service.state_of(s, code=code))
        await link.send(state_frame(seat.call_state, code=code if seat.me == CLERK else None))
        if seat.call_state == "ended":
            await link.end_call()
    elif kind == "upload":
        frame = upload_frame(code, message)
        if frame is not None:
            await link.send(frame)
    elif kind == "chat":
        await link.send(_server_chat(message))


def _same_origin(ws: WebSocket, settings: Settings) -> bool:
    """The Origin is our site (the Host asked for, or the configured base URL): a page of
    another site cannot use the staff member's cookie (cross-site WebSocket hijacking)."""
    origin = (ws.headers.get("origin") or "").rstrip("/").lower()
    scheme = "https" if ws.url.scheme in ("wss", "https") else "http"
    own = f"{scheme}://{ws.headers.get('host', '')}".lower()
    base = urlsplit(settings.base_url)
    configured = f"{base.scheme}://{base.netloc}".lower()
    return bool(origin) and origin in (own, configured)


def _staff_user(session: Session, token: str | None) -> int:
    user = account_service.user_for_token(session, token=token)
    if user is None:
        raise LoginRequired(_LOGIN)
    account_service.require_role(user, "staff")
    return user.id


def _call_of(session: Session, code: str) -> tuple[str, int | None]:
    consultation, _ = service.by_code(session, code=code)
    return consultation.state, consultation.clerk_id


class StaffLink(Link):
    """The staff console: the queue live, and the room of the call the clerk admitted."""

    frames = STAFF_FRAMES
    rate_kind = "staff_ws"  # consoles have a budget apart from the public's

    def __init__(self, ws: WebSocket) -> None:
        super().__init__(ws)
        self.token = ws.cookies.get(SESSION_COOKIE)
        self.user_id = 0
        self.pushed_at = self.changed_at = time.monotonic()
        self.dirty = False

    async def start(self) -> None:
        if not _same_origin(self.ws, self.settings):
            raise ForeignOrigin(_FOREIGN)
        self.user_id = await self.db(lambda s: _staff_user(s, self.token))
        await self.inbox.subscribe(STAFF_CHANNEL)
        await self.send(hello_frame(CLERK, ice_servers(self.settings, utcnow(), CLERK)))
        await self.push_queue()

    def _still_staff(self, session: Session) -> None:
        """Logged out, or the staff role taken away, since the console connected: refused
        (LoginRequired / Forbidden end the connection 4403)."""
        _staff_user(session, self.token)

    async def push_queue(self) -> None:
        """Send the queue: the worker's shared snapshot, at least as new as the last change
        this console heard of (a periodic push accepts one up to a debounce old)."""
        heard = self.changed_at if self.dirty else time.monotonic() - DEBOUNCE
        self.pushed_at, self.dirty = time.monotonic(), False
        await self.db(self._still_staff)
        frame = await queue_cache(self.app.state).get(
            self.lang, newer_than=heard, build=lambda: self.db(self._build_queue)
        )
        await self.send(frame)

    def _build_queue(self, session: Session) -> dict[str, Any]:
        settings, lang = self.settings, self.lang
        return queue_frame(
            service.waiting_room(session, settings=settings, lang=lang),
            service.in_call(session, settings=settings, lang=lang),
            service.today(session, lang=lang),
        )

    async def on_frame(self, frame: Any) -> None:
        if isinstance(frame, Ping):
            await self.pong()
        elif isinstance(frame, Join):
            await self.join(frame.code)
        elif isinstance(frame, Signal | Chat):
            if self.seat is None:
                await self.send(self._error("not_in_call", _NOT_IN_CALL))
            else:
                await self.seat.relay(frame)

    def _error(self, error: str, message: str, **extra: Any) -> dict[str, Any]:
        return error_frame(error, i18n.translate(self.lang, message), **extra)

    async def join(self, code: str) -> None:
        """Enter the room of a call this clerk admitted (another tab of theirs gives way)."""

        def step(session: Session) -> tuple[str, int | None]:
            self._still_staff(session)
            return _call_of(session, code)

        try:
            state, clerk_id = await self.db(step)
        except (LoginRequired, Forbidden):
            raise  # no console any more: the loop refuses
        except ServicePointError as exc:
            await self.send(error_frame(exc.code, i18n.error_text(exc, self.lang), code=code))
            return
        if state != "admitted":
            await self.send(self._error("not_admitted", _NOT_ADMITTED, code=code))
            return
        if not access.is_mine(clerk_id, self.user_id):  # the one rule, HTTP actions alike
            await self.send(self._error("not_allowed", access.NOT_YOURS, code=code))
            return
        if self.seat is not None:
            await self.end_call()  # one call at a time: leave the one before
        await self.inbox.subscribe(ctl_channel(code))
        self.seat = Seat(self, code, state)
        await self.seat.enter(CLERK, takeover=True)
        await self.send(state_frame(state, code=code))
        await self.seat.announce()

    async def on_control(self, channel: str, message: dict[str, Any]) -> None:
        if self.seat is not None and channel == ctl_channel(self.seat.code):
            await _call_control(self, self.seat.code, message)

    async def on_queue_changed(self) -> None:
        self.changed_at, self.dirty = time.monotonic(), True
        if time.monotonic() - self.pushed_at >= DEBOUNCE:
            await self.push_queue()

    async def on_tick(self, now: float) -> None:
        if now - self.pushed_at >= (DEBOUNCE if self.dirty else QUEUE_EVERY):
            await self.push_queue()


@router.websocket("/video/{token}/ws")
async def citizen_ws(websocket: WebSocket, token: str) -> None:
    """Signalling for the citizen's join page (waiting room, then the call)."""
    await CitizenLink(websocket, token).serve()


@router.websocket("/video/gast/{token}/ws")
async def guest_ws(websocket: WebSocket, token: str) -> None:
    """Signalling for a guest (interpreter, second clerk) of a call."""
    await GuestLink(websocket, token).serve()


@router.websocket("/mitarbeiter/video/ws")
async def staff_ws(websocket: WebSocket) -> None:
    """Signalling for the staff console (queue, and the call of the admitted citizen)."""
    await StaffLink(websocket).serve()
