"""Monitoring API on both backends (the shared server: default 10 s sampling, no metrics token)."""

from __future__ import annotations

import time

import httpx
import psutil
import pytest

from ipv6wgm.testing import ServerProcess, wait_for

BUILTIN = {"disk_almost_full", "wireguard_server_down", "bgp_session_down", "ipv6_pool_high"}


@pytest.fixture()
def api(server: ServerProcess, admin_token: str):
    with server.client(admin_token) as client:
        yield client


def rule_body(**extra):
    return {"name": "CPU high", "metric_name": "system.cpu.usage", "condition": ">", "threshold": 95.0,
            "level": "warning", **extra}


def test_rule_crud(api: httpx.Client) -> None:
    r = api.post("/monitoring/alerts/rules", json=rule_body(id="cpu_crud", cooldown_minutes=3, for_seconds=30,
                                                             tags={"node": "gw1"}))
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert created["id"] == "cpu_crud" and created["condition"] == ">" and created["threshold"] == 95.0
    assert created["for_seconds"] == 30 and created["tags"] == {"node": "gw1"} and created["builtin"] is False
    assert api.post("/monitoring/alerts/rules", json=rule_body(id="cpu_crud")).status_code == 409
    assert api.get("/monitoring/alerts/rules/cpu_crud").json()["data"]["cooldown_minutes"] == 3
    r = api.put("/monitoring/alerts/rules/cpu_crud", json={"threshold": 80, "condition": ">=", "enabled": False})
    assert r.status_code == 200, r.text
    updated = r.json()["data"]
    assert (updated["threshold"], updated["condition"], updated["enabled"]) == (80.0, ">=", False)
    assert updated["name"] == "CPU high"
    ids = {x["id"] for x in api.get("/monitoring/alerts/rules", params={"size": 100}).json()["data"]["rules"]}
    assert "cpu_crud" in ids and BUILTIN <= ids
    generated = api.post("/monitoring/alerts/rules", json=rule_body()).json()["data"]["id"]
    assert generated.startswith("rule_")
    for rule_id in ("cpu_crud", generated):
        assert api.delete(f"/monitoring/alerts/rules/{rule_id}").status_code == 200
        assert api.get(f"/monitoring/alerts/rules/{rule_id}").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    (rule_body(condition="=>"), "condition"),
    (rule_body(condition="~"), "condition"),
    (rule_body(threshold="high"), "threshold"),
    (rule_body(threshold="95"), "threshold"),
    (rule_body(threshold=None), "threshold"),
    (rule_body(level="fatal"), "level"),
    (rule_body(metric_name="no.such.metric"), "metric_name"),
    (rule_body(metric_name="Bad Name"), "metric_name"),
    (rule_body(for_seconds=-1), "for_seconds"),
    (rule_body(tags={"bad key": "x"}), "tags"),
    (rule_body(id="Upper Case"), "id"),
    (rule_body(extra=1), "extra"),
])
def test_bad_rules_are_422_and_change_nothing(api: httpx.Client, body: dict, field: str) -> None:
    before = api.get("/monitoring/alerts/rules").json()["data"]["pagination"]["total"]
    r = api.post("/monitoring/alerts/rules", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in error["details"]["field"], error
    assert api.get("/monitoring/alerts/rules").json()["data"]["pagination"]["total"] == before


def test_bad_rule_update_is_422(api: httpx.Client) -> None:
    assert api.put("/monitoring/alerts/rules/disk_almost_full", json={"level": "fatal"}).status_code == 422
    r = api.put("/monitoring/alerts/rules/disk_almost_full", json={"metric_name": "no.such.metric"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "metric_name"
    assert api.get("/monitoring/alerts/rules/disk_almost_full").json()["data"]["metric_name"] == "system.disk.usage"


def test_builtin_rules_can_be_switched_off(api: httpx.Client) -> None:
    rule = api.get("/monitoring/alerts/rules/ipv6_pool_high").json()["data"]
    assert rule["builtin"] and rule["metric_name"] == "ipv6.pool.utilization" and rule["threshold"] == 90.0
    off = api.put("/monitoring/alerts/rules/ipv6_pool_high", json={"enabled": False}).json()["data"]
    assert off["enabled"] is False and off["builtin"] is True
    disabled = api.get("/monitoring/alerts/rules", params={"enabled": "false"}).json()["data"]["rules"]
    assert "ipv6_pool_high" in {r["id"] for r in disabled}
    on = api.put("/monitoring/alerts/rules/ipv6_pool_high", json={"enabled": True}).json()["data"]
    assert on["enabled"] is True


def test_dashboard_is_real(server: ServerProcess, api: httpx.Client) -> None:
    r = api.get("/monitoring/dashboard")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    system = data["system_metrics"]
    assert system["cpu"]["cores"] == psutil.cpu_count()
    assert system["memory"]["total"] == psutil.virtual_memory().total
    assert 0 < system["disk"]["total"] and system["disk"]["used"] <= system["disk"]["total"]
    assert len(system["cpu"]["load_average"]) == 3
    database = data["application_metrics"]["database"]
    cache = data["application_metrics"]["cache"]
    if "IPV6WGM_REDIS_URL" in server.env:
        assert database["type"] == "mysql" and database["pool_size"] == 10
        assert 1 <= database["active_connections"] <= 10 and 0 <= database["checked_out"] <= 10
        assert cache["status"] == "connected" and 0 <= cache["hit_rate"] <= 100 and cache["memory_usage"] > 0
        assert round(cache["hit_rate"] + cache["miss_rate"]) in (0, 100)
    else:
        assert database == {**database, "type": "sqlite", "pool_size": 1, "active_connections": 1}
        assert cache == {"status": "not configured"}
    assert {"active", "critical", "error", "warning", "info"} <= set(data["alerts"])
    assert api.get("/monitoring/dashboard", params={"node": "no-such-node"}).json()["data"]["system_metrics"] is None


def test_stored_series_query(server: ServerProcess, api: httpx.Client) -> None:
    node = server.env["IPV6WGM_NODE_ID"]

    def cores():
        r = api.get("/monitoring/metrics", params={"name": "system.cpu.cores", "tags": f"node:{node}"})
        assert r.status_code == 200, r.text
        series = r.json()["data"]["series"]
        return series if series and series[0]["points"] else None

    series = wait_for(cores, timeout=30, message="a stored system.cpu.cores point")
    assert len(series) == 1 and series[0]["node"] == node and series[0]["unit"] == "count"
    assert {p["value"] for p in series[0]["points"]} == {float(psutil.cpu_count())}
    names = {x["name"] for x in api.get("/monitoring/metrics/names").json()["data"]}
    assert {"system.cpu.usage", "system.memory.total", "system.network.bytes_recv"} <= names
    other = api.get("/monitoring/metrics", params={"name": "system.cpu.cores", "tags": "node:elsewhere"})
    assert other.json()["data"]["series"] == []
    now = int(time.time())
    year = api.get("/monitoring/metrics", params={"name": "system.cpu.cores", "from": str(now - 365 * 86400),
                                                   "to": str(now)}).json()["data"]
    assert year["step"] >= 3600 and year["resolution"] == 3600  # a year is answered from hourly rollups
    for params, field in (({"name": "system.cpu.cores", "from": "yesterday"}, "from"),
                          ({"name": "system.cpu.cores", "from": str(now), "to": str(now - 60)}, "from"),
                          ({"name": "system.cpu.cores", "from": str(now - 40 * 3600), "step": "1"}, "step"),
                          ({"name": "system.cpu.cores", "step": "5x"}, "step"),
                          ({"name": "system.cpu.cores", "tags": "novalue"}, "tags"),
                          ({"name": "NOT A NAME"}, "name")):
        r = api.get("/monitoring/metrics", params=params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.json()["error"]["details"]["field"], r.text


def test_system_metrics_history(server: ServerProcess, api: httpx.Client) -> None:
    def points():
        return api.get("/monitoring/metrics/system", params={"hours": 1}).json()["data"]

    data = wait_for(points, timeout=30, message="system metrics")
    assert all(p["name"].startswith("system.") and p["tags"]["type"] == "system" for p in data)
    memory = [p for p in data if p["name"] == "system.memory.total"]
    assert memory and memory[-1]["value"] == psutil.virtual_memory().total
    assert memory[-1]["metadata"]["unit"] == "bytes" and memory[-1]["timestamp"].endswith("Z")
    assert api.get("/monitoring/metrics/system", params={"hours": 0}).status_code == 422
    assert api.get("/monitoring/metrics/system", params={"hours": "x"}).status_code == 422


def test_access_control(server: ServerProcess, admin_token: str) -> None:
    user = server.make_user(admin_token, role="user")
    manager = server.make_user(admin_token, role="manager")
    with server.client(user["token"]) as c:
        assert c.get("/monitoring/dashboard").status_code == 403
        assert c.get("/monitoring/alerts/active").status_code == 403
        assert c.post("/monitoring/alerts/rules", json=rule_body()).status_code == 403
    with server.client(manager["token"]) as c:
        assert c.get("/monitoring/alerts/active").status_code == 200
        assert c.get("/monitoring/notifiers").status_code == 403  # targets are the admin's
    with server.client() as c:
        assert c.get("/monitoring/dashboard").status_code == 401


def test_metrics_endpoint_is_off_without_a_token(server: ServerProcess) -> None:
    for headers in ({"Authorization": "Bearer anything"}, {}):
        r = httpx.get(f"{server.base}/metrics", headers=headers)
        assert r.status_code == 401 and "disabled" in r.json()["error"]["message"]


def test_alert_actions_on_unknown_alerts(api: httpx.Client) -> None:
    assert api.post("/monitoring/alerts/nope_20240101_000000/acknowledge", json={}).status_code == 404
    assert api.post("/monitoring/alerts/nope_20240101_000000/resolve", json={}).status_code == 404
    assert api.get("/monitoring/alerts/BAD%20ID").status_code == 404
    r = api.get("/monitoring/alerts", params={"status": "firing"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "status"
    assert api.get("/monitoring/alerts", params={"status": "resolved", "level": "error"}).status_code == 200
