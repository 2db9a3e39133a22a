"""Baseline for the video figures: the most trivial relay, served by the same uvicorn.

`WS /room/{room}/{peer}` forwards every text frame to the other connections of the room, and
`WS /echo` sends each frame straight back. No database, no authentication, no seal: what a
frame costs on this machine's uvicorn and websockets stack, so the video figures can say how
much the app's signalling adds. `GET /health` answers for the start-up check.
Run as `uvicorn bench.video_echo:app`.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_rooms: dict[str, dict[str, Send]] = defaultdict(dict)


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _health(send)
    elif scope["type"] == "websocket":
        await _socket(str(scope["path"]), receive, send)
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


async def _health(send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


async def _socket(path: str, receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    parts = path.strip("/").split("/")
    room, peer = (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "room" else ("", "")
    if room:
        _rooms[room][peer] = send
    try:
        while (message := await receive())["type"] == "websocket.receive":
            frame = {"type": "websocket.send", "text": message.get("text") or ""}
            targets = [s for p, s in _rooms[room].items() if p != peer] if room else [send]
            for target in targets:
                with contextlib.suppress(Exception):  # the other side just left
                    await target(frame)
    finally:
        if room:
            _rooms[room].pop(peer, None)
