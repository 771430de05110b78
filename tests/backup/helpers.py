"""Helpers of the backup tests: jobs, archives, and a full dump of a server's database that is
independent of the plugin under test (plain drivers, every row of every table)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import httpx

from ipv6wgm.testing import ServerProcess

#: The backup plugin's host-local tables (catalogue, jobs, pause) and the migration recorder.
LOCAL = {"backup_archives", "backup_jobs", "backup_maintenance", "tortoise_migrations", "sqlite_sequence",
         # liveness rows every process rewrites every few seconds on its own (heartbeats, lease)
         "cluster_nodes", "cluster_leases", "cluster_cron_ticks"}
#: Written by the system itself while the test runs, whatever the test does: the audit log (a
#: refused restore is recorded too) and the metric history the samplers keep (points expire and
#: roll up on their own clock). Everything else must stay exactly as it was.
AUDIT = {"core_logs", "monitoring_series", "monitoring_points", "monitoring_rollups", "monitoring_rollup_state",
         "monitoring_snapshots"}
#: Background crons that write rows (metric samples, rollups, BGP state) slowed to an hour, so a
#: before/after dump shows only what the test did.
QUIET = {"IPV6WGM_MONITORING_SAMPLE_INTERVAL": "3600", "IPV6WGM_MONITORING_ROLLUP_INTERVAL": "3600",
         "IPV6WGM_MONITORING_EVALUATE_INTERVAL": "3600", "IPV6WGM_BGP_COLLECT_INTERVAL": "3600",
         "IPV6WGM_WIREGUARD_STATS_INTERVAL": "3600"}
SECRET = "backup-test-master-secret-0123456789abcdef"  # the same master key on every host of a test


def wait_job(api: httpx.Client, job_id: str, timeout: float = 120,
             login: Callable[[], str] | None = None) -> dict[str, Any]:
    """Poll until the job is completed or failed; returns its record. ``login`` gives ``api`` a
    new token when a restore ended its session (a restore onto another host ends them all)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/backup/jobs/{job_id}")
        if r.status_code == 401 and login is not None:
            api.headers["Authorization"] = f"Bearer {login()}"
            continue
        if r.status_code == 200 and r.json()["data"]["status"] in ("completed", "failed"):
            return r.json()["data"]
        time.sleep(0.2)
    raise AssertionError(f"backup job {job_id} did not finish within {timeout}s")


def create_backup(api: httpx.Client, name: str = "t", **body: Any) -> dict[str, Any]:
    r = api.post("/backup/backups/create", json={"name": name, **body})
    assert r.status_code == 200, r.text
    job = wait_job(api, r.json()["data"]["job_id"])
    assert job["status"] == "completed", job
    backup = api.get(f"/backup/backups/{r.json()['data']['backup_id']}").json()["data"]
    assert backup["status"] == "completed", backup
    return backup


def restore(api: httpx.Client, backup_id: str, login: Callable[[], str] | None = None, **body: Any
            ) -> dict[str, Any]:
    r = api.post(f"/backup/backups/{backup_id}/restore", json=body)
    assert r.status_code == 200, r.text
    return wait_job(api, r.json()["data"]["job_id"], login=login)


def upload(api: httpx.Client, data: bytes, name: str = "uploaded") -> dict[str, Any]:
    r = api.post("/backup/backups/upload", params={"name": name}, content=data,
                 headers={"Content-Type": "application/gzip"})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _mysql(server: ServerProcess) -> Any:
    import pymysql

    parts = urlparse(server.env["IPV6WGM_DATABASE_URL"])
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username, password="",
                           database=parts.path.lstrip("/"))


def full_dump(server: ServerProcess, *, audit: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the host-local ones (and the audit log unless ``audit``),
    sorted: to compare before and after."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    skip = LOCAL if audit else LOCAL | AUDIT
    if not server.env.get("IPV6WGM_DATABASE_URL"):
        with sqlite3.connect(server.data_dir / "ipv6wgm.sqlite3") as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                if name not in skip:
                    out[name] = sorted(map(repr, conn.execute(f'SELECT * FROM "{name}"')))  # noqa: S608
        return out
    conn = _mysql(server)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            for (name,) in cur.fetchall():
                if name not in skip:
                    cur.execute(f"SELECT * FROM `{name}`")  # noqa: S608
                    out[name] = sorted(map(repr, cur.fetchall()))
    finally:
        conn.close()
    return out


def execute(server: ServerProcess, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Write straight into the server's database (tests of what the API cannot do)."""
    if not server.env.get("IPV6WGM_DATABASE_URL"):
        with sqlite3.connect(server.data_dir / "ipv6wgm.sqlite3") as conn:
            conn.execute(sql, params)
        return
    conn = _mysql(server)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
        conn.commit()
    finally:
        conn.close()
