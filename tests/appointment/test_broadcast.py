"""Live-update hubs: in memory for one process, Redis pub/sub across processes."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis

from servicepoint.core.broadcast import (
    PREFIX,
    Broadcaster,
    MemoryBroadcaster,
    RedisBroadcaster,
    make_broadcaster,
)
from tests.conftest import REDIS_URL

TIMEOUT = 10.0


async def _receive(
    subscriber: Broadcaster,
    channel: str,
    count: int,
    subscribed: Callable[[], bool],
    publish: Callable[[], None],
) -> list[str]:
    """Subscribe, wait until the hub knows us, let `publish` run in another thread, collect."""
    stream: AsyncIterator[str] = subscriber.subscribe(channel).__aiter__()
    first = asyncio.ensure_future(stream.__anext__())  # starts the subscription
    for _ in range(int(TIMEOUT / 0.005)):
        if subscribed():
            break
        await asyncio.sleep(0.005)
    assert subscribed(), "the subscription never became active"
    publisher = threading.Thread(target=publish)
    publisher.start()
    received = [await asyncio.wait_for(first, TIMEOUT)]
    while len(received) < count:
        received.append(await asyncio.wait_for(stream.__anext__(), TIMEOUT))
    publisher.join(TIMEOUT)
    await stream.aclose()  # type: ignore[attr-defined]
    return received


def test_memory_broadcaster_delivers_from_another_thread() -> None:
    hub = MemoryBroadcaster()
    channel = "location:aegi"

    def publish() -> None:  # like a route running in the thread pool
        hub.publish("location:linden", "not for us")
        for n in range(3):
            hub.publish(channel, f"changed {n}")

    got = asyncio.run(_receive(hub, channel, 3, lambda: bool(hub._queues.get(channel)), publish))
    assert got == ["changed 0", "changed 1", "changed 2"]
    assert not hub._queues.get(channel)  # unsubscribed when the client went away


def test_memory_broadcaster_fans_out_to_every_subscriber() -> None:
    hub = MemoryBroadcaster()

    async def two_listeners() -> tuple[str, str]:
        a = hub.subscribe("location:aegi").__aiter__()
        b = hub.subscribe("location:aegi").__aiter__()
        ta, tb = asyncio.ensure_future(a.__anext__()), asyncio.ensure_future(b.__anext__())
        while len(hub._queues.get("location:aegi", ())) < 2:
            await asyncio.sleep(0.001)
        threading.Thread(target=hub.publish, args=("location:aegi", "changed")).start()
        result = (await asyncio.wait_for(ta, TIMEOUT), await asyncio.wait_for(tb, TIMEOUT))
        await a.aclose()  # type: ignore[attr-defined]
        await b.aclose()  # type: ignore[attr-defined]
        return result

    assert asyncio.run(two_listeners()) == ("changed", "changed")


def test_publishing_without_listeners_or_after_their_loop_closed_is_harmless() -> None:
    hub = MemoryBroadcaster()
    hub.publish("location:aegi", "nobody listens")

    async def leave_without_closing() -> None:
        stream = hub.subscribe("location:aegi").__aiter__()
        task = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(leave_without_closing())
    hub.publish("location:aegi", "the loop is gone")  # must not raise


def test_make_broadcaster_picks_the_hub() -> None:
    assert isinstance(make_broadcaster(None), MemoryBroadcaster)
    assert isinstance(make_broadcaster("redis://127.0.0.1:6379/15"), RedisBroadcaster)


@pytest.mark.skipif(not REDIS_URL, reason="SERVICEPOINT_TEST_REDIS_URL not set: Redis skipped")
def test_redis_broadcaster_crosses_instances() -> None:
    """Two broadcasters stand for two worker processes: a call published by one reaches a
    display subscribed through the other."""
    assert REDIS_URL
    channel = f"location:test-{uuid.uuid4().hex}"
    listener, caller = RedisBroadcaster(REDIS_URL), RedisBroadcaster(REDIS_URL)
    probe = redis.Redis.from_url(REDIS_URL)

    def subscribed() -> bool:
        counts = dict(probe.pubsub_numsub(PREFIX + channel))
        return int(counts.get((PREFIX + channel).encode(), 0)) > 0

    def publish() -> None:
        caller.publish(f"location:other-{uuid.uuid4().hex}", "not for us")
        caller.publish(channel, "changed")
        caller.publish(channel, "changed again")

    try:
        got = asyncio.run(_receive(listener, channel, 2, subscribed, publish))
    finally:
        probe.close()
    assert got == ["changed", "changed again"]
