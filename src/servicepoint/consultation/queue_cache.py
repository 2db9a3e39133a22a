"""One staff queue per worker and language, shared by every console connected to that worker.

Each console used to build the queue (three queries and their serialisation) for itself, on
every change and every 10 s: a hundred consoles cost a hundred builds and the worker fell behind
(bench/video_load.py). Now the first console that needs a queue newer than what it knows builds
it; the others take that one. A console asks for a snapshot built after the moment it learnt of
a change, so nobody is shown a queue older than the change it was told about.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import State


@dataclass(frozen=True)
class Snapshot:
    built_at: float  # time.monotonic() when the build began: it reflects every change before it
    frame: dict[str, Any]


class QueueCache:
    def __init__(self) -> None:
        self._snapshots: dict[str, Snapshot] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, lang: str, *, newer_than: float, build: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """The queue in `lang`, built after `newer_than` (monotonic seconds); one build at a
        time per language, the consoles waiting for it take its result."""
        lock = self._locks.setdefault(lang, asyncio.Lock())
        async with lock:
            known = self._snapshots.get(lang)
            if known is not None and known.built_at >= newer_than:
                return known.frame
            started = time.monotonic()
            frame = await build()
            self._snapshots[lang] = Snapshot(started, frame)
            return frame


def queue_cache(state: State) -> QueueCache:
    """The worker's cache (made on first use: one event loop per worker process)."""
    cache: QueueCache | None = getattr(state, "video_queue_cache", None)
    if cache is None:
        cache = state.video_queue_cache = QueueCache()
    return cache
