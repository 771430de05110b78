"""The cluster plugin with real processes: one API server and two node workers, A and B, each in
its own network namespace, on MariaDB and Redis.

The module shares one cluster; the tests run in file order and the last one kills A's worker.
Heartbeat and lease periods are short (``FAST``) so failover is seen within seconds.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database, wait_for
from tests.wireguard.test_api_e2e import bring_up, ping, sh

HEARTBEAT_TTL = 2.0
CRON_EVERY = 3
FAST = {
    "IPV6WGM_CLUSTER_HEARTBEAT_INTERVAL": "0.5",
    "IPV6WGM_CLUSTER_HEARTBEAT_TTL": str(HEARTBEAT_TTL),
    "IPV6WGM_CLUSTER_LEASE_TTL": "2",
    "IPV6WGM_CLUSTER_HEALTH_TIMEOUT": "1",
    "IPV6WGM_SAMPLE_CRON_EVERY": str(CRON_EVERY),
    "IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3600",
    "IPV6WGM_CLUSTER_AUTO_FAILOVER": "1",
    "IPV6WGM_CLUSTER_FAILOVER_GRACE": "4",
}


@dataclass
class Cluster:
    proc: ServerProcess
    a: str
    b: str
    netns: dict[str, str]
    workers: dict[str, subprocess.Popen[bytes]]
    client_ns: str
    started: float
    tag: str

    def api(self) -> httpx.Client:
        return self.proc.client(self.proc.token())

    def links(self, node: str) -> str:
        return sh("ip", "-n", self.netns[node], "link", "show").stdout

    def in_bird(self, node: str, session: str) -> bool:
        """The session is in the node's running BIRD tree."""
        return (self.proc.data_dir / f"bgp-{node}" / "current" / "sessions" / f"{session}.conf").exists()


