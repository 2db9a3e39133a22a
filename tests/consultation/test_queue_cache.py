"""The worker's shared staff queue: one build serves every console that needs no newer one."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from servicepoint.consultation.queue_cache import QueueCache


def test_consoles_share_one_build_and_a_later_change_builds_again() -> None:
    builds: list[float] = []

    async def build() -> dict[str, Any]:
        builds.append(time.monotonic())
        await asyncio.sleep(0.01)  # the queries run while other consoles ask
        return {"type": "queue", "n": len(builds)}

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        cache = QueueCache()
        heard = time.monotonic()
        frames = await asyncio.gather(
            *(cache.get("de", newer_than=heard, build=build) for _ in range(50))
        )
        again = await cache.get("de", newer_than=heard, build=build)
        changed = time.monotonic()
        fresh = await cache.get("de", newer_than=changed, build=build)
        return list(frames), again, fresh

    frames, again, fresh = asyncio.run(scenario())
    assert {f["n"] for f in frames} == {1} and again["n"] == 1
    assert fresh["n"] == 2 and len(builds) == 2


def test_each_language_has_its_own_queue() -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        cache = QueueCache()

        async def build_de() -> dict[str, Any]:
            return {"lang": "de"}

        async def build_en() -> dict[str, Any]:
            return {"lang": "en"}

        now = time.monotonic()
        return (
            await cache.get("de", newer_than=now, build=build_de),
            await cache.get("en", newer_than=now, build=build_en),
        )

    german, english = asyncio.run(scenario())
    assert german == {"lang": "de"} and english == {"lang": "en"}
