"""A small WebSocket client for the video figures (the `websockets` package, asyncio).

`visit` opens one connection, optionally sends frames, listens for a while and reports how it
ended and every frame it received; the load figure keeps connections open with `Peer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.typing import Origin

SIGNALLING = frozenset({"signal", "chat", "peers", "upload"})


@dataclass
class Visit:
    """How one connection went: refused at the handshake (HTTP status), closed by the server
    (close code), or still open when we left (close code None); the frames it received."""

    status: int | None = None
    close_code: int | None = None
    frames: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def signalling(self) -> int:
        return sum(1 for f in self.frames if f.get("type") in SIGNALLING)

    def outcome(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}"
        return f"close {self.close_code}" if self.close_code is not None else "held open"


def as_origin(base: str | None) -> Origin | None:
    """The Origin header a page of `base` sends (the staff socket checks it)."""
    return Origin(base) if base else None


def headers(cookie: str | None) -> dict[str, str]:
    return {"Cookie": cookie} if cookie else {}


def parse(text: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(text)
    except ValueError:
        return {"type": "<not json>"}
    return frame if isinstance(frame, dict) else {"type": "<not an object>"}


async def visit(
    url: str,
    *,
    hold: float,
    cookie: str | None = None,
    origin: str | None = None,
    frames: list[dict[str, Any]] | None = None,
) -> Visit:
    """Connect, send `frames`, listen for `hold` seconds (or until the server closes)."""
    result = Visit()
    start = time.perf_counter()
    try:
        async with connect(
            url,
            additional_headers=headers(cookie),
            origin=as_origin(origin),
            open_timeout=10,
        ) as ws:
            for frame in frames or []:
                await ws.send(json.dumps(frame))
            await _listen(ws, result, hold)
            result.close_code = ws.close_code
    except InvalidStatus as exc:
        result.status = exc.response.status_code
    except ConnectionClosed as exc:
        result.close_code = exc.rcvd.code if exc.rcvd else 1006
    except (OSError, WebSocketException, TimeoutError):
        result.close_code = 1006
    result.seconds = time.perf_counter() - start
    return result


async def _listen(ws: ClientConnection, result: Visit, hold: float) -> None:
    deadline = time.perf_counter() + hold
    with contextlib.suppress(TimeoutError):
        while (left := deadline - time.perf_counter()) > 0:
            text = await asyncio.wait_for(ws.recv(), timeout=left)
            result.frames.append(parse(text))


def tally(visits: list[Visit]) -> Counter[str]:
    return Counter(v.outcome() for v in visits)


async def bounded(jobs: list[Callable[[], Awaitable[Visit]]], limit: int) -> list[Visit]:
    """Run the jobs with at most `limit` at a time, in order of the list."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Visit]]) -> Visit:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))
