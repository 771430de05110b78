"""One Tortoise configuration built from the core's and every plugin's model apps.

``Tortoise.init`` is process-global and happens once, so every plugin's models are collected
first (``register_models``). Schema changes go through each app's own migrations
(``ipv6wgm db upgrade``, also run by ``serve``); ``generate_schemas`` is never used.
"""

from __future__ import annotations

import logging
import os
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


async def close_db() -> None:
    await Tortoise.close_connections()


def database_label(settings: Settings) -> str:
    return {"sqlite": "SQLite", "mysql": "MySQL"}.get(settings.database_kind, settings.database_kind)
