"""One Tortoise configuration built from the core's and every plugin's model apps.

``Tortoise.init`` is process-global and happens once, so every plugin's models are collected
first (``register_models``). Schema changes go through each app's own migrations
(``ipv6wgm db upgrade``, also run by ``serve``); ``generate_schemas`` is never used.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from ipv6wgm.registry import ModelApp
from ipv6wgm.settings import Settings

log = logging.getLogger(__name__)


def tortoise_config(settings: Settings, apps: dict[str, ModelApp]) -> dict[str, Any]:
    url = settings.resolved_database_url
    connection = expand_db_url(url)
    if connection["engine"].endswith("mysql"):
        creds = connection["credentials"]
        creds.setdefault("minsize", 1)
        creds.setdefault("maxsize", settings.database_pool_size)
        creds.setdefault("connect_timeout", int(settings.database_timeout))
        creds.setdefault("pool_recycle", 300)
    elif connection["engine"].endswith("sqlite"):
        settings.ensure_data_dir()
        private_sqlite_files(connection["credentials"].get("file_path", ""))
        connection["credentials"].setdefault("journal_mode", "WAL")
        # WAL with synchronous=NORMAL: a commit appends to the WAL without an fsync (the WAL is
        # synced at each checkpoint). The database stays consistent after any crash, and nothing
        # committed is lost when the process dies; only a power loss or OS crash can drop the last
        # commits before a checkpoint. FULL adds an fsync to every commit (two per API write: the
        # change and its audit entry), which costs more than the request's own work.
        connection["credentials"].setdefault("synchronous", "NORMAL")
        connection["credentials"].setdefault("busy_timeout", 5000)
    return {
        "connections": {"default": connection},
        "apps": {
            label: {
                "models": list(app.modules),
                "default_connection": "default",
                **({"migrations": app.migrations} if app.migrations else {}),
            }
            for label, app in apps.items()
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def private_sqlite_files(file_path: str) -> None:
    """SQLite creates its files 0644 (journals copy the database file's mode): the database holds
    password hashes and encrypted keys, so it is created 0600 before SQLite opens it, and older
    files (database, -wal, -shm, -journal) are tightened."""
    if not file_path or file_path == ":memory:" or file_path.startswith("file:"):
        return
    path = Path(file_path)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(f"{path}{suffix}")
        if part.exists() and part.stat().st_mode & 0o077:
            part.chmod(0o600)


async def init_db(settings: Settings, apps: dict[str, ModelApp]) -> None:
    # Requests run in other tasks than start-up: Tortoise 1.x needs the global fallback context.
    await Tortoise.init(config=tortoise_config(settings, apps), _enable_global_fallback=True)


async def upgrade(settings: Settings, apps: dict[str, ModelApp]) -> None:
    """Apply every app's pending migrations; safe to run concurrently with nothing else."""
    config = tortoise_config(settings, apps)
    try:
        await tortoise_migrate(config=config)
    finally:  # also on failure: an open aiosqlite thread would keep the process from exiting
        await Tortoise.close_connections()


def open_sqlite_reader(settings: Settings) -> sqlite3.Connection | None:
    """A read-only connection for short reads run inline on the event loop (SQLite only).

    Under concurrent load, handing each query to aiosqlite's thread costs far more than a short
    indexed read (GIL hand-offs: a /users page went from ~1,000 to ~1,750 requests/s inline).
    WAL mode lets this connection read committed data while the writer works.
    """
    if settings.database_kind != "sqlite":
        return None
    path = expand_db_url(settings.resolved_database_url)["credentials"]["file_path"]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=0.1)
    conn.execute("PRAGMA query_only = 1")
    return conn


async def pending_migrations(settings: Settings, apps: dict[str, ModelApp]) -> list[str]:
    """``app.migration`` names not applied yet (empty: the schema is complete).

    Raises when the database cannot be reached (the recorder alone would report every
    migration as pending then).
    """
    from tortoise.connection import get_connection
    from tortoise.migrations.executor import MigrationExecutor

    config = tortoise_config(settings, apps)
    await Tortoise.init(config=config, init_connections=False)
    try:
        connection = get_connection("default")
        await connection.execute_query("SELECT 1")
        steps = await MigrationExecutor(connection, config["apps"]).plan()
    finally:
        await Tortoise.close_connections()
    return [f"{s.migration.app_label}.{s.migration.name}" for s in steps if not s.backward]


async def close_db() -> None:
    await Tortoise.close_connections()


def database_label(settings: Settings) -> str:
    return {"sqlite": "SQLite", "mysql": "MySQL"}.get(settings.database_kind, settings.database_kind)
