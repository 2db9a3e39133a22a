"""Messages between the connections of a call, across worker processes.

Everything goes through the app's broadcaster (core.broadcast: in memory in one process, Redis
pub/sub with SERVICEPOINT_REDIS_URL), on three kinds of channel:

- `video:room:{code}`  presence and relayed frames of the call's participants (signalling.py);
- `video:ctl:{code}`   control messages the service's routes publish after their commit
                       (admitted, returned, ended, replaced, upload, chat), so every worker's
                       connection of that call re-reads the database and reacts;
- `video:staff`        "the waiting room changed": consoles and waiting citizens recompute.

Routes publish with `notify` / `notify_staff` (background tasks, i.e. after the commit); the
WebSocket connections read through an `Inbox` and publish through `publish`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from fastapi import BackgroundTasks, FastAPI, Request

from servicepoint.core.broadcast import Broadcaster, MemoryBroadcaster

STAFF_CHANNEL = "video:staff"
CHANGED = "changed"
# Control messages that change who is waiting or in a call: the consoles' queue changes too.
_QUEUE_KINDS = frozenset({"admitted", "returned", "ended"})
_READY_SECONDS = 3.0  # a subscription not active by then means the hub is unreachable


def room_channel(code: str) -> str:
    return f"video:room:{code}"


def ctl_channel(code: str) -> str:
    return f"video:ctl:{code}"


def notify(
    background: BackgroundTasks, request: Request, code: str, message: dict[str, Any]
) -> None:
    """After the request's commit, tell every connection of the call `code` (any worker).

    `message` is a control message: {"kind": "admitted" | "returned" | "ended"},
    {"kind": "replaced", "conn": id}, {"kind": "upload", "id", "name", "size", "from"} or
    {"kind": "chat", "from", "text"}. Admission, send-back and end refresh the consoles too.
    """
    broadcaster: Broadcaster = request.app.state.broadcaster
    background.add_task(broadcaster.publish, ctl_channel(code), json.dumps(message))
    if message.get("kind") in _QUEUE_KINDS:
        background.add_task(broadcaster.publish, STAFF_CHANNEL, CHANGED)


def notify_staff(background: BackgroundTasks, request: Request) -> None:
    """After the request's commit, tell the consoles (and waiting citizens) the queue changed."""
    background.add_task(request.app.state.broadcaster.publish, STAFF_CHANNEL, CHANGED)


def _executor(app: FastAPI) -> ThreadPoolExecutor:
    # Redis publishes block; they run on a few threads of their own, not the routes' pool.
    executor: ThreadPoolExecutor | None = getattr(app.state, "video_publisher", None)
    if executor is None:
        executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="video-publish")
        app.state.video_publisher = executor
    return executor


def shutdown(app: FastAPI) -> None:
    """At the app's shutdown: let the publisher threads finish what is queued, then end."""
    executor: ThreadPoolExecutor | None = getattr(app.state, "video_publisher", None)
    if executor is not None:
        app.state.video_publisher = None
        executor.shutdown(wait=True, cancel_futures=False)


class Publisher:
    """One connection's outgoing messages, in order (an offer before its ICE candidates)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.broadcaster: Broadcaster = app.state.broadcaster
        self._lock = asyncio.Lock()

    async def __call__(self, channel: str, message: str) -> None:
        if isinstance(self.broadcaster, MemoryBroadcaster):  # never blocks: no thread needed
            self.broadcaster.publish(channel, message)
            return
        async with self._lock:  # FIFO: the order of the calls is the order on the channel
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(
                _executor(self.app), self.broadcaster.publish, channel, message
            )


Event = (
    tuple[Literal["client"], str | None]  # None: a binary frame
    | tuple[Literal["closed"], int]
    | tuple[Literal["message"], str, str]
    | tuple[Literal["failed"], str]
    | tuple[Literal["tick"]]
    | tuple[Literal["policy"], str]  # the browser broke a frame rule: close 1008 with this reason
)


class Inbox:
    """Everything one connection must react to, in one queue: its browser's frames, the
    channels it listens to, and a tick a second. One task reads it, so one task sends."""

    def __init__(self, publish: Publisher) -> None:
        self.publish = publish
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._readers: dict[str, asyncio.Task[None]] = {}

    def listening(self, channel: str) -> bool:
        return channel in self._readers

    async def subscribe(self, channel: str) -> None:
        """Listen to `channel`; returns once the subscription is active, so a message
        published afterwards (by anyone, on any worker) is sure to arrive."""
        if channel in self._readers:
            return
        ready = asyncio.Event()
        probe = json.dumps({"kind": "probe", "id": secrets.token_hex(8)})
        self._readers[channel] = asyncio.create_task(self._read(channel, probe, ready))
        await asyncio.sleep(0)  # the reader starts its subscription
        # The probe comes back only once the subscription is active; until then it is lost.
        wait, waited = 0.005, 0.0
        while not ready.is_set():
            if waited > _READY_SECONDS or self._readers[channel].done():
                raise ConnectionError(f"no subscription to {channel}")
            await self.publish(channel, probe)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), wait)
            waited, wait = waited + wait, min(wait * 2, 0.5)

    async def _read(self, channel: str, probe: str, ready: asyncio.Event) -> None:
        stream: AsyncIterator[str] = self.publish.broadcaster.subscribe(channel)
        try:
            async for text in stream:
                if text == probe:
                    ready.set()
                else:
                    self.queue.put_nowait(("message", channel, text))
        except Exception:  # e.g. Redis went away: the connection closes, the browser returns
            self.queue.put_nowait(("failed", channel))
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]

    async def unsubscribe(self, channel: str) -> None:
        """Stop listening at once; messages of `channel` already queued stay queued (the
        connection drops them by its own state)."""
        task = self._readers.pop(channel, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def close(self) -> None:
        for channel in list(self._readers):
            await self.unsubscribe(channel)