def _leader(c: httpx.Client) -> dict[str, Any]:
    return c.get("/cluster/status").json()["data"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A leads (its worker starts first); the client namespace has a veth to each node's
    namespace: A at 10.98.1.1, B at 10.98.2.1 (client .2 on both)."""
    check_redis()
    tag = secrets.token_hex(2)
    a, b = f"clA-{tag}", f"clB-{tag}"
    client_ns = f"clC-{tag}"
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False, env=FAST)
        try:
            proc.start()
            workers = {a: proc.spawn_worker(a)}
            proc.wait_for_worker(a)
            with proc.client(proc.token()) as c:
                wait_for(lambda: _leader(c)["leader"] == a, timeout=20, message="A leads")
            workers[b] = proc.spawn_worker(b)
            proc.wait_for_worker(b)
            netns = {a: proc.extra_netns[0], b: proc.extra_netns[1]}
            sh("ip", "netns", "add", client_ns)
            sh("ip", "-n", client_ns, "link", "set", "lo", "up")
            for i, node in ((1, a), (2, b)):
                veth = f"clv{i}{tag}"
                sh("ip", "link", "add", f"{veth}n", "netns", netns[node], "type", "veth", "peer", "name", f"{veth}c",
                   "netns", client_ns)
                sh("ip", "-n", netns[node], "addr", "add", f"10.98.{i}.1/24", "dev", f"{veth}n")
                sh("ip", "-n", netns[node], "link", "set", f"{veth}n", "up")
                sh("ip", "-n", client_ns, "addr", "add", f"10.98.{i}.2/24", "dev", f"{veth}c")
                sh("ip", "-n", client_ns, "link", "set", f"{veth}c", "up")
            yield Cluster(proc, a, b, netns, workers, client_ns, time.time(), tag)
        finally:
            print(proc.logs())
            for pid in sh("ip", "netns", "pids", client_ns, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", client_ns, check=False)
            proc.cleanup()


def test_health_check_of_a_silent_node_and_of_an_unknown_id(cluster: Cluster) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never answers
    port = silent.getsockname()[1]
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True).start()
    try:
        with cluster.api() as c:
            r = c.post("/cluster/nodes", json={"id": f"clX-{cluster.tag}", "host": "127.0.0.1", "port": port,
                                               "capabilities": ["api"]})
            assert r.status_code == 201, r.text
            assert r.json()["data"]["node"]["status"] == "pending"
            started = time.monotonic()
            r = c.post(f"/cluster/nodes/clX-{cluster.tag}/health-check")
            elapsed = time.monotonic() - started
            data = r.json()["data"]
            assert r.status_code == 200 and data["is_healthy"] is False and data["status"] == "unhealthy", r.text
            assert elapsed < 1.0 + 1.0, elapsed  # the 1 s timeout plus the API's own time
            assert held, "the check did connect to the registered node"
            assert c.get(f"/cluster/nodes/clX-{cluster.tag}").json()["data"]["status"] == "unhealthy"
            r = c.post("/cluster/nodes/clZ-unknown/health-check")
            assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
            r = c.post(f"/cluster/nodes/{cluster.a}/health-check")  # a worker alone: its liveness key
            assert r.status_code == 200 and r.json()["data"]["is_healthy"] is True, r.text
            assert r.json()["data"]["status"] == "healthy" and "worker is live" in r.json()["data"]["detail"]
            assert c.post("/cluster/nodes", json={"id": "bad id", "host": "127.0.0.1"}).status_code == 422
            assert c.post("/cluster/nodes", json={"id": "clY", "host": "h\nx"}).status_code == 422
            assert c.delete(f"/cluster/nodes/clX-{cluster.tag}").status_code == 200
            assert c.get(f"/cluster/nodes/clX-{cluster.tag}").status_code == 404
    finally:
        silent.close()
        for s in held:
            s.close()


def _new_server(c: httpx.Client, name: str, port: int, **extra: Any) -> dict[str, Any]:
    r = c.post("/wireguard/servers", json={"name": name, "listen_port": port, "ipv4_address": "10.97.0.1/24",
                                           "endpoint": "gw.example.net", **extra})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_the_strategy_decides_the_next_placement(cluster: Cluster) -> None:
    a, b, tag = cluster.a, cluster.b, cluster.tag
    with cluster.api() as c:
        nodes = {n["id"]: n for n in c.get("/cluster/nodes").json()["data"]}
        assert nodes[a]["status"] == nodes[b]["status"] == "healthy"
        assert {"gateway"} <= set(nodes[a]["capabilities"]) and "gateway" not in nodes[cluster.proc.env[
            "IPV6WGM_NODE_ID"]]["capabilities"]
        made: list[int] = []

        def place(n: int) -> list[str]:
            out = []
            for _ in range(n):
                server = _new_server(c, f"sp{len(made)}{tag}", 53000 + len(made))
                made.append(server["id"])
                out.append(server["node_id"])
            return out

        assert c.put("/cluster/load-balancer/strategy", params={"strategy": "round_robin"}).status_code == 200
        assert sorted(place(2)) == sorted([a, b])
        # A carries three peers, B none: least connections sends the next two to B
        loaded = _new_server(c, f"spl{tag}", 53100, node_id=a)
        for i in range(3):
            assert c.post("/wireguard/clients", json={"name": f"p{i}", "server_id": loaded["id"]}).status_code == 201
        assert c.put("/cluster/load-balancer/strategy", params={"strategy": "least_connections"}).status_code == 200
        assert place(2) == [b, b]
        # weights 3:1: four placements split exactly 3:1, although A carries more peers
        assert c.put(f"/cluster/nodes/{a}/weight", json={"weight": 3}).status_code == 200
        assert c.put("/cluster/load-balancer/weights", json={"node_weights": {b: 1}}).status_code == 200
        assert c.put("/cluster/load-balancer/strategy", params={"strategy": "weighted"}).status_code == 200
        lb = c.get("/cluster/load-balancer").json()["data"]
        assert lb["strategy"] == "weighted" and lb["node_weights"][a] == 3
        assert Counter(place(4)) == Counter({a: 3, b: 1})
        assert c.put("/cluster/load-balancer/strategy", params={"strategy": "nope"}).status_code == 422
        detail = c.get(f"/cluster/nodes/{a}").json()["data"]
        assert detail["peers"] == 3 and loaded["id"] in [s["id"] for s in detail["objects"]["wireguard.server"]]
        # clean up: clients, then servers; strategy back to round robin, equal weights
        for client in c.get("/wireguard/clients", params={"server_id": loaded["id"]}).json()["data"]["clients"]:
            assert c.delete(f"/wireguard/clients/{client['id']}").status_code == 200
        for sid in [*made, loaded["id"]]:
            assert c.delete(f"/wireguard/servers/{sid}").status_code == 200, sid
        assert c.put("/cluster/load-balancer/weights", json={"node_weights": {a: 1}}).status_code == 200
        assert c.put("/cluster/load-balancer/strategy", params={"strategy": "round_robin"}).status_code == 200


def _peers(cluster: Cluster, node: str, iface: str) -> set[str]:
    return set(sh("ip", "netns", "exec", cluster.netns[node], "wg", "show", iface, "peers", check=False
                  ).stdout.split())


def test_server_on_b_serves_a_tunnel_and_drain_moves_it_to_a(cluster: Cluster, tmp_path: Path) -> None:
    a, b = cluster.a, cluster.b
    iface = f"cld{cluster.tag}"
    with cluster.api() as c:
        r = c.post("/wireguard/servers", json={
            "name": iface, "listen_port": 51820, "ipv4_address": "10.77.0.1/24", "ipv6_address": "fd77::1/64",
            "endpoint": "10.98.2.1", "is_active": True, "node_id": b})
        assert r.status_code == 201, r.text
        server = r.json()["data"]
        assert server["node_id"] == b and server["status"] == "running"
        assert iface in cluster.links(b) and iface not in cluster.links(a)
        r = c.post("/wireguard/clients", json={"name": "laptop", "server_id": server["id"]})
        assert r.status_code == 201, r.text
        client = r.json()["data"]
        bring_up(cluster.client_ns, client["config"], tmp_path, iface="wgc0")
        wait_for(lambda: ping(cluster.client_ns, "10.77.0.1"), timeout=20, message="ping through B")
        assert ping(cluster.client_ns, "fd77::1")
        peers_before = _peers(cluster, b, iface)
        assert peers_before == {client["public_key"]}
        r = c.post("/bgp/sessions", json={"name": f"cls{cluster.tag}", "neighbor": "192.0.2.7", "remote_as": 65001,
                                          "node_id": b})
        assert r.status_code == 201 and r.json()["data"]["node_id"] == b, r.text
        session = r.json()["data"]
        assert cluster.in_bird(b, session["name"]) and not cluster.in_bird(a, session["name"])
        detail = c.get(f"/cluster/nodes/{b}").json()["data"]
        assert [s["id"] for s in detail["objects"]["wireguard.server"]] == [server["id"]]
        assert [s["id"] for s in detail["objects"]["bgp.session"]] == [session["id"]]

        r = c.post(f"/cluster/nodes/{b}/drain")
        assert r.status_code == 200, r.text
        drained = r.json()["data"]
        assert drained["failed"] == [], drained
        assert sorted((m["kind"], m["id"], m["to"]) for m in drained["moved"]) == [
            ("bgp.session", session["id"], a), ("wireguard.server", server["id"], a)]
        assert cluster.in_bird(a, session["name"]) and not cluster.in_bird(b, session["name"])
        assert c.get(f"/bgp/sessions/{session['id']}").json()["data"]["node_id"] == a
        assert iface not in cluster.links(b) and iface in cluster.links(a)
        assert _peers(cluster, a, iface) == peers_before
        moved = c.get(f"/wireguard/servers/{server['id']}").json()["data"]
        assert moved["node_id"] == a and moved["status"] == "running" and moved["public_key"] == server["public_key"]
        assert c.get(f"/cluster/nodes/{b}").json()["data"]["drained"] is True
        # a drained node gets no new placements
        fresh = _new_server(c, f"cln{cluster.tag}", 53300)
        assert fresh["node_id"] == a
        assert c.delete(f"/wireguard/servers/{fresh['id']}").status_code == 200

        sh("ip", "netns", "exec", cluster.client_ns, "wg", "set", "wgc0", "peer", server["public_key"],
           "endpoint", "10.98.1.1:51820")
        wait_for(lambda: ping(cluster.client_ns, "10.77.0.1"), timeout=20, message="ping through A after drain")
        assert ping(cluster.client_ns, "fd77::1")
        r = c.post(f"/cluster/nodes/{b}/undrain")
        assert r.status_code == 200 and c.get(f"/cluster/nodes/{b}").json()["data"]["drained"] is False
        assert c.delete(f"/cluster/nodes/{a}").status_code == 409  # it hosts the server


def _cron_runs(prefix: str) -> Counter[int]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        raw = client.hgetall(f"{prefix}:sample:cron_runs")
    finally:
        client.close()
    runs: Counter[int] = Counter()
    for field, count in raw.items():
        name, _node, tick = field.split("|")
        if name == "cluster_tick":
            runs[int(tick)] += int(count)
    return runs


@pytest.mark.hooks("register_services")
def test_kill_a_leader_moves_to_b_crons_run_once_per_tick_and_a_fails_over(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    with cluster.api() as c:
        before = _leader(c)
        assert before["leader"] == a and before["mode"] == "cluster", before
        time.sleep(2 * CRON_EVERY)
        os.killpg(cluster.workers[a].pid, signal.SIGKILL)
        killed = time.monotonic()
        for pid in sh("ip", "netns", "pids", cluster.netns[a]).stdout.split():  # host A is gone (wireguard-go)
            sh("kill", "-9", pid, check=False)
        wait_for(lambda: c.get(f"/cluster/nodes/{a}").json()["data"]["status"] == "offline", timeout=10,
                 interval=0.1, message="A offline")
        assert time.monotonic() - killed <= HEARTBEAT_TTL + 0.6
        after = wait_for(lambda: (s := _leader(c))["leader"] == b and s, timeout=10, message="B leads")
        assert after["epoch"] > before["epoch"]
        # A hosts the drained server: the API flags it
        status = _leader(c)
        assert sorted(o["name"] for o in status["offline_objects"][a]) == [f"cld{cluster.tag}", f"cls{cluster.tag}"]
        assert c.get(f"/cluster/nodes/{a}").json()["data"]["objects_affected"] is True
        # automatic failover (grace 4 s past the TTL): the leader drains A onto B
        server = c.get("/wireguard/servers").json()["data"]["servers"][0]
        moved = wait_for(lambda: (d := c.get(f"/wireguard/servers/{server['id']}").json()["data"])["node_id"] == b
                         and d["status"] == "running" and d, timeout=30, message="failover of A's server to B")
        assert moved["public_key"] == server["public_key"]
        wait_for(lambda: f"cld{cluster.tag}" in cluster.links(b)
                 and len(_peers(cluster, b, f"cld{cluster.tag}")) == 1, timeout=20, message="the interface on B")
        assert c.get(f"/cluster/nodes/{a}").json()["data"]["drained"] is True
        session = c.get("/bgp/sessions").json()["data"]["sessions"][0]
        assert session["node_id"] == b and cluster.in_bird(b, session["name"])
        assert _leader(c)["offline_objects"] == {}
        sh("ip", "netns", "exec", cluster.client_ns, "wg", "set", "wgc0", "peer", server["public_key"],
           "endpoint", "10.98.2.1:51820")
        wait_for(lambda: ping(cluster.client_ns, "10.77.0.1"), timeout=20, message="ping through B after failover")
        time.sleep(CRON_EVERY)
    end = time.time()
    runs = _cron_runs(cluster.proc.prefix)
    ticks = [t for t in range(int(cluster.started) // CRON_EVERY * CRON_EVERY + CRON_EVERY, int(end) - CRON_EVERY,
                              CRON_EVERY)]
    assert len(ticks) >= 6, (ticks, runs)
    assert all(runs[t] == 1 for t in ticks), {t: runs[t] for t in ticks}
    assert all(count == 1 for count in runs.values()), runs
