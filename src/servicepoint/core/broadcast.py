"""Live updates to pages (call display, ticket pages) via Server-Sent Events.

In one process an in-memory hub fans messages out; with several workers every message goes
through Redis pub/sub so a call made in one worker reaches displays connected to another.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol

import redis
import redis.asyncio as aioredis

PREFIX = "sp:live:"


class Broadcaster(Protocol):
    def publish(self, channel: str, message: str) -> None:
        """Send from any thread (routes run in a thread pool)."""

    def subscribe(self, channel: str) -> AsyncIterator[str]:
        """Messages for `channel` until the client goes away."""


class MemoryBroadcaster:
    def __init__(self) -> None:
        self._queues: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]]] = (
            defaultdict(set)
        )
        self._lock = threading.Lock()

    def publish(self, channel: str, message: str) -> None:
        with self._lock:
            targets = list(self._queues.get(channel, ()))
        for loop, queue in targets:
            with contextlib.suppress(RuntimeError):  # the loop closed: client is gone
                loop.call_soon_threadsafe(queue.put_nowait, message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        entry = (asyncio.get_running_loop(), asyncio.Queue[str](maxsize=100))
        with self._lock:
            self._queues[channel].add(entry)
        try:
            while True:
                yield await entry[1].get()
        finally:
            with self._lock:
                self._queues[channel].discard(entry)


class RedisBroadcaster:
    def __init__(self, url: str) -> None:
        self._url = url
        self._sync = redis.Redis.from_url(url)

    def publish(self, channel: str, message: str) -> None:
        self._sync.publish(PREFIX + channel, message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        client = aioredis.Redis.from_url(self._url)
        pubsub = client.pubsub()
        await pubsub.subscribe(PREFIX + channel)
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    data = item["data"]
                    yield data.decode() if isinstance(data, bytes) else str(data)
        finally:
            await pubsub.unsubscribe(PREFIX + channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 8 on
            await client.aclose()


def make_broadcaster(redis_url: str | None) -> Broadcaster:
    return RedisBroadcaster(redis_url) if redis_url else MemoryBroadcaster()
