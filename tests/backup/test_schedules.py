"""Schedules run on time from the cluster cron, retention removes the backups beyond it, and
every job reports its progress on the ``backup`` WebSocket channel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.sync.client import connect

from ipv6wgm.testing import ServerProcess, recv_until, running_server, wait_for, ws_url
from tests.backup.helpers import QUIET, execute, wait_job

TICK = 5
ENV = {**QUIET, "IPV6WGM_BACKUP_SCHEDULE_INTERVAL": str(TICK)}


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def srv(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    with running_server(request.param, env=ENV) as server:
        yield server


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def scheduled(api: httpx.Client, schedule_id: int) -> list[dict]:
    return [b for b in api.get("/backup/backups").json()["data"]
            if b["schedule_id"] == schedule_id and b["status"] == "completed"]


def test_schedule_runs_on_time_and_retention(srv: ServerProcess) -> None:
    api = srv.client(srv.token())
    for bad in ({"cron": "61 * * * *"}, {"cron": "* * *"}, {"cron": None}):
        r = api.post("/backup/schedules", json={"name": "bad", "type": "cron", **bad})
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "cron", r.text
    assert api.post("/backup/schedules", json={"name": "bad", "type": "daily", "at": "25:00"}).status_code == 422
    r = api.post("/backup/schedules", json={"name": "every_minute", "type": "cron", "cron": "* * * * *",
                                            "backup_type": "database", "retention": 1})
    assert r.status_code == 201, r.text
    schedule = r.json()["data"]
    due = _at(schedule["next_run"])
    assert due > _at(schedule["created_at"]) and due.second == 0
    assert api.post("/backup/schedules", json={"name": "every_minute", "type": "daily"}).status_code == 409
    first = wait_for(lambda: scheduled(api, schedule["id"]), timeout=90, message="the scheduled backup")[0]
    started = _at(first["created_at"])
    assert due <= started <= due + timedelta(seconds=TICK + 3), (due, started)
    assert first["type"] == "database" and first["origin"] == "scheduled"
    stats = api.get("/backup/stats").json()["data"]
    entry = stats["schedules"]["every_minute"]
    assert entry["type"] == "cron" and entry["backup_type"] == "database" and entry["enabled"] is True
    assert _at(entry["last_run"]) <= started
    # pretend the last run was long ago: the next tick runs it again, and retention (1) keeps the newest
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    value = (long_ago.replace(tzinfo=None).isoformat(" ") if srv.want_worker else long_ago.isoformat(" "))
    execute(srv, "UPDATE backup_schedules SET last_run = ? WHERE id = ?", (value, schedule["id"]))
    wait_for(lambda: (b := scheduled(api, schedule["id"])) and b[0]["id"] != first["id"] and len(b) == 1,
             timeout=60, message="the second run, and the first backup removed by retention")
    assert not (srv.data_dir / "backups" / first["file_path"].rsplit("/", 1)[1]).exists()
    assert api.get(f"/backup/backups/{first['id']}").status_code == 404
    # changing and deleting a schedule
    r = api.put(f"/backup/schedules/{schedule['id']}", json={"type": "weekly", "at": "03:30", "weekday": 1,
                                                            "enabled": False})
    assert r.status_code == 200 and r.json()["data"]["cron"] == "30 3 * * 1" and r.json()["data"]["next_run"] is None
    assert api.delete(f"/backup/schedules/{schedule['id']}").status_code == 200
    assert api.get(f"/backup/schedules/{schedule['id']}").status_code == 404


def test_progress_on_websocket(srv: ServerProcess) -> None:
    token = srv.token()
    api = srv.client(token)
    with connect(ws_url(srv, "/ws/backup", token=token)) as ws:
        time.sleep(0.5)
        r = api.post("/backup/backups/create", json={"name": "watched", "backup_type": "config"})
        assert r.status_code == 200, r.text
        job_id = r.json()["data"]["job_id"]
        progress = recv_until(ws, "backup_progress", predicate=lambda d: d["job_id"] == job_id and d["progress"] > 0
                              and d["status"] == "running")
        assert progress["data"]["kind"] == "create"
        done = recv_until(ws, "backup_progress", predicate=lambda d: d["job_id"] == job_id
                          and d["status"] != "running")
        assert done["data"]["status"] == "completed" and done["data"]["progress"] == 100
    job = wait_job(api, job_id)
    assert job["result"]["tables"] == 1  # a config backup carries the configuration table only
