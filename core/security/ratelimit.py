"""Fixed-window rate limits: in Redis when configured (shared by every process and node),
in memory otherwise, and in memory again while Redis is unreachable so the API keeps serving."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, redis: Any | None = None, prefix: str = "ipv6wgm") -> None:
        self.redis = redis
        self.prefix = prefix
        self._local: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int, window: int = 60) -> tuple[bool, int]:
        """Count one hit; returns (allowed, seconds until the window resets)."""
        now = int(time.time())
        bucket = now // window
        retry_after = window - (now % window)
        if self.redis is not None and self.redis.available:
            try:
                redis_key = f"{self.prefix}:rl:{key}:{bucket}"
                pipe = self.redis.client.pipeline(transaction=False)
                pipe.incr(redis_key)
                pipe.expire(redis_key, window + 1)
                count, _ = await pipe.execute()
                return int(count) <= limit, retry_after
            except Exception as exc:  # noqa: BLE001 - degrade to local counting
                self.redis.mark_down(exc)
        old_bucket, count = self._local.get(key, (bucket, 0))
        count = count + 1 if old_bucket == bucket else 1
        self._local[key] = (bucket, count)
        if len(self._local) > 100_000:
            self._local = {k: v for k, v in self._local.items() if v[0] == bucket}
        return count <= limit, retry_after
