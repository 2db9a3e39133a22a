"""The signalling protocol of a video call: frames, room envelopes, ranks, ICE servers.

Pure: no database, no web, no clock of its own. The WebSocket routes (ws.py) parse what a
browser sends with `parse_frame`, decide with the functions here what goes where, and build
every frame they send with the `*_frame` helpers, so the protocol lives in one place
(VIDEO.md, "Transport").
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from servicepoint.config import Settings
from servicepoint.core.inputs import (
    Code,
    LongText,
    first_bad_char,
    json_texts,
    json_too_deep,
)

MAX_FRAME_BYTES = 64 * 1024
# Frames per second a connection may send on average; a burst of ICE candidates may briefly go
# above it (the bucket holds BURST), a flood may not.
FRAMES_PER_SECOND = 20
BURST = 40
HEARTBEAT_SECONDS = 5.0  # a ping refreshes seen_at at most this often

# Close codes: the browser client gives up on the 44xx ones (retrying cannot help).
CLOSE_POLICY = 1008  # frame too large, too many frames, binary frame
CLOSE_SERVER = 1011  # the hub went away: the client reconnects
CLOSE_REFUSED = 4403  # bad token, too early, not staff, foreign origin
CLOSE_REPLACED = 4409  # a second tab with the same link took over
CLOSE_GONE = 4410  # link expired, booking cancelled, call ended
CLOSE_RATE = 4429  # too many connections from this client: the client retries, slower each time
_REASON_BYTES = 123  # RFC 6455: a close reason fits in a control frame

CLERK = "clerk"
CITIZEN = "citizen"
EVERYONE = "*"
_PEER = re.compile(r"clerk|citizen|guest-[1-9][0-9]{0,2}")
PeerName = Annotated[str, Field(pattern=r"^(clerk|citizen|guest-[1-9][0-9]{0,2})$")]


def guest_name(number: int) -> str:
    return f"guest-{number}"


def rank(peer: str) -> tuple[int, int]:
    """clerk (0) < guest-n (1, by n) < citizen (2): in each pair the lower rank offers."""
    if peer == CLERK:
        return (0, 0)
    if peer.startswith("guest-") and peer[6:].isdigit():
        return (1, int(peer[6:]))
    return (2, 0)


def offers(me: str, other: str) -> bool:
    """Whether `me` sends the offer to `other` (the browser client decides the same way)."""
    return rank(me) < rank(other)


# -- what a browser sends ---------------------------------------------------------------------
class _Frame(BaseModel):
    # Unknown keys are dropped, never relayed: what reaches the other side is only what is here.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Description(_Frame):
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: str = Field(default="", max_length=MAX_FRAME_BYTES)


class Candidate(_Frame):
    # RTCIceCandidate.toJSON()'s own names.
    candidate: str = Field(max_length=2048)
    sdpMid: str | None = Field(default=None, max_length=64)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=1024)
    usernameFragment: str | None = Field(default=None, max_length=256)


class SignalData(_Frame):
    description: Description | None = None
    candidate: Candidate | None = None

    @model_validator(mode="after")
    def _one(self) -> SignalData:
        if (self.description is None) == (self.candidate is None):
            raise ValueError("exactly one of description and candidate")
        return self


class Ping(_Frame):
    type: Literal["ping"]


class Signal(_Frame):
    type: Literal["signal"]
    to: PeerName
    data: SignalData


class Chat(_Frame):
    type: Literal["chat"]
    text: Annotated[LongText, Field(min_length=1)]


class Join(_Frame):
    type: Literal["join"]
    code: Code


class Fallback(_Frame):
    type: Literal["fallback"]
    mode: Literal["audio", "phone"]


ClientFrame = Annotated[Ping | Signal | Chat | Join | Fallback, Field(discriminator="type")]
_CLIENT_FRAME: TypeAdapter[Ping | Signal | Chat | Join | Fallback] = TypeAdapter(ClientFrame)

# Which frames each side may send; anything else is dropped with an `error` frame.
CITIZEN_FRAMES = frozenset({"ping", "signal", "chat", "fallback"})
GUEST_FRAMES = frozenset({"ping", "signal", "chat"})
STAFF_FRAMES = frozenset({"ping", "signal", "chat", "join"})


def frame_problem(text: str | None) -> str | None:
    """Why a browser's frame breaks the rules before anything parses it (close 1008), or None."""
    if text is None:
        return "binary_frame"
    return "frame_too_large" if too_large(text) else None


