"""Two server processes on one MariaDB and one Redis: revocation, token renewal, WebSocket events
and log exports cross."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from typing import Any
from urllib.parse import urlparse

import httpx
from websockets.sync.client import connect

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database, recv_until, wait_for, ws_url


def test_logout_and_events_cross_processes() -> None:
    check_redis()
    with mysql_database() as url:
        a = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False)
        b = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False, data_dir=a.data_dir,
                          env={"IPV6WGM_REDIS_PREFIX": a.prefix, "IPV6WGM_NODE_ID": "second"})
        try:
            a.start()
            b.env["IPV6WGM_ADMIN_PASSWORD"] = a.admin_password
            b.start()
            token = a.token()
            assert httpx.get(f"{b.api}/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            with connect(ws_url(b, "/ws/logs", token=token)) as ws:
                recv_until(ws, "connected")
                with a.client(token) as c:
                    assert c.post("/users", json={"username": "made_on_a", "password": "password-123"}
                                  ).status_code == 201
                entry = recv_until(ws, "log_entry", predicate=lambda d: d["path"] == "/api/v1/users")["data"]
                assert entry["status_code"] == 201
            with connect(ws_url(b, token=token)) as ws:
                recv_until(ws, "connected")
                assert httpx.post(f"{a.api}/auth/logout", headers={"Authorization": f"Bearer {token}"}
                                  ).status_code == 200
                assert recv_until(ws, "closing")["data"]["reason"] == "session revoked"
            r = httpx.get(f"{b.api}/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401 and json.loads(r.text)["error"]["code"] == "INVALID_CREDENTIALS"
        finally:
            b.cleanup()
            a.cleanup()


def _mysql(url: str, sql: str, args: Any = None, many: bool = False) -> Any:
    import pymysql

    parts = urlparse(url)
    conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username, password="",
                           database=parts.path.lstrip("/"), autocommit=True)
    try:
        with conn.cursor() as cur:
            if many:
                cur.executemany(sql, args)
            else:
                cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def _purge(env: dict[str, str]) -> int:
    """Run the purge cron's function in a process of its own (as a worker would)."""
    code = (
        "import asyncio\n"
        "from ipv6wgm.bootstrap import build_runtime\n"
        "from ipv6wgm.db import close_db, init_db\n"
        "from ipv6wgm.logs.export import purge_expired\n"
        "from ipv6wgm.settings import load_settings\n"
        "async def main():\n"
        "    rt = build_runtime(load_settings(), role='cli')\n"
        "    await init_db(rt.settings, rt.registry.models)\n"
        "    try:\n"
        "        print(await purge_expired({}))\n"
        "    finally:\n"
        "        await close_db()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_exports_and_token_renewal_cross_processes() -> None:
    """Two API processes with separate data dirs: an export made on one downloads from the other,
    and an access token renewed on one stops working on the other at once."""
    check_redis()
    shared = {"IPV6WGM_SECRET_KEY": secrets.token_hex(32)}
    with mysql_database() as url:
        a = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False, env=shared)
        b = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False,
                          env={**shared, "IPV6WGM_REDIS_PREFIX": a.prefix, "IPV6WGM_NODE_ID": "second"})
        try:
            a.start()
            b.env["IPV6WGM_ADMIN_PASSWORD"] = a.admin_password
            b.start()
            assert a.data_dir != b.data_dir
            # Enough poorly compressible rows for an export of many chunks.
            rows = [("INFO", "bulk", f"row {i} {secrets.token_hex(80)}", "2024-01-01 00:00:00")
                    for i in range(20_000)]
            _mysql(url, "INSERT INTO core_logs (level, module, message, timestamp) VALUES (%s, %s, %s, %s)",
                   rows, many=True)
            token = a.token()
            manager = a.make_user(token, "manager")
            with a.client(token) as on_a, b.client(token) as on_b, b.client(manager["token"]) as other:
                made = on_a.get("/logs/export", params={"format": "json"}).json()["data"]
                name = made["download_url"].rsplit("/", 1)[1]
                chunks = _mysql(url, "SELECT COUNT(*), MAX(LENGTH(data)) FROM core_log_export_chunks "
                                     "WHERE export_id = %s", (name,))[0]
                assert chunks[0] > 3 and chunks[1] < 512 * 1024, chunks  # far below max_allowed_packet
                got = on_b.get(made["download_url"])
                assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
                assert len(got.content) == made["file_size"] and len(json.loads(got.content)) > 20_000
                assert other.get(made["download_url"]).status_code == 404
                assert not list(a.data_dir.glob("**/export_*")) and not list(b.data_dir.glob("**/export_*"))
                _mysql(url, "UPDATE core_log_exports SET expires_at = NOW() - INTERVAL 1 HOUR WHERE name = %s",
                       (name,))
                assert on_b.get(made["download_url"]).status_code == 404
                assert _purge(b.env) == 1
                assert _mysql(url, "SELECT COUNT(*) FROM core_log_export_chunks WHERE export_id = %s",
                              (name,))[0][0] == 0
            # Renewal: B has the token cached; A renews it; B refuses it well within the cache TTL.
            pair = a.login()
            assert httpx.get(f"{b.api}/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
                             ).status_code == 200
            renewed = httpx.post(f"{a.api}/auth/refresh", headers={"Authorization": f"Bearer {pair['access_token']}"})
            assert renewed.status_code == 200
            new = renewed.json()["data"]["access_token"]
            assert httpx.get(f"{b.api}/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
            wait_for(lambda: httpx.get(f"{b.api}/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
                                       ).status_code == 401, timeout=3, message="B to drop the renewed token")
        finally:
            b.cleanup()
            a.cleanup()
