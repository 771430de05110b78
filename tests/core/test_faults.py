"""Faults with real services: Redis going away and coming back; the database becoming
unreachable (through a cut TCP proxy in front of the real MariaDB) and coming back."""

from __future__ import annotations

import time

import httpx

from ipv6wgm.testing import MYSQL_HOST, MYSQL_PORT, RedisServer, ServerProcess, TcpProxy, mysql_database, wait_for


def components(server: ServerProcess, token: str) -> dict:
    r = httpx.get(f"{server.api}/status/health/detailed", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_redis_outage_degrades_and_recovers() -> None:
    redis = RedisServer().start()
    server = ServerProcess(redis_url=redis.url, worker=False)
    try:
        server.start()
        token = server.token()
        assert components(server, token)["components"]["cache"]["status"] == "healthy"
        redis.stop()
        with server.client(token) as c:
            started = time.monotonic()
            assert c.get("/auth/me").status_code == 200
            assert c.get("/users").status_code == 200
            assert c.post("/users", json={"username": "made_without_redis", "password": "password-123"}
                          ).status_code == 201
            assert time.monotonic() - started < 15
        assert server.token()  # logging in needs no Redis either
        data = components(server, token)
        assert data["components"]["cache"]["status"] == "unhealthy" and data["status"] == "degraded"
        redis.start()
        wait_for(lambda: components(server, token)["components"]["cache"]["status"] == "healthy",
                 timeout=30, message="cache healthy again")
        assert components(server, token)["status"] == "healthy"
    finally:
        server.cleanup()
        redis.stop()


def test_database_unreachable_is_503_then_recovers() -> None:
    proxy = TcpProxy(MYSQL_HOST, MYSQL_PORT).start()
    with mysql_database(port=proxy.port) as url:
        server = ServerProcess(database_url=url, worker=False, env={"IPV6WGM_DATABASE_TIMEOUT": "3"})
        try:
            server.start()
            token = server.token()
            proxy.cut()
            with server.client(token) as c:
                for path in ("/users", "/auth/me"):
                    started = time.monotonic()
                    r = c.get(path)
                    elapsed = time.monotonic() - started
                    assert r.status_code == 503, r.text
                    assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE" and "Traceback" not in r.text
                    assert elapsed < 10, f"{path} took {elapsed:.1f}s"
            assert httpx.get(f"{server.api}/status/health").status_code == 200  # liveness needs no DB
            proxy.start()
            wait_for(lambda: httpx.get(f"{server.api}/users", headers={"Authorization": f"Bearer {token}"}
                                       ).status_code == 200, timeout=30, message="database back")
        finally:
            server.cleanup()
            proxy.cut()
