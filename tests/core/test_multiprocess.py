"""Two server processes on one MariaDB and one Redis: revocation and WebSocket events cross."""

from __future__ import annotations

import json

import httpx
from websockets.sync.client import connect

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database, recv_until, ws_url


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
