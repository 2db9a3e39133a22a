"""Fixed-window rate limits: in memory for one process, in Redis when several workers run."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window: int) -> bool:
        """Count one event for `key`; False once more than `limit` fall into the window."""

    def reset(self, key: str) -> None: ...

    def exceeded(self, key: str, *, limit: int, window: int) -> bool:
        """True when `limit` events already fall into the window (nothing is counted)."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window: int) -> bool:
        now = time.monotonic()
        with self._lock:
            count, start = self._counts.get(key, (0, now))
            if now - start >= window:
                count, start = 0, now
            self._counts[key] = (count + 1, start)
            if len(self._counts) > 100_000:  # bound memory under an address-spraying attack
                self._counts = {k: v for k, v in self._counts.items() if now - v[1] < window}
            return count + 1 <= limit

    def reset(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def exceeded(self, key: str, *, limit: int, window: int) -> bool:
        with self._lock:
            count, start = self._counts.get(key, (0, 0.0))
        return time.monotonic() - start < window and count >= limit


class RedisRateLimiter:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def hit(self, key: str, *, limit: int, window: int) -> bool:
        name = f"sp:rl:{key}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window, nx=True)
        count, _ = pipe.execute()
        return int(count) <= limit

    def reset(self, key: str) -> None:
        self._redis.delete(f"sp:rl:{key}")

    def exceeded(self, key: str, *, limit: int, window: int) -> bool:
        value = self._redis.get(f"sp:rl:{key}")
        return value is not None and int(value) >= limit


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis.Redis.from_url(redis_url))
    return MemoryRateLimiter()
