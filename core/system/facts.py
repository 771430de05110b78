"""Real host, application and database facts (psutil, platform, the live database)."""

from __future__ import annotations

import asyncio
import os
import platform
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from tortoise import connections

from ipv6wgm import SERVICE_NAME, __version__
from ipv6wgm.api import iso
from ipv6wgm.runtime import current


def os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
        return release.get("PRETTY_NAME") or release.get("NAME", platform.system())
    except OSError:
        return f"{platform.system()} {platform.release()}"


def host_facts() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "os": os_name(),
        "kernel": platform.release(),
        "architecture": platform.machine(),
        "uptime": int(time.time() - psutil.boot_time()),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def resources() -> dict[str, Any]:
    mem = psutil.virtual_memory()
    disk = psutil.disk_usage(str(current().settings.data_dir.resolve()))
    return {
        "cpu": {"usage": psutil.cpu_percent(interval=None), "cores": psutil.cpu_count() or 1},
        "memory": {"total": mem.total, "used": mem.used, "usage_percent": mem.percent},
        "disk": {"total": disk.total, "used": disk.used, "usage_percent": disk.percent},
    }


def network_counters() -> dict[str, int]:
    net = psutil.net_io_counters()
    return {"bytes_sent": net.bytes_sent, "bytes_recv": net.bytes_recv}


def app_facts() -> dict[str, Any]:
    built = datetime.fromtimestamp(Path(__file__).parent.parent.joinpath("__init__.py").stat().st_mtime, UTC)
    rt = current()
    return {
        "name": SERVICE_NAME,
        "version": __version__,
        "build_date": iso(built),
        "python_version": platform.python_version(),
        "environment": rt.settings.environment,
        "node_id": rt.settings.node_id,
        "pid": os.getpid(),
        "executable": sys.executable,
        "jobs": rt.jobs.mode,
    }


async def database_facts(limit_s: float | None = None) -> dict[str, Any]:
    rt = current()
    kind = rt.settings.database_kind
    conn = connections.get("default")
    started = time.perf_counter()
    timeout = limit_s or rt.settings.database_timeout
    try:
        if kind == "mysql":
            _, rows = await asyncio.wait_for(conn.execute_query("SELECT VERSION() AS v"), timeout)
            version = rows[0]["v"]
            _, status = await asyncio.wait_for(
                conn.execute_query("SHOW STATUS LIKE 'Threads_connected'"), timeout)
            active = int(status[0]["Value"]) if status else None
            db_type = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        else:
            _, rows = await asyncio.wait_for(conn.execute_query("SELECT sqlite_version() AS v"), timeout)
            version, active, db_type = rows[0]["v"], 1, "SQLite"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"type": kind, "status": "disconnected", "error": type(exc).__name__, "status_detail": str(exc)[:200]}
    pool_size = rt.settings.database_pool_size if kind == "mysql" else 1
    return {
        "type": db_type,
        "version": version,
        "status": "connected",
        "pool_size": pool_size,
        "active_connections": active,
        "response_time": round((time.perf_counter() - started) * 1000, 2),
    }
