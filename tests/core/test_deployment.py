"""A production deployment (MariaDB + Redis, a server and a worker) starts in any order, stays
up while idle, and answers at once when a node has no worker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database, wait_for


@pytest.fixture()
def deployment() -> Iterator[ServerProcess]:
    """Server and worker not started yet, on a fresh (empty) MariaDB database."""
    check_redis()
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False)
        try:
            yield proc
        finally:
            print(proc.logs())
            proc.cleanup()


def _a_job_runs(server: ServerProcess) -> None:
    """``sample.touch`` only runs in the worker when Redis is configured."""
    with server.client(server.token()) as c:
        note = c.post("/sample/notes", json={"text": "job"}).json()["data"]
        assert c.post(f"/sample/notes/{note['id']}/touch").status_code == 202
        wait_for(lambda: c.get(f"/sample/notes/{note['id']}").json()["data"]["touched_at"], timeout=30,
                 message="sample.touch ran in the worker")


def _worker_log(server: ServerProcess) -> str:
    return (server.data_dir / "worker.log").read_text(errors="replace")


def test_server_and_worker_started_at_the_same_instant(deployment: ServerProcess) -> None:
    worker = deployment.spawn_worker()
    deployment.start()  # spawns the server right after the worker, then waits for it
    deployment.wait_for_worker()
    assert worker.poll() is None
    _a_job_runs(deployment)
    assert "doesn't exist" not in _worker_log(deployment) and "Traceback" not in _worker_log(deployment)


def test_worker_waits_for_the_schema(deployment: ServerProcess) -> None:
    worker = deployment.spawn_worker()
    wait_for(lambda: _worker_log(deployment).count("waiting for the database schema") >= 2, timeout=60,
             message="the worker says it waits for the schema, twice")
    assert worker.poll() is None
    assert "migration(s) not applied yet" in _worker_log(deployment)
    deployment.start()
    deployment.wait_for_worker()
    _a_job_runs(deployment)
    assert worker.poll() is None and "Traceback" not in _worker_log(deployment)


def test_missing_worker_is_503_at_once_naming_the_node(deployment: ServerProcess) -> None:
    deployment.start()
    node = deployment.env["IPV6WGM_NODE_ID"]
    with deployment.client(deployment.token()) as c:
        srv = c.post("/wireguard/servers", json={"name": "wgnowork", "ipv4_address": "10.4.0.1/24"}).json()["data"]
        for call in (lambda: c.post(f"/wireguard/servers/{srv['id']}/start"),
                     lambda: c.get(f"/wireguard/servers/{srv['id']}/peers"),
                     lambda: c.post("/bgp/sessions", json={"name": "nowork", "neighbor": "10.95.0.1",
                                                           "remote_as": 65001})):
            started = time.monotonic()
            r = call()
            assert time.monotonic() - started < 2, r.text
            assert r.status_code == 503, r.text
            error = r.json()["error"]
            assert error["details"]["node_id"] == node and f"no live worker for node {node!r}" in error["message"]
        assert c.get(f"/wireguard/servers/{srv['id']}").json()["data"]["is_active"] is False
        assert c.get("/bgp/sessions").json()["data"]["pagination"]["total"] == 0
        deployment.spawn_worker()
        deployment.wait_for_worker()
        r = c.post(f"/wireguard/servers/{srv['id']}/start")
        assert r.status_code == 200 and r.json()["data"]["status"] == "running", r.text
        assert c.post(f"/wireguard/servers/{srv['id']}/stop").status_code == 200


def test_idle_deployment_keeps_redis_up(deployment: ServerProcess) -> None:
    """Nothing happens for 60 s with Redis healthy: no process ever flags Redis down, and the
    cache component (Redis reachable, WebSocket fan-out subscribed) stays healthy throughout."""
    deployment.start()
    deployment.spawn_worker()
    deployment.wait_for_worker()
    token = deployment.token()

    def cache() -> dict:
        r = httpx.get(f"{deployment.api}/status/health/detailed", headers={"Authorization": f"Bearer {token}"},
                      timeout=10)
        return r.json()["data"]["components"]["cache"]

    wait_for(lambda: cache()["fanout"] == "listening", timeout=10, message="fan-out subscribed")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = cache()
        assert state["status"] == "healthy" and state["fanout"] == "listening", state
        time.sleep(3)
    logs = {p.name: p.read_text(errors="replace") for p in deployment.data_dir.glob("*.log")}
    assert set(logs) == {"serve.log", "worker.log"}
    for name, text in logs.items():
        assert "redis unavailable" not in text and "Timeout reading" not in text, (name, text[-3000:])
