"""Alert rules that fire and notify, and the Prometheus endpoint, on SQLite (embedded) and on
MariaDB + Redis + worker, with 1 s sampling and evaluation.

The sample plugin emits ``sample.value`` from a file this test writes, so a rule crosses its
threshold exactly when the test says. Notifications are received by a real HTTP server on
127.0.0.1 (webhooks, and apprise's ``json://`` target) and over the real WebSocket stream.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from ipv6wgm.testing import ServerProcess, assert_no_message, recv_until, running_server, wait_for, ws_url
from tests.monitoring.helpers import Receiver

TOKEN = "metrics-token-0123456789"


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def fast(request: pytest.FixtureRequest) -> Iterator[tuple[ServerProcess, Path]]:
    with tempfile.TemporaryDirectory(prefix="ipv6wgm-mon-") as tmp:
        value_file = Path(tmp) / "value"
        value_file.write_text("0")
        env = {"IPV6WGM_MONITORING_SAMPLE_INTERVAL": "1", "IPV6WGM_MONITORING_EVALUATE_INTERVAL": "1",
               "IPV6WGM_METRICS_TOKEN": TOKEN, "IPV6WGM_SAMPLE_METRIC_FILE": str(value_file)}
        with running_server(request.param, env=env) as server:
            yield server, value_file


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@pytest.mark.hooks("collect_metrics")
def test_rule_fires_resolves_and_cools_down(fast: tuple[ServerProcess, Path], receiver: Receiver) -> None:
    server, value_file = fast
    token = server.token()
    with server.client(token) as api:
        wait_for(lambda: "sample.value" in {x["name"] for x in api.get("/monitoring/metrics/names").json()["data"]},
                 timeout=30, message="the sample metric stored")
        secret = "webhook-secret-0123456789"
        hook = api.post("/monitoring/notifiers", json={"name": f"hook-{server.prefix}", "kind": "webhook",
                                                       "url": f"{receiver.base}/hook/{server.prefix}",
                                                       "secret": secret})
        assert hook.status_code == 201, hook.text
        assert hook.json()["data"]["secret"] == secret and hook.json()["data"]["url"].endswith(server.prefix)
        chat = api.post("/monitoring/notifiers", json={
            "name": f"chat-{server.prefix}", "kind": "apprise", "min_level": "warning",
            "url": f"json://127.0.0.1:{receiver.base.rsplit(':', 1)[1]}/apprise/{server.prefix}"})
        assert chat.status_code == 201, chat.text
        listed = api.get("/monitoring/notifiers").json()["data"]["notifiers"]
        assert all("secret" not in n and "webhook-secret" not in str(n) for n in listed)
        rule = api.post("/monitoring/alerts/rules", json={
            "id": f"sample_high_{server.prefix}", "name": "Sample high", "metric_name": "sample.value",
            "condition": ">", "threshold": 50, "level": "warning", "for_seconds": 2, "cooldown_minutes": 10,
            "tags": {"source": "file"}})
        assert rule.status_code == 201, rule.text
        rule_id = rule.json()["data"]["id"]
        hook_path, chat_path = f"/hook/{server.prefix}", f"/apprise/{server.prefix}"

        with connect(ws_url(server, "/ws/monitoring/alerts", token=token)) as ws:
            value_file.write_text("100")
            fired = recv_until(ws, "monitoring_alert", timeout=30,
                               predicate=lambda d: d["rule_id"] == rule_id and d["status"] == "active")["data"]
            assert fired["current_value"] == 100.0 and fired["threshold_value"] == 50.0
            assert fired["metric_name"] == "sample.value" and fired["level"] == "warning"
            assert (_parse(fired["fired_at"]) - _parse(fired["started_at"])).total_seconds() >= 2  # for_seconds
            active = api.get("/monitoring/alerts/active").json()["data"]
            assert [a["id"] for a in active if a["rule_id"] == rule_id] == [fired["id"]]
            assert api.get("/monitoring/dashboard").json()["data"]["alerts"]["warning"] >= 1

            posted = wait_for(lambda: receiver.to(hook_path), timeout=20, message="the webhook POST")[0]
            body = posted.json()
            assert body["event"] == "alert.active" and body["alert"]["id"] == fired["id"]
            assert posted.headers["x-ipv6wgm-event"] == "alert.active"
            expected = hmac.new(secret.encode(), posted.headers["x-ipv6wgm-timestamp"].encode() + b"." + posted.body,
                                hashlib.sha256).hexdigest()
            assert posted.headers["x-ipv6wgm-signature"] == f"sha256={expected}"
            chat_msg = wait_for(lambda: receiver.to(chat_path), timeout=20, message="the apprise POST")[0].json()
            assert "Sample high" in chat_msg["title"] and fired["id"] in chat_msg["message"]

            ack = api.post(f"/monitoring/alerts/{fired['id']}/acknowledge", json={})
            assert ack.status_code == 200 and ack.json()["data"]["acknowledged_by"] == "admin"

            value_file.write_text("10")
            resolved = recv_until(ws, "monitoring_alert", timeout=30,
                                  predicate=lambda d: d["id"] == fired["id"] and d["status"] == "resolved")["data"]
            assert resolved["resolution"] == "cleared" and resolved["current_value"] == 10.0
            wait_for(lambda: len(receiver.to(hook_path)) >= 2, timeout=20, message="the resolution webhook")
            assert receiver.to(hook_path)[1].json()["event"] == "alert.resolved"

            value_file.write_text("100")  # a second crossing inside the cooldown raises nothing
            assert_no_message(ws, "monitoring_alert", wait=6)
        history = api.get("/monitoring/alerts", params={"rule_id": rule_id}).json()["data"]
        assert history["pagination"]["total"] == 1 and history["alerts"][0]["status"] == "resolved"
        assert not [a for a in api.get("/monitoring/alerts/active", params={"include_pending": "true"}).json()["data"]
                    if a["rule_id"] == rule_id]
        assert len(receiver.to(hook_path)) == 2
        assert api.post(f"/monitoring/alerts/{fired['id']}/resolve", json={}).status_code == 409
        value_file.write_text("0")
        assert api.delete(f"/monitoring/alerts/rules/{rule_id}").status_code == 200
        for notifier in (hook, chat):
            assert api.delete(f"/monitoring/notifiers/{notifier.json()['data']['id']}").status_code == 200


def test_webhook_retries_with_backoff_and_never_follows_redirects(
        fast: tuple[ServerProcess, Path], receiver: Receiver) -> None:
    server, value_file = fast
    with server.client(server.token()) as api:
        path = f"/flaky/{server.prefix}"
        receiver.script[path] = [503, 500]  # then 200
        hook = api.post("/monitoring/notifiers", json={"name": f"flaky-{server.prefix}", "url": receiver.base + path,
                                                       "min_level": "critical"}).json()["data"]
        rule = api.post("/monitoring/alerts/rules", json={
            "name": "Sample critical", "metric_name": "sample.node_value", "condition": ">=", "threshold": 1000,
            "level": "critical", "tags": {"node": server.env["IPV6WGM_NODE_ID"]}}).json()["data"]
        value_file.write_text("1000")
        attempts = wait_for(lambda: len(receiver.to(path)) >= 3 and receiver.to(path), timeout=40,
                            message="three delivery attempts")
        assert len({a.headers["x-ipv6wgm-delivery"] for a in attempts}) == 1  # one delivery, retried
        assert attempts[1].at - attempts[0].at >= 0.9 and attempts[2].at - attempts[1].at >= 1.9  # doubling waits
        wait_for(lambda: api.get(f"/monitoring/notifiers/{hook['id']}").json()["data"]["last_status"] == "delivered",
                 timeout=10, message="the delivery recorded")
        value_file.write_text("0")
        assert api.delete(f"/monitoring/alerts/rules/{rule['id']}").status_code == 200

        moved = f"/moved/{server.prefix}"
        receiver.script[moved] = [302]
        redirect = api.post("/monitoring/notifiers", json={
            "name": f"moved-{server.prefix}", "url": receiver.base + moved, "min_level": "critical"}).json()["data"]
        result = api.post(f"/monitoring/notifiers/{redirect['id']}/test").json()["data"]
        assert result["delivered"] is False and "redirect" in result["error"]
        assert len(receiver.to(moved)) == 1 and receiver.to(moved)[0].json()["event"] == "test"
        for notifier in (hook, redirect):
            api.delete(f"/monitoring/notifiers/{notifier['id']}")


def test_prometheus_endpoint(fast: tuple[ServerProcess, Path]) -> None:
    server, _ = fast
    node = server.env["IPV6WGM_NODE_ID"]
    with server.client(server.token()) as api:
        r = api.post("/wireguard/servers", json={"name": f"prom-{server.prefix}", "listen_port": 51999,
                                                 "ipv4_address": "10.77.0.1/24"})
        assert r.status_code == 201, r.text
        interface = r.json()["data"]["interface"]

    def scrape() -> dict:
        r = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
        return {f.name: f for f in text_string_to_metric_families(r.text)}

    families = wait_for(lambda: (f := scrape()) and "wireguard_sent_bytes" in f and f, timeout=30,
                        message="WireGuard series in /metrics")
    for name in ("wireguard_sent_bytes", "wireguard_received_bytes", "wireguard_latest_handshake_seconds"):
        assert families[name].type == ("gauge" if "handshake" in name else "counter")
        labels = [s.labels for s in families[name].samples if s.labels.get("interface") == interface]
        assert labels and labels[0]["node"] == node and labels[0]["server"] == f"prom-{server.prefix}"
    cores = [s for s in families["ipv6wgm_system_cpu_cores"].samples if s.labels == {"node": node}]
    assert cores and cores[0].value == psutil.cpu_count()
    memory = families["ipv6wgm_system_memory_total_bytes"].samples[0]
    assert memory.value == psutil.virtual_memory().total
    assert families["ipv6wgm_system_network_bytes_recv"].type == "counter"
    assert [s.value for s in families["ipv6wgm_node_up"].samples if s.labels["node"] == node] == [1.0]
    assert {s.labels["level"] for s in families["ipv6wgm_alerts_active"].samples} == {
        "critical", "error", "warning", "info"}
    assert "ipv6wgm_sample_value" in families  # a cluster-wide series: no node label
    assert "node" not in families["ipv6wgm_sample_value"].samples[0].labels

    assert httpx.get(f"{server.base}/metrics").status_code == 401
    wrong = httpx.get(f"{server.base}/metrics", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")


def test_alert_state_survives_a_restart(fast: tuple[ServerProcess, Path]) -> None:
    server, value_file = fast
    with server.client(server.token()) as api:
        rule = api.post("/monitoring/alerts/rules", json={
            "name": "Restart", "metric_name": "sample.value", "condition": ">", "threshold": 5000, "level": "info",
            "cooldown_minutes": 0}).json()["data"]
        value_file.write_text("6000")
        alert = wait_for(lambda: [a for a in api.get("/monitoring/alerts/active").json()["data"]
                                  if a["rule_id"] == rule["id"]], timeout=30, message="the alert active")[0]
    server.stop()
    server.start()
    with server.client(server.token()) as api:
        time.sleep(3)  # several evaluations after the restart: the same alert, still active, no new one
        history = api.get("/monitoring/alerts", params={"rule_id": rule["id"]}).json()["data"]["alerts"]
        assert [(a["id"], a["status"]) for a in history] == [(alert["id"], "active")]
        value_file.write_text("0")
        wait_for(lambda: api.get(f"/monitoring/alerts/{alert['id']}").json()["data"]["status"] == "resolved",
                 timeout=30, message="the alert resolved after the restart")
        api.delete(f"/monitoring/alerts/rules/{rule['id']}")


def test_two_nodes_own_their_series_and_count_nothing_twice() -> None:
    """Two gateway nodes (two workers on one MariaDB + Redis): each stores its own host and
    node-tagged series, the cluster-wide metric is stored once, and /metrics shows both nodes."""
    with tempfile.TemporaryDirectory(prefix="ipv6wgm-mon-") as tmp:
        value_file = Path(tmp) / "value"
        value_file.write_text("7")
        env = {"IPV6WGM_MONITORING_SAMPLE_INTERVAL": "1", "IPV6WGM_METRICS_TOKEN": TOKEN,
               "IPV6WGM_SAMPLE_METRIC_FILE": str(value_file)}
        with running_server("mysql", env=env) as server:
            first = server.env["IPV6WGM_NODE_ID"]
            second = f"{first}-b"
            server.spawn_worker(node_id=second)
            server.wait_for_worker(second)
            with server.client(server.token()) as api:
                def nodes(name: str) -> list:
                    series = api.get("/monitoring/metrics", params={"name": name}).json()["data"]["series"]
                    return sorted(str(s["node"]) for s in series if s["points"])

                assert wait_for(lambda: nodes("system.cpu.cores") == sorted([first, second]) or None, timeout=30,
                                message="host series of both nodes")
                assert wait_for(lambda: nodes("sample.node_value") == sorted([first, second]) or None, timeout=30,
                                message="node-tagged series of both nodes")
                time.sleep(3)  # several ticks of both nodes
                cluster = api.get("/monitoring/metrics", params={"name": "sample.value", "step": "1"}).json()["data"]
                assert [s["node"] for s in cluster["series"]] == [None]  # one series, no node
                assert all(p["count"] == 1 for p in cluster["series"][0]["points"])  # one point per tick
            scrape = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
            up = {s.labels["node"]: s.value for f in text_string_to_metric_families(scrape)
                  if f.name == "ipv6wgm_node_up" for s in f.samples}
            assert up == {first: 1.0, second: 1.0}
