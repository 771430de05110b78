"""Counters with an expiry: fixed-window rate limits and the login throttle's failure counts.

In Redis when configured (shared by every process and node), in memory otherwise, and in memory
again while Redis is unreachable so the API keeps serving.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_LOCAL_KEYS = 100_000


class RateLimiter:
    def __init__(self, redis: Any | None = None, prefix: str = "ipv6wgm") -> None:
        self.redis = redis
        self.prefix = prefix
        self._local: dict[str, tuple[int, int]] = {}
        self._expiring: dict[str, tuple[float, int]] = {}  # key -> (expires at, value)

    async def _redis(self, op: Callable[[Any], Awaitable[T]]) -> T | None:
        """Run ``op(client)`` on Redis; None when Redis is not configured or fails (then local)."""
        if self.redis is None or not self.redis.available:
            return None
        try:
            return await op(self.redis.client)
        except Exception as exc:  # noqa: BLE001 - degrade to local counting
            self.redis.mark_down(exc)
            return None

    async def hit(self, key: str, limit: int, window: int = 60) -> tuple[bool, int]:
        """Count one hit; returns (allowed, seconds until the window resets)."""
        now = int(time.time())
        bucket = now // window
        retry_after = window - (now % window)

        async def count(client: Any) -> int:
            redis_key = f"{self.prefix}:rl:{key}:{bucket}"
            pipe = client.pipeline(transaction=False)
            pipe.incr(redis_key)
            pipe.expire(redis_key, window + 1)
            value, _ = await pipe.execute()
            return int(value)

        shared = await self._redis(count)
        if shared is not None:
            return shared <= limit, retry_after
        old_bucket, value = self._local.get(key, (bucket, 0))
        value = value + 1 if old_bucket == bucket else 1
        self._local[key] = (bucket, value)
        if len(self._local) > MAX_LOCAL_KEYS:
            self._local = {k: v for k, v in self._local.items() if v[0] == bucket}
        return value <= limit, retry_after

    # ---- counters and flags with a time to live (login throttle) ---------------------------

    def _local_get(self, key: str) -> int | None:
        hit = self._expiring.get(key)
        if hit is None or hit[0] <= time.time():
            self._expiring.pop(key, None)
            return None
        return hit[1]

    def _local_set(self, key: str, value: int, ttl: float) -> None:
        if len(self._expiring) > MAX_LOCAL_KEYS:
            now = time.time()
            self._expiring = {k: v for k, v in self._expiring.items() if v[0] > now}
        self._expiring[key] = (time.time() + ttl, value)

    async def incr(self, key: str, ttl: int) -> int:
        """Add one to a counter and (re)start its time to live; returns the new value."""
        redis_key = f"{self.prefix}:ctr:{key}"

        async def incr(client: Any) -> int:
            pipe = client.pipeline(transaction=False)
            pipe.incr(redis_key)
            pipe.expire(redis_key, ttl)
            value, _ = await pipe.execute()
            return int(value)

        shared = await self._redis(incr)
        if shared is not None:
            return shared
        value = (self._local_get(key) or 0) + 1
        self._local_set(key, value, ttl)
        return value

    async def set_flag(self, key: str, ttl: float) -> None:
        """A flag that exists for ``ttl`` seconds (milliseconds precision in Redis)."""
        redis_key = f"{self.prefix}:ctr:{key}"
        if await self._redis(lambda client: client.set(redis_key, 1, px=max(1, int(ttl * 1000)))) is None:
            self._local_set(key, 1, ttl)

    async def get(self, key: str) -> int | None:
        redis_key = f"{self.prefix}:ctr:{key}"

        async def get(client: Any) -> tuple[int | None]:
            value = await client.get(redis_key)
            return (None if value is None else int(value),)  # a tuple: None means "Redis failed"

        shared = await self._redis(get)
        return shared[0] if shared is not None else self._local_get(key)

    async def clear(self, *keys: str) -> None:
        if await self._redis(lambda client: client.delete(*[f"{self.prefix}:ctr:{k}" for k in keys])) is None:
            for key in keys:
                self._expiring.pop(key, None)
