"""While a restore runs the API pauses writes (503 + Retry-After) on every API process; a restore
killed mid-way (kill -9 of the worker running it) leaves the old data, the pause expires on its
own, and a re-run completes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, running_server, wait_for
from tests.backup.helpers import QUIET, create_backup, full_dump, restore, wait_job

#: Each table of the restore's transaction takes at least this long, so a test can watch it.
SLOW = {**QUIET, "IPV6WGM_BACKUP_TEST_TABLE_DELAY": "0.4", "IPV6WGM_BACKUP_LOCK_TTL": "6"}


@pytest.fixture(params=["sqlite", "mysql"])
def slow(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    with running_server(request.param, env=SLOW) as server:
        yield server


def _user(api: httpx.Client, name: str) -> httpx.Response:
    return api.post("/users", json={"username": name, "password": "password-123", "role": "user",
                                    "email": f"{name}@example.com"})


def test_writes_pause_during_restore(slow: ServerProcess) -> None:
    api = slow.client(slow.token())
    backup = create_backup(api, "pause")
    assert _user(api, "later").status_code == 201
    r = api.post(f"/backup/backups/{backup['id']}/restore", json={})
    assert r.status_code == 200, r.text
    paused = wait_for(lambda: (x := _user(api, "during")).status_code == 503 and x, timeout=20,
                      message="a write answered 503 while the restore runs")
    assert int(paused.headers["Retry-After"]) >= 1
    assert paused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "restored" in paused.json()["error"]["message"]
    assert api.post(f"/backup/backups/{backup['id']}/restore", json={}).status_code in (409, 503)
    job = wait_job(api, r.json()["data"]["job_id"])
    assert job["status"] == "completed", job
    users = [u["username"] for u in api.get("/users", params={"size": 100}).json()["data"]["users"]]
    assert "later" not in users and "during" not in users
    wait_for(lambda: _user(api, "after").status_code == 201, timeout=10, message="writes again after the restore")


@pytest.fixture()
def slow_worker() -> Iterator[ServerProcess]:
    """MariaDB + Redis: the restore runs in the worker, which the test kills."""
    with running_server("mysql", env=SLOW) as server:
        yield server


def test_restore_killed_midway_keeps_old_data_and_reruns(slow_worker: ServerProcess) -> None:
    slow = slow_worker
    api = slow.client(slow.token())
    backup = create_backup(api, "kill")
    assert _user(api, "survivor").status_code == 201
    r = api.post(f"/backup/backups/{backup['id']}/restore", json={})
    assert r.status_code == 200, r.text
    wait_for(lambda: _user(api, "blocked").status_code == 503, timeout=20, message="the restore's pause")
    before = full_dump(slow)  # committed data: what the restore's open transaction must not disturb
    assert any("survivor" in row for row in before["core_users"])
    time.sleep(2.5)  # several tables into the transaction
    worker = slow.procs[1]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert full_dump(slow) == before, "the killed restore changed data"
    # the pause is a lease: it ends by itself once nobody refreshes it
    wait_for(lambda: _user(api, "unblocked").status_code == 201, timeout=30, message="the pause to expire")
    slow.procs.remove(worker)
    slow.spawn_worker()
    slow.wait_for_worker()
    job = restore(api, backup["id"])
    assert job["status"] == "completed", job
    users = [u["username"] for u in api.get("/users", params={"size": 100}).json()["data"]["users"]]
    assert "survivor" not in users and "unblocked" not in users
    killed = api.get(f"/backup/jobs/{r.json()['data']['job_id']}").json()["data"]
    assert killed["status"] == "failed" and "interrupted" in killed["error"], killed
