"""The optional Redis connection, with a health state instead of exceptions on the hot path.

Redis is a cache, a rate-limit counter, the job queue and the WebSocket fan-out, never the
source of truth, so when it goes away the API keeps serving from the database and local state,
and picks Redis up again when it returns.

Two connection pools: request-path commands keep short timeouts (a request must not hang on
Redis), while the WebSocket hub's subscription lives on its own connection without a read
timeout, because a quiet channel is normal (a 2 s read timeout there flagged a healthy Redis
as down every few seconds). The hub proves that connection alive with its own pings.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)
RETRY_AFTER_S = 2.0


class RedisHandle:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client: aioredis.Redis = aioredis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=10
        )
        self._pubsub_client: aioredis.Redis = aioredis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=None, socket_keepalive=True
        )
        self._down_since: float | None = None
        self.last_error: str | None = None

    @property
    def available(self) -> bool:
        """False for a short while after a failure, so requests do not each wait on timeouts."""
        return self._down_since is None or time.monotonic() - self._down_since > RETRY_AFTER_S

    def mark_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            log.warning("redis unavailable: %s", exc)
        self._down_since = time.monotonic()
        self.last_error = f"{type(exc).__name__}: {exc}"

    def mark_up(self) -> None:
        if self._down_since is not None:
            log.info("redis available again")
        self._down_since = None
        self.last_error = None

    async def ping(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            await self.client.ping()
            stats = await self.client.info("stats")
            memory = await self.client.info("memory")
        except Exception as exc:  # noqa: BLE001
            self.mark_down(exc)
            return {"status": "unhealthy", "error": self.last_error}
        self.mark_up()
        hits, misses = int(stats.get("keyspace_hits", 0)), int(stats.get("keyspace_misses", 0))
        return {
            "status": "healthy",
            "response_time": round((time.perf_counter() - started) * 1000, 2),
            "hit_rate": round(100.0 * hits / (hits + misses), 2) if hits + misses else 0.0,
            "memory_usage": int(memory.get("used_memory", 0)),
        }

    def pubsub(self) -> Any:
        """A subscription on the dedicated connection (no read timeout; see the module doc)."""
        return self._pubsub_client.pubsub(ignore_subscribe_messages=True)

    async def close(self) -> None:
        await self.client.aclose()
        await self._pubsub_client.aclose()
