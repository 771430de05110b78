"""The core registers its own models, routes, permissions, channels and crons through the same
hooks as any plugin, so there is one path for everything and the hooks are exercised by it."""

from __future__ import annotations

import asyncio
from typing import Any

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    BlueprintRegistrar,
    ChannelRegistrar,
    CronRegistrar,
    HealthRegistrar,
    JobRegistrar,
    ModelRegistrar,
    PermissionRegistrar,
)
from ipv6wgm.security.rbac import Principal


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register(
        "ipv6wgm.users.models",
        "ipv6wgm.auth.models",
        "ipv6wgm.logs.models",
        "ipv6wgm.system.models",
        migrations="ipv6wgm.migrations",
    )


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm.auth.routes import bp as auth_bp
    from ipv6wgm.logs.routes import bp as logs_bp
    from ipv6wgm.system.routes import bp as system_bp
    from ipv6wgm.users.routes import bp as users_bp

    for bp in (auth_bp, users_bp, logs_bp, system_bp):
        register(bp, url_prefix=bp.url_prefix)


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("users.read", "List and read all users", roles=("manager",))
    register("users.write", "Create, change, delete users and reset passwords")
    register("logs.read", "Read and export the application and audit log", roles=("manager",))
    register("system.read", "Read system facts, configuration and detailed health", roles=("manager",))
    register("system.write", "Change the live configuration")
    register("plugins.read", "List installed plugins", roles=("manager",))
    register("logs.all", "Receive every log_entry event", roles=("manager",))
    register("system.all", "Receive every system_status event", roles=("manager",))


async def _system_snapshot(_principal: Principal | None = None) -> dict[str, Any]:
    from ipv6wgm.system.facts import network_counters, resources

    res = await asyncio.to_thread(resources)
    return {
        "cpu_usage": res["cpu"]["usage"],
        "memory_usage": res["memory"]["usage_percent"],
        "disk_usage": res["disk"]["usage_percent"],
        "network_traffic": await asyncio.to_thread(network_counters),
    }


async def publish_system_status(ctx: dict[str, Any]) -> None:
    from ipv6wgm.runtime import current

    await current().hub.publish("system", "system_status", await _system_snapshot())


async def purge_log_exports(ctx: dict[str, Any]) -> int:
    from ipv6wgm.logs.export import purge_expired

    return await purge_expired(ctx)


async def prune_logs(ctx: dict[str, Any]) -> int:
    """Keep at most ``max_log_size`` thousand log rows (oldest go first)."""
    from ipv6wgm.logs.models import LogEntry
    from ipv6wgm.runtime import current

    keep = current().config.max_log_size * 1000
    cutoff = await LogEntry.all().order_by("-id").offset(keep).limit(1).values_list("id", flat=True)
    if not cutoff:
        return 0
    return await LogEntry.filter(id__lte=cutoff[0]).delete()


@hookimpl
def register_jobs(register: JobRegistrar) -> None:
    register("purge_log_exports", purge_log_exports, timeout=120)
    register("prune_logs", prune_logs, timeout=300)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    register("system_status", publish_system_status, every=5, scope="node")
    register("purge_log_exports", purge_log_exports, every=600, scope="cluster")
    register("prune_logs", prune_logs, every=3600, scope="cluster")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    register("system", message_type="system_status", permission="system.read", stream_path="/ws/system/status",
             snapshot=_system_snapshot)
    register("logs", message_type="log_entry", permission="logs.read", stream_path="/ws/logs")


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    from ipv6wgm.system.health import cache_check, database_check

    register("database", database_check)
    register("cache", cache_check)