def too_large(text: str) -> bool:
    """Over 64 KiB as UTF-8 (checked before anything parses the frame)."""
    return len(text) > MAX_FRAME_BYTES or len(text.encode()) > MAX_FRAME_BYTES


def parse_frame(
    text: str, allowed: frozenset[str]
) -> Ping | Signal | Chat | Join | Fallback | None:
    """The frame `text` carries if it is well-formed, clean text and allowed here, else None.

    The same rules as every request (core.inputs): no NUL, control or bidirectional
    characters anywhere, nesting bounded, chat text normalised and at most 2,000 characters.
    """
    if json_too_deep(text):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("type") not in allowed:
        return None
    if any(first_bad_char(value) is not None for _, value in json_texts(doc)):
        return None
    try:
        return _CLIENT_FRAME.validate_python(doc)
    except ValidationError:
        return None


class FrameBudget:
    """A token bucket per connection: FRAMES_PER_SECOND on average, BURST at once."""

    def __init__(self, now: float, rate: float = FRAMES_PER_SECOND, burst: int = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# -- what the server sends --------------------------------------------------------------------
def hello_frame(peer: str, ice: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "hello", "peer": peer, "ice_servers": ice}


def state_frame(
    state: str,
    *,
    position: int | None = None,
    estimate_minutes: int | None = None,
    late: bool = False,
    code: str | None = None,
) -> dict[str, Any]:
    """`booked` is never shown: an open page has knocked, so it is waiting. Staff get the code."""
    frame: dict[str, Any] = {
        "type": "state",
        "state": "waiting" if state == "booked" else state,
        "position": position,
        "estimate_minutes": estimate_minutes,
        "late": late,
    }
    if code is not None:
        frame["code"] = code
    return frame


def peers_frame(peers: Iterable[str]) -> dict[str, Any]:
    return {"type": "peers", "peers": sorted(peers, key=rank)}


def error_frame(error: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "error": error, **extra}
    if detail is not None:
        frame["detail"] = detail
    return frame


def chat_frame(sender: str, text: str, at: dt.datetime) -> dict[str, Any]:
    return {"type": "chat", "from": sender, "text": text, "at": at.astimezone(dt.UTC).isoformat()}


def signal_frame(sender: str, data: SignalData) -> dict[str, Any]:
    return {"type": "signal", "from": sender, "data": data.model_dump(exclude_none=True)}


def upload_frame(code: str, message: Mapping[str, Any]) -> dict[str, Any] | None:
    """A control message about a received document, as the clerk's and guests' frame."""
    upload_id, name, size = message.get("id"), message.get("name"), message.get("size")
    if not isinstance(upload_id, int) or not isinstance(name, str) or not isinstance(size, int):
        return None
    return {
        "type": "upload",
        "from": str(message.get("from") or CITIZEN),
        "id": upload_id,
        "name": name,
        "size": size,
        "url": f"/mitarbeiter/video/{code}/dokumente/{upload_id}",
    }


def close_reason(error: str, detail: str = "", **extra: str) -> str:
    """The close reason, JSON: the error code always, the detail when it still fits 123 bytes."""
    for doc in ({"error": error, **extra, "detail": detail}, {"error": error, **extra}):
        text = json.dumps({k: v for k, v in doc.items() if v}, ensure_ascii=False)
        if len(text.encode()) <= _REASON_BYTES:
            return text
    return json.dumps({"error": error[:100]})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def queue_frame(
    waiting: Sequence[Any], in_call: Sequence[Any], today: Sequence[Any]
) -> dict[str, Any]:
    """The staff console's view: the service's entries (dataclasses) as JSON, times in ISO."""
    return {
        "type": "queue",
        "waiting": _plain(list(waiting)),
        "in_call": _plain(list(in_call)),
        "today": _plain(list(today)),
    }


# -- room envelopes (between connections, through the broadcaster) ----------------------------
def envelope(kind: str, peer: str, conn: str, **extra: Any) -> str:
    """A room message: presence (`join`, `here`, `leave`, `who`) or a relayed `frame`."""
    return json.dumps({"kind": kind, "peer": peer, "conn": conn, **extra}, ensure_ascii=False)


def relay_envelope(sender: str, conn: str, to: str, frame: Mapping[str, Any]) -> str:
    return envelope("frame", sender, conn, to=to, frame=dict(frame))


def read_message(text: str) -> dict[str, Any] | None:
    """A message from a channel, or None if it is not a JSON object (e.g. `changed`)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def delivery(message: Mapping[str, Any], *, me: str, conn: str) -> dict[str, Any] | None:
    """The frame a room message carries for the connection `conn` (peer `me`), or None."""
    if message.get("kind") != "frame" or message.get("conn") == conn:
        return None
    frame = message.get("frame")
    if message.get("to") not in (EVERYONE, me) or not isinstance(frame, dict):
        return None
    return frame


def may_reach_citizen(to: str, call_state: str) -> bool:
    """The seal on the sending side: nothing is addressed to a citizen not admitted."""
    return to != CITIZEN or call_state == "admitted"


def valid_peer(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _PEER.fullmatch(value) is not None


class Roster:
    """The other participants of a room as one connection knows them: peer -> connection.

    Presence crosses workers as room messages, so a worker that dies never says `leave`;
    an entry not heard from for `max_age` seconds is dropped.
    """

    def __init__(self, me: str, conn: str) -> None:
        self.me, self.conn = me, conn
        self.members: dict[str, tuple[str, float]] = {}

    def names(self) -> list[str]:
        return sorted(self.members, key=rank)

    def heard(self, peer: str, conn: str, now: float) -> str:
        """Record a sign of life: "new", "replaced" (same name, new connection) or "same"."""
        if peer == self.me or conn == self.conn or not valid_peer(peer):
            return "same"
        known = self.members.get(peer)
        self.members[peer] = (conn, now)
        if known is None:
            return "new"
        return "same" if known[0] == conn else "replaced"

    def gone(self, peer: str, conn: str) -> bool:
        known = self.members.get(peer)
        if known is None or known[0] != conn:
            return False  # a replaced connection leaving does not take its successor along
        del self.members[peer]
        return True

    def expire(self, now: float, max_age: float) -> bool:
        stale = [peer for peer, (_, seen) in self.members.items() if now - seen > max_age]
        for peer in stale:
            del self.members[peer]
        return bool(stale)


def free_guest_name(taken: Iterable[str]) -> str:
    """The lowest guest-n not in use in the room."""
    used = set(taken)
    return next(guest_name(n) for n in range(1, len(used) + 2) if guest_name(n) not in used)


# -- ICE servers ------------------------------------------------------------------------------
def _urls(server: Mapping[str, Any]) -> list[str]:
    urls = server.get("urls", [])
    return [urls] if isinstance(urls, str) else [str(u) for u in urls]


def turn_credentials(secret: str, label: str, expires: int) -> tuple[str, str]:
    """coturn's `use-auth-secret` (TURN REST API): username "expiry:label", password
    base64(HMAC-SHA1(secret, username)). coturn refuses it after `expires` (Unix time)."""
    username = f"{expires}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(
    settings: Settings, now: dt.datetime, label: str = "servicepoint"
) -> list[dict[str, Any]]:
    """The STUN/TURN servers for RTCPeerConnection; with a TURN secret, every entry with a
    turn: or turns: URL gets credentials valid for video_turn_ttl_seconds from `now`."""
    secret = settings.video_turn_secret
    expires = int(now.timestamp()) + settings.video_turn_ttl_seconds
    servers = []
    for server in settings.video_ice_servers:
        entry = dict(server)
        if secret and any(u.startswith(("turn:", "turns:")) for u in _urls(server)):
            entry["username"], entry["credential"] = turn_credentials(secret, label, expires)
        servers.append(entry)
    return servers
