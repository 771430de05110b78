"""arq worker built from the registry: ``arq ipv6wgm_entrypoints.worker.WorkerSettings`` or
``ipv6wgm worker``.

Jobs keep their registered names (``<plugin>.<job>``, passed explicitly: arq would otherwise
name them after the function and silently overwrite duplicates). The worker consumes the queue
of its own node, so data-plane jobs run on the host that owns the interface. Crons carry their
scope in their arq name (``ipv6wgm.cron.arq_cron_name``): node crons run on every node,
cluster crons once per tick across all workers on the Redis server.

A worker may start before the server has migrated the database (docker compose, systemd):
it waits for the schema, saying so, rather than dying on a missing table.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import UTC
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from ipv6wgm.bootstrap import build_runtime, start_runtime, stop_runtime
from ipv6wgm.cron import LEADERSHIP_SERVICE, arq_cron_name, cron_times, tick_of
from ipv6wgm.db import pending_migrations
from ipv6wgm.jobs import HEARTBEAT_S, health_key, queue_name, run_cron
from ipv6wgm.registry import CronSpec
from ipv6wgm.settings import Settings, load_settings

log = logging.getLogger(__name__)
SCHEMA_WAIT_MAX_S = 10.0


def _cron_entry(spec: CronSpec) -> Any:
    """The cron's function with ``ctx["cron_tick"]`` set from the tick arq scheduled it for
    (its queue score; a late enqueue still belongs to the tick before it)."""

    @functools.wraps(spec.func)
    async def entry(ctx: dict[str, Any]) -> Any:
        score = ctx.get("score")
        ctx["cron_tick"] = tick_of(score / 1000 if score else time.time(), spec.every)
        return await run_cron(spec, ctx)

    return entry


def _cron(spec: CronSpec, settings: Settings, *, elected: bool) -> Any:
    # With a leader election (``elected``) every node queues each cluster tick and only the
    # leader runs it; without, arq's unique key lets one worker queue it. That tick's result is
    # kept a while so that a worker queueing it late (after the first run finished and removed
    # its job key) is still refused by arq.
    scope = "node" if elected else spec.scope
    keep = max(60, 2 * spec.every) if scope == "cluster" else 0
    return cron(_cron_entry(spec), name=arq_cron_name(spec.name, scope, prefix=settings.redis_prefix,
                                                      node_id=settings.node_id),
                run_at_startup=spec.run_at_startup, timeout=spec.timeout, unique=True, keep_result=keep,
                **cron_times(spec.every))


async def wait_for_schema(settings: Settings, apps: dict[str, Any]) -> None:
    """Return once every migration of the core and the plugins is applied (the server applies
    them at start, or ``ipv6wgm db upgrade``); until then log what is missing and retry."""
    delay = 0.5
    while True:
        try:
            pending = await pending_migrations(settings, apps)
        except Exception as exc:  # noqa: BLE001 - database not reachable yet: wait for it too
            reason = f"database not reachable ({type(exc).__name__}: {exc})"
        else:
            if not pending:
                return
            reason = f"{len(pending)} migration(s) not applied yet (first: {pending[0]})"
        log.warning("worker waiting for the database schema: %s; the server applies migrations at start "
                    "(or run `ipv6wgm db upgrade`); retrying in %.1f s", reason, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, SCHEMA_WAIT_MAX_S)


def build_worker_settings(settings: Settings | None = None) -> type:
    settings = settings or load_settings()
    if not settings.redis_url:
        raise SystemExit("the worker needs IPV6WGM_REDIS_URL (without Redis, jobs run inside the server)")
    runtime = build_runtime(settings, role="worker")

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["runtime"] = runtime
        await wait_for_schema(settings, runtime.registry.models)
        await start_runtime(runtime, migrate=False, run_jobs=False)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await stop_runtime(runtime)

    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    redis_settings.conn_retries, redis_settings.conn_retry_delay = 30, 2  # Redis may start after us
    attrs = {
        "functions": [func(s.func, name=s.name, timeout=s.timeout, max_tries=s.max_tries)
                      for s in runtime.registry.jobs.values()],
        "cron_jobs": [_cron(s, settings, elected=LEADERSHIP_SERVICE in runtime.services)
                      for s in runtime.registry.crons.values()],
        "timezone": UTC,  # cron ticks are multiples of the interval in UTC, as embedded
        "queue_name": queue_name(settings.redis_prefix, settings.node_id),
        "redis_settings": redis_settings,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        # Refreshed from the poll loop; the API answers 503 at once for a node without it.
        "health_check_key": health_key(settings.redis_prefix, settings.node_id),
        "health_check_interval": HEARTBEAT_S,
        # arq polls its queue every 0.5 s by default: half a second added to every data-plane
        # change (a BGP write waits for its apply). 50 ms costs Redis ~20 cheap reads a second.
        "poll_delay": 0.05,
        "keep_result": 3600,
        "max_jobs": 20,
        "handle_signals": True,
    }
    return type("WorkerSettings", (), attrs)


def __getattr__(name: str) -> Any:
    """``arq ipv6wgm_entrypoints.worker.WorkerSettings`` builds the settings lazily on access."""
    if name == "WorkerSettings":
        return build_worker_settings()
    raise AttributeError(name)
