"""arq worker built from the registry: ``arq ipv6wgm_entrypoints.worker.WorkerSettings`` or
``ipv6wgm worker``.

Jobs keep their registered names (``<plugin>.<job>``, passed explicitly: arq would otherwise
name them after the function and silently overwrite duplicates). The worker consumes the queue
of its own node, so data-plane jobs run on the host that owns the interface.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from ipv6wgm.bootstrap import build_runtime, start_runtime, stop_runtime
from ipv6wgm.jobs import queue_name
from ipv6wgm.registry import CronSpec
from ipv6wgm.settings import Settings, load_settings


def _cron_times(every: int) -> dict[str, Any]:
    """arq crons are calendar based; turn "every N seconds" into second/minute sets."""
    if every < 60:
        step = next(d for d in (every, *range(every + 1, 61)) if 60 % d == 0)
        return {"second": set(range(0, 60, step))}
    minutes = max(1, every // 60)
    if minutes < 60:
        step = next(d for d in (minutes, *range(minutes + 1, 61)) if 60 % d == 0)
        return {"minute": set(range(0, 60, step)), "second": 0}
    return {"hour": set(range(0, 24, max(1, minutes // 60))), "minute": 0, "second": 0}


def _cron(spec: CronSpec) -> Any:
    return cron(spec.func, name=f"cron:{spec.name}", run_at_startup=spec.run_at_startup,
                timeout=max(spec.every * 5, 60), **_cron_times(spec.every))


def build_worker_settings(settings: Settings | None = None) -> type:
    settings = settings or load_settings()
    if not settings.redis_url:
        raise SystemExit("the worker needs IPV6WGM_REDIS_URL (without Redis, jobs run inside the server)")
    runtime = build_runtime(settings, role="worker")

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["runtime"] = runtime
        await start_runtime(runtime, migrate=False, run_jobs=False)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await stop_runtime(runtime)

    attrs = {
        "functions": [func(s.func, name=s.name, timeout=s.timeout, max_tries=s.max_tries)
                      for s in runtime.registry.jobs.values()],
        "cron_jobs": [_cron(s) for s in runtime.registry.crons.values()],
        "queue_name": queue_name(settings.redis_prefix, settings.node_id),
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "health_check_key": f"{settings.redis_prefix}:health:{settings.node_id}",
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
