"""Building and starting a Runtime: shared by the server, the worker and the CLI, so every
process loads the same plugins, the same models and the same services in the same order.

Every start has its stop, and a stop closes everything its start opened: a process must be
able to exit on its own (an aiosqlite connection left open keeps a non-daemon thread alive, and
the process then hangs after its last line). Scripts, benches and CLI commands use
``session()``, which cannot forget the stop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ipv6wgm import core_plugin
from ipv6wgm.auth import cache as auth_cache
from ipv6wgm.cache import RedisHandle
from ipv6wgm.db import close_db, init_db, open_sqlite_reader, upgrade
from ipv6wgm.jobs import JobRunner
from ipv6wgm.logs.service import DatabaseLogHandler
from ipv6wgm.plugins import PluginManager
from ipv6wgm.runtime import Runtime, set_current
from ipv6wgm.security.ratelimit import RateLimiter
from ipv6wgm.security.rbac import role_permissions
from ipv6wgm.security.secrets_at_rest import SecretBox
from ipv6wgm.security.tokens import TokenService
from ipv6wgm.settings import Settings, load_settings
from ipv6wgm.system.config import RuntimeConfig
from ipv6wgm.ws import Hub

log = logging.getLogger(__name__)


def build_runtime(settings: Settings, role: str = "server") -> Runtime:
    """Everything that needs no I/O: plugins, registry, services. Blueprints need this early."""
    settings.ensure_data_dir()
    plugins = PluginManager(strict=settings.strict_plugins, disabled=settings.disabled_plugin_names)
    plugins.load(core_plugin)
    registry = plugins.collect()
    redis = RedisHandle(settings.redis_url) if settings.redis_url else None
    runtime = Runtime(
        settings=settings,
        plugins=plugins,
        registry=registry,
        secrets=SecretBox(settings.master_secret),
        tokens=TokenService(settings.master_secret, settings.jwt_issuer, settings.jwt_audience),
        config=RuntimeConfig.from_settings(settings),
        limiter=RateLimiter(redis, settings.redis_prefix),
        hub=Hub(registry.channels, redis, settings.redis_prefix, settings.node_id),
        jobs=JobRunner(registry, node_id=settings.node_id, prefix=settings.redis_prefix,
                       redis_url=settings.redis_url),
        redis=redis,
        role_permissions=role_permissions(registry.permissions.values()),
        role=role,
    )
    runtime.jobs.context["runtime"] = runtime
    set_current(runtime)
    return runtime


async def start_runtime(runtime: Runtime, *, migrate: bool = True, run_jobs: bool = True) -> None:
    """Database (migrated), first admin, live config, hub, each plugin's startup, then jobs.

    Crons start last: a cron that runs at start-up (the WireGuard reconcile, the monitoring
    sampler) needs its plugin's state."""
    from ipv6wgm.users.service import ensure_first_admin

    settings = runtime.settings
    if migrate:
        await upgrade(settings, runtime.registry.models)
    await init_db(settings, runtime.registry.models)
    runtime.db_reader = open_sqlite_reader(settings)
    if runtime.role != "worker":  # the server's business; a worker starting alongside would race it
        password = settings.admin_password.get_secret_value() if settings.admin_password else None
        admin = await ensure_first_admin(settings.admin_username, password, settings.admin_email)
        if admin is not None:
            log.warning("created the first admin account %r from the environment", admin.username)
        elif settings.generate_admin:
            await _generate_admin()
    await runtime.config.load()
    runtime.hub.control_handlers.extend([_reload_config(runtime), auth_cache.on_control])
    await runtime.hub.start()
    handler = DatabaseLogHandler(settings.node_id)
    logging.getLogger().addHandler(handler)
    handler.start()
    runtime.extras["log_handler"] = handler
    await start_plugins(runtime)
    await runtime.jobs.start(run_crons=run_jobs and not settings.redis_url)


async def start_plugins(runtime: Runtime) -> None:
    """Each plugin's ``startup``: it builds its process state and keeps it on the runtime."""
    await runtime.plugins.call_each_async("startup", runtime=runtime)


async def stop_plugins(runtime: Runtime) -> None:
    """Each plugin's ``shutdown`` (it closes its state); a state a plugin left behind is closed
    here, so nothing of this runtime outlives it or leaks into another one in the process."""
    await runtime.plugins.call_each_async("shutdown", runtime=runtime)
    for plugin in list(runtime.plugin_states):
        log.warning("plugin %s left its state on the runtime at shutdown; closing it", plugin)
        try:
            await runtime.close_state(plugin)
        except Exception:  # noqa: BLE001 - the other plugins' states still get closed
            log.exception("closing the state of plugin %s failed", plugin)


@asynccontextmanager
async def session(settings: Settings | None = None, *, role: str = "cli", migrate: bool = False
                  ) -> AsyncIterator[Runtime]:
    """A started runtime for a CLI command, a script or a bench, closed on the way out.

    The database (migrated first with ``migrate``) and every plugin's state, as in the server
    and the worker, but nothing that serves: no WebSocket listener, no crons, no log handler.
    ``role="cli"`` owns no data plane (the BGP plugin starts no BIRD); jobs called through
    ``runtime.jobs`` run inline without Redis.
    """
    runtime = build_runtime(settings or load_settings(), role=role)
    started = False
    try:
        if migrate:
            await upgrade(runtime.settings, runtime.registry.models)
        await init_db(runtime.settings, runtime.registry.models)
        runtime.db_reader = open_sqlite_reader(runtime.settings)
        started = True
        await start_plugins(runtime)
        yield runtime
    finally:
        try:
            if started:
                await stop_plugins(runtime)
            await runtime.jobs.stop()
            if runtime.redis is not None:
                await runtime.redis.close()
        finally:
            if runtime.db_reader is not None:
                runtime.db_reader.close()
                runtime.db_reader = None
            await close_db()
            set_current(None)


async def _generate_admin() -> None:
    """``make run`` on a fresh clone: invent the first admin and show its password once.

    Printed to the terminal only (never logged or stored in clear); later starts find an admin
    and do nothing.
    """
    import secrets
    import sys

    from ipv6wgm.users.models import User
    from ipv6wgm.users.service import create_user

    if await User.filter(role="admin").exists():
        return
    password = secrets.token_urlsafe(18)
    await create_user("admin", password, role="admin", full_name="Administrator")
    print(f"\n  First start: created admin account 'admin' with password: {password}\n"
          "  It is shown only this once; change it with POST /api/v1/auth/change-password.\n",
          file=sys.stderr, flush=True)


def _reload_config(runtime: Runtime):
    async def handler(message: dict) -> None:
        if message.get("kind") == "config_changed":
            await runtime.config.load()

    return handler


async def stop_runtime(runtime: Runtime) -> None:
    """The reverse of ``start_runtime``: jobs and crons first (they use the plugins' state),
    then each plugin's shutdown, then the rest."""
    await runtime.jobs.stop()
    await stop_plugins(runtime)
    await runtime.hub.stop()
    handler = runtime.extras.pop("log_handler", None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        await handler.stop()
    if runtime.redis is not None:
        await runtime.redis.close()
    if runtime.db_reader is not None:
        runtime.db_reader.close()
        runtime.db_reader = None
    await close_db()
