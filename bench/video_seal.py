"""Figure (a): admission is sealed. Scripted WebSocket attempts with no token, a wrong token, an
expired, cancelled or too-early booking, and as a citizen who waits but was not admitted, while
clerks flood offers, ICE candidates and chat: how many signalling frames (signal, chat, peers,
upload) reach any of them. Must be 0.

Beside it, measured in the same run: an admitted citizen in a room next door does receive the
flood (so the relay works and the zero means something), and a refusal's time against a trivial
GET /health on the same server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection, connect

from bench.video_common import (
    StaffLogin,
    add_bookings,
    admit_in_db,
    join_path,
    staff_logins,
    ws_url,
)
from bench.video_ws import Visit, as_origin, bounded, headers, parse, tally, visit
from servicepoint.core.clock import utcnow

CLERK = "bench-clerk"  # admits the control call next door
ROGUE = "bench-rogue"  # another clerk, who tries the waiting citizens' rooms
FAKE_SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}
FLOOD_PER_SECOND = 12  # below the server's 20 frames/s limit, so the clerks stay connected
WAIT_HOLD = 0.5  # seconds a waiting citizen listens per attempt
REFUSAL_HOLD = 3.0  # seconds a refused attempt may take to be closed (a refusal ends sooner)


@dataclass
class Tokens:
    waiting: list[str]
    control: str
    expired: list[str]
    cancelled: list[str]
    early: list[str]


@dataclass
class SealResult:
    attempts: dict[str, list[Visit]]
    control_frames: int = 0
    clerk_leaks: int = 0  # frames from a not-admitted citizen that reached a clerk
    flood_sent: int = 0
    control_sent: int = 0  # of the flood, what the control clerk sent into the admitted room
    refusal_ms: float = 0.0
    health_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    def total(self) -> int:
        return sum(len(v) for v in self.attempts.values())

    def leaked(self) -> int:
        return sum(v.signalling() for visits in self.attempts.values() for v in visits)


def _tokens(engine: Engine, secret: str, waiting: int) -> Tokens:
    now = utcnow()

    def paths(count: int, **options: Any) -> list[str]:
        return [join_path(secret, c) for c in add_bookings(engine, count, **options)]

    control = add_bookings(engine, 1)
    admit_in_db(engine, [(control[0], CLERK)], secret=secret)
    return Tokens(
        waiting=paths(waiting),
        control=join_path(secret, control[0]),
        expired=paths(5, start=now - dt.timedelta(hours=3)),
        cancelled=paths(5, status="cancelled"),
        early=paths(5, start=now + dt.timedelta(days=1)),
    )


def _forged(path: str) -> str:
    """A join path for a real code with a MAC that is not ours (its last digit changed)."""
    return path[:-1] + ("1" if path.endswith("0") else "0")


def _plan(tokens: Tokens, total: int) -> dict[str, list[str]]:
    """Paths (…/ws) per kind of attempt: a quarter with no token, a fifth wrong, a third a
    booking that may not be used now, the rest a waiting citizen."""
    share = {"no token": total // 4, "wrong token": total // 5, "expired/cancelled/too early": 0}
    share["expired/cancelled/too early"] = total // 3
    share["waiting, not admitted"] = total - sum(share.values())
    code = tokens.waiting[0].rsplit("/", 1)[1].split("-")[0]
    none = itertools.cycle(
        ["/video//ws", "/video/-/ws", "/video/gast//ws", "/mitarbeiter/video/ws"]
    )
    wrong = itertools.cycle(
        [
            _forged(tokens.waiting[0]) + "/ws",
            f"/video/{code}-{'0' * 32}/ws",
            f"/video/gast/g1-{'0' * 32}/ws",  # a guest link's shape, not its MAC
            "/video/ZZZZZZZZZZZZ-0123456789abcdef0123456789abcdef/ws",
        ]
    )
    unusable = itertools.cycle(tokens.expired + tokens.cancelled + tokens.early)
    waiting = itertools.cycle(tokens.waiting)
    return {
        "no token": [next(none) for _ in range(share["no token"])],
        "wrong token": [next(wrong) for _ in range(share["wrong token"])],
        "expired/cancelled/too early": [
            next(unusable) + "/ws" for _ in range(share["expired/cancelled/too early"])
        ],
        "waiting, not admitted": [
            next(waiting) + "/ws" for _ in range(share["waiting, not admitted"])
        ],
    }


def _flood_frame(n: int) -> dict[str, Any]:
    kind = n % 3
    if kind == 0:
        return {"type": "signal", "to": "citizen", "data": {"description": _offer()}}
    if kind == 1:
        return {"type": "signal", "to": "citizen", "data": {"candidate": CANDIDATE}}
    return {"type": "chat", "text": f"Flut {n}"}


def _offer() -> dict[str, str]:
    return {"type": "offer", "sdp": FAKE_SDP}


async def _clerk(
    base: str,
    staff: StaffLogin,
    code: str,
    stop: asyncio.Event,
    result: SealResult,
    control: bool = False,
) -> None:
    """A clerk connection that joins `code`'s room and floods it until `stop`; counts frames it
    receives from a citizen (a waiting citizen's frames must never arrive)."""
    async with connect(
        ws_url(base, "/mitarbeiter/video/ws"),
        additional_headers=headers(staff.cookie_header()),
        origin=as_origin(base),
    ) as ws:
        await ws.send(f'{{"type":"join","code":"{code}"}}')
        reader = asyncio.create_task(_count_citizen_frames(ws, result))
        n = 0
        while not stop.is_set():
            await ws.send(_json(_flood_frame(n)))
            n += 1
            result.flood_sent += 1
            result.control_sent += 1 if control else 0
            await asyncio.sleep(1 / FLOOD_PER_SECOND)
        reader.cancel()


async def _count_citizen_frames(ws: ClientConnection, result: SealResult) -> None:
    async for text in ws:
        frame = parse(text)
        if frame.get("type") in {"signal", "chat"} and frame.get("from") == "citizen":
            result.clerk_leaks += 1


async def _control_citizen(base: str, path: str, stop: asyncio.Event, result: SealResult) -> None:
    """The admitted citizen next door: it must receive the flood of its own clerk."""
    async with connect(ws_url(base, path + "/ws")) as ws:
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            if parse(text).get("type") in {"signal", "chat"}:
                result.control_frames += 1


def _json(frame: dict[str, Any]) -> str:
    return json.dumps(frame)


async def _attempts(base: str, plan: dict[str, list[str]]) -> dict[str, list[Visit]]:
    """Refusals one after another (so their time compares with the sequential GET /health);
    waiting citizens one after another per link (a second tab with the same link takes over,
    which is not what this counts), ten links side by side."""
    result: dict[str, list[Visit]] = {}
    citizen_talk: list[dict[str, Any]] = [
        {"type": "signal", "to": "clerk", "data": {"description": _offer()}},
        {"type": "chat", "text": "Darf ich schon?"},
    ]
    for kind, paths in plan.items():
        if kind.startswith("waiting"):
            chains: dict[str, list[str]] = {}
            for p in paths:
                chains.setdefault(p, []).append(p)
            groups = await asyncio.gather(
                *(_chain(base, chain, citizen_talk) for chain in chains.values())
            )
            result[kind] = [v for g in groups for v in g]
        else:
            jobs = [_refusal(base, p) for p in paths]
            result[kind] = await bounded(jobs, 1)
    return result


def _refusal(base: str, path: str) -> Callable[[], Awaitable[Visit]]:
    async def job() -> Visit:
        return await visit(ws_url(base, path), hold=REFUSAL_HOLD)

    return job


async def _chain(base: str, paths: list[str], talk: list[dict[str, Any]]) -> list[Visit]:
    return [await visit(ws_url(base, p), hold=WAIT_HOLD, frames=talk) for p in paths]


def _health_ms(base: str, n: int = 200) -> float:
    times = []
    with httpx.Client() as http:
        for _ in range(n):
            start = time.perf_counter()
            http.get(f"{base}/health").raise_for_status()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def measure(base: str, engine: Engine, *, secret: str, total: int) -> SealResult:
    clerk, rogue = staff_logins(engine, secret=secret, usernames=[CLERK, ROGUE])
    tokens = _tokens(engine, secret, waiting=10)
    plan = _plan(tokens, total)
    result = SealResult(attempts={})
    stop = asyncio.Event()
    control_code = tokens.control.rsplit("/", 1)[1].split("-")[0]
    waiting_codes = [p.rsplit("/", 1)[1].split("-")[0] for p in tokens.waiting]
    background = [asyncio.create_task(_control_citizen(base, tokens.control, stop, result))]
    await asyncio.sleep(0.5)
    background.append(
        asyncio.create_task(_clerk(base, clerk, control_code, stop, result, control=True))
    )
    background += [
        asyncio.create_task(_clerk(base, rogue, code, stop, result)) for code in waiting_codes[:3]
    ]
    await asyncio.sleep(1.0)
    result.attempts = await _attempts(base, plan)
    stop.set()
    for outcome in await asyncio.gather(*background, return_exceptions=True):
        if isinstance(outcome, BaseException):
            result.notes.append(f"a flooding clerk or the control citizen failed: {outcome!r}")
    result.refusal_ms = _median_ms(
        [v for k, vs in result.attempts.items() if not k.startswith("waiting") for v in vs]
    )
    result.health_ms = _health_ms(base)
    return result


def _median_ms(visits: list[Visit]) -> float:
    """Median time to refusal (attempts the server held open are not refusals)."""
    refused = [v.seconds for v in visits if v.close_code is not None or v.status is not None]
    return statistics.median(refused) * 1000 if refused else float("nan")


def outcomes(result: SealResult) -> dict[str, Counter[str]]:
    return {kind: tally(visits) for kind, visits in result.attempts.items()}


def median_ms(result: SealResult, kind: str) -> float:
    return _median_ms(result.attempts[kind])
