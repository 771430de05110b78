"""``GET /monitoring/dashboard``: real numbers only.

- ``system_metrics``: the node's latest snapshot (its sampler's psutil readings); for this
  process's own node without a fresh snapshot (the worker has not sampled yet), psutil read now,
  in a thread.
- ``application_metrics.database``: the live Tortoise connection pool (aiomysql's pool size,
  open and checked-out connections; SQLite's single connection).
- ``application_metrics.cache``: Redis ``INFO`` (hit rate, memory) when Redis is configured,
  ``{"status": "not configured"}`` otherwise.
- ``alerts``: counts from the alert table.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tortoise import connections

from ipv6wgm.runtime import current
from ipv6wgm_monitoring import alerts, host, sampling
from ipv6wgm_monitoring.settings import get_settings
from ipv6wgm_monitoring.timefmt import iso_epoch

CACHE_TIMEOUT_S = 2.0


def database_pool() -> dict[str, Any]:
    """What the connection pool holds right now (no query: the pool's own counters)."""
    rt = current()
    client = connections.get("default")
    if rt.settings.database_kind == "mysql":
        pool = getattr(client, "_pool", None)
        if pool is None:
            return {"type": "mysql", "pool_size": rt.settings.database_pool_size, "checked_out": 0,
                    "active_connections": 0, "idle": 0}
        size, free = int(pool.size), int(pool.freesize)
        return {"type": "mysql", "pool_size": int(pool.maxsize), "checked_out": size - free,
                "active_connections": size, "idle": free}
    lock = getattr(client, "_lock", None)
    busy = 1 if lock is not None and lock.locked() else 0
    connected = getattr(client, "_connection", None) is not None
    return {"type": "sqlite", "pool_size": 1, "checked_out": busy, "active_connections": int(connected),
            "idle": int(connected) - busy}


async def cache_stats() -> dict[str, Any]:
    redis = current().redis
    if redis is None:
        return {"status": "not configured"}
    try:
        stats, memory = await asyncio.wait_for(
            asyncio.gather(redis.client.info("stats"), redis.client.info("memory")), CACHE_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - an unreachable cache is a finding
        return {"status": "unavailable", "error": f"{type(exc).__name__}: {exc}"[:200]}
    hits, misses = int(stats.get("keyspace_hits", 0)), int(stats.get("keyspace_misses", 0))
    lookups = hits + misses
    return {
        "status": "connected",
        "hit_rate": round(100.0 * hits / lookups, 2) if lookups else 0.0,
        "miss_rate": round(100.0 * misses / lookups, 2) if lookups else 0.0,
        "hits": hits, "misses": misses,
        "memory_usage": int(memory.get("used_memory", 0)),
        "memory_peak": int(memory.get("used_memory_peak", 0)),
    }


async def system_metrics(node: str) -> tuple[dict[str, Any] | None, int | None]:
    """(system_metrics block, when it was measured) for ``node``."""
    snaps = await sampling.snapshots(fresh_only=True, node=node)
    if snaps and snaps[0].host is not None:
        return snaps[0].host, snaps[0].taken_at
    rt = current()
    if node != rt.settings.node_id:
        return None, None
    disk = get_settings().disk_path or rt.settings.data_dir.resolve()

    facts = (await asyncio.to_thread(host.sample, None, disk))[1]  # a thread: it waits for a CPU interval
    return facts, int(time.time())


async def dashboard(node: str) -> dict[str, Any]:
    system, measured = await system_metrics(node)
    return {
        "node": node,
        "measured_at": iso_epoch(measured) if measured else None,
        "system_metrics": system,
        "application_metrics": {"database": database_pool(), "cache": await cache_stats()},
        "alerts": await alerts.counts(),
    }
