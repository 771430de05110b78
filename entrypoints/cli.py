"""The ``ipv6wgm`` command: serve, worker, db upgrade|makemigrations, admin create, plugins, openapi."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import inspect
import json
import logging
import os
import sys
from typing import Any

from ipv6wgm.settings import SettingsError, load_settings


def _serve(args: argparse.Namespace) -> int:
    from hypercorn.config import Config

    from ipv6wgm.app import create_app

    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    if args.generate_admin:
        overrides["generate_admin"] = True
    settings = load_settings(**overrides)
    app = create_app(settings)
    config = Config()
    config.bind = [f"[{settings.host}]:{settings.port}" if ":" in settings.host else f"{settings.host}:{settings.port}"]
    config.accesslog = None
    config.graceful_timeout = 5
    print(f"ipv6wgm serving on http://{config.bind[0]} (node {settings.node_id})", flush=True)
    asyncio.run(_serve_until_signal(app, config))
    return 0


async def _serve_until_signal(app: Any, config: Any) -> None:
    """Close WebSockets cleanly (1001 with a reason) *before* Hypercorn's graceful shutdown,
    which would otherwise wait for them and then cut them off."""
    import signal

    from hypercorn.asyncio import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def trigger() -> None:
        await stop.wait()
        await app.extensions["ipv6wgm"].hub.close_all("server shutting down")

    await serve(app, config, shutdown_trigger=trigger)


def _worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    from ipv6wgm_entrypoints.worker import build_worker_settings

    run_worker(build_worker_settings())
    return 0


async def _with_runtime(coro_factory: Any, *, migrate: bool = True) -> Any:
    """Run ``coro_factory(runtime)`` in a started CLI runtime (database, every plugin's state),
    closed afterwards so the command exits by itself."""
    from ipv6wgm.bootstrap import session

    async with session(load_settings(), role="cli", migrate=migrate) as runtime:
        return await coro_factory(runtime)


def _db_upgrade(args: argparse.Namespace) -> int:
    async def done(runtime: Any) -> None:
        print(f"migrated: {', '.join(runtime.registry.models)}")

    asyncio.run(_with_runtime(done))
    return 0


def _db_makemigrations(args: argparse.Namespace) -> int:
    """Developer command: write a new migration for one app from the model changes."""
    import subprocess

    from ipv6wgm.bootstrap import build_runtime
    from ipv6wgm.db import tortoise_config

    runtime = build_runtime(load_settings(), role="cli")
    config = tortoise_config(runtime.settings, runtime.registry.models)
    os.environ["IPV6WGM_TORTOISE_CONFIG"] = json.dumps(config)
    # All apps at once: cross-app foreign keys (plugin -> core.User) need every app loaded.
    cmd = [sys.executable, "-m", "tortoise", "-c", "ipv6wgm_entrypoints.cli.TORTOISE_CONFIG", "makemigrations"]
    return subprocess.call(cmd)


def __getattr__(name: str) -> Any:
    if name == "TORTOISE_CONFIG":
        return json.loads(os.environ["IPV6WGM_TORTOISE_CONFIG"])
    raise AttributeError(name)


def _admin_create(args: argparse.Namespace) -> int:
    from ipv6wgm.users.service import create_user

    password = os.environ.get("IPV6WGM_NEW_ADMIN_PASSWORD") or getpass.getpass("password: ")

    async def make(runtime: Any) -> None:
        user = await create_user(args.username, password, role="admin", email=args.email)
        print(f"created admin {user.username!r} (id {user.id})")

    try:
        asyncio.run(_with_runtime(make))
    except Exception as exc:  # noqa: BLE001 - print a clean error for operators
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from ipv6wgm.bootstrap import build_runtime

    runtime = build_runtime(load_settings(), role="cli")
    rows = runtime.plugins.public()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        line = f"{row['name']:<16} {row['version']:<10} {row['status']}"
        print(line + (f"  {row['error']}" if row["error"] else ""))
    return 1 if any(r["status"] == "failed" for r in rows) else 0


def _openapi(args: argparse.Namespace) -> int:
    from ipv6wgm.app import create_app

    app = create_app(load_settings())

    async def dump() -> dict[str, Any]:
        async with app.test_request_context("/openapi.json"):
            return app.extensions["QUART_SCHEMA"].openapi_provider_class(
                app, app.extensions["QUART_SCHEMA"]).schema()

    print(json.dumps(asyncio.run(dump()), indent=2))
    return 0


CORE_COMMANDS = {"serve", "worker", "db", "admin", "plugins", "openapi", "-h", "--help"}


def build_parser(with_plugins: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipv6wgm", description="IPv6 WireGuard Manager")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server (migrates first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--generate-admin", action="store_true",
                       help="on first start, create user 'admin' with a random password and print it once")
    serve.set_defaults(func=_serve)
    sub.add_parser("worker", help="run the arq worker of this node (needs Redis)").set_defaults(func=_worker)
    db = sub.add_parser("db", help="database commands").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply pending migrations of the core and every plugin").set_defaults(
        func=_db_upgrade)
    db.add_parser("makemigrations", help="(developers) write migrations for every app whose models changed"
                  ).set_defaults(func=_db_makemigrations)
    admin = sub.add_parser("admin", help="accounts").add_subparsers(dest="admin_command", required=True)
    create = admin.add_parser("create", help="create an admin (password from a prompt or "
                                             "IPV6WGM_NEW_ADMIN_PASSWORD)")
    create.add_argument("username")
    create.add_argument("--email")
    create.set_defaults(func=_admin_create)
    plugins = sub.add_parser("plugins", help="list installed plugins and their status")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(func=_plugins)
    sub.add_parser("openapi", help="print the OpenAPI document").set_defaults(func=_openapi)
    if with_plugins:
        _plugin_commands(sub)
    return parser


def _plugin_commands(sub: Any) -> None:
    """Sub-commands contributed by plugins (``register_commands``)."""
    try:
        from ipv6wgm.bootstrap import build_runtime

        runtime = build_runtime(load_settings(), role="cli")
    except Exception:  # noqa: BLE001 - core commands must keep working
        return
    for spec in runtime.registry.commands.values():
        parser = sub.add_parser(spec.name, help=spec.help, description=spec.help)
        spec.configure(parser)
        parser.set_defaults(func=_plugin_handler(spec.handler))


def _plugin_handler(handler: Any) -> Any:
    """A plain handler runs as it is; a coroutine function runs in a started CLI runtime
    (migrated database, every plugin's state), which is closed before the command returns.
    Its return value is the exit status (None: 0)."""
    if not inspect.iscoroutinefunction(handler):
        return handler

    def run(args: argparse.Namespace) -> Any:
        return asyncio.run(_with_runtime(lambda runtime: handler(args)))

    return run


def main(argv: list[str] | None = None) -> int:
    """Every command checks the settings first: a bad one is one line on stderr and exit 2,
    never a pydantic traceback (and never a plugin command silently missing because of it)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv or argv[0] not in ("-h", "--help"):
            load_settings()
        args = build_parser(with_plugins=bool(argv) and argv[0] not in CORE_COMMANDS).parse_args(argv)
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"ipv6wgm: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
