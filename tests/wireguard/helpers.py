"""Helpers shared by the WireGuard API tests (one session server per backend)."""

from __future__ import annotations

import re
import secrets
import sqlite3
import subprocess
from typing import Any
from urllib.parse import urlparse

import httpx

from ipv6wgm.testing import ServerProcess

# Listen ports (and so interface names) unique across the whole session: the servers of every
# test module share one node, and interface names must be unique host-wide (UAPI sockets).
_port = iter(range(52000, 56000))


def next_port() -> int:
    return next(_port)


def make_server(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    # This module can be imported under two names (``wireguard.helpers`` from its own package,
    # ``tests.wireguard.helpers`` from other test packages), each with its own counter: a port
    # another copy already used is skipped.
    for _ in range(100):
        port = next_port()
        body = {"name": f"s{port}", "listen_port": port, "ipv4_address": "10.66.0.1/24",
                "ipv6_address": "fd66::1/64", "endpoint": "vpn.example.com", **extra}
        r = api.post("/wireguard/servers", json=body)
        field = r.json()["error"]["details"].get("field") if r.status_code == 409 else None
        taken = field in ("name", "interface", "listen_port")
        if not (taken and "name" not in extra and "listen_port" not in extra):
            break
    assert r.status_code == 201, r.text
    return r.json()["data"]


def wg(server: ServerProcess, *args: str) -> str:
    """``wg`` inside the test server's data-plane namespace."""
    return subprocess.run(["ip", "netns", "exec", server.netns, "wg", *args], capture_output=True, text=True,
                          check=True).stdout


def peers(server: ServerProcess, interface: str) -> set[str]:
    return set(wg(server, "show", interface, "peers").split())


def make_pool(api: httpx.Client, prefix_length: int = 64) -> dict[str, Any]:
    """An IPv6 pool (plugin ``ipv6``) under a random unique-local /48."""
    prefix = f"fd{secrets.token_hex(1)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}::/48"
    r = api.post("/ipv6/pools", json={"name": f"pool-{secrets.token_hex(4)}", "prefix": prefix,
                                      "prefix_length": prefix_length})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def update_row(server: ServerProcess, table: str, row_id: int, **values: Any) -> None:
    """Write straight into the server's database (a row stored before today's validation)."""
    assert re.fullmatch(r"wireguard_(servers|clients)", table) and all(re.fullmatch(r"[a-z0-9_]+", c) for c in values)
    assignments = ", ".join(f"{column} = ?" for column in values)
    sql = f"UPDATE {table} SET {assignments} WHERE id = ?"  # noqa: S608 - identifiers checked above
    params = (*values.values(), row_id)
    url = server.env.get("IPV6WGM_DATABASE_URL")
    if not url:
        with sqlite3.connect(server.data_dir / "ipv6wgm.sqlite3") as conn:
            conn.execute(sql, params)
        return
    import pymysql

    parts = urlparse(url)
    conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username, password="",
                           database=parts.path.lstrip("/"))
    try:
        with conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
        conn.commit()
    finally:
        conn.close()
