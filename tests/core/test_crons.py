"""Cron scopes with two gateway nodes (two ``ipv6wgm worker`` processes with different node ids)
on one Redis and one MariaDB: every node runs its node-scoped crons on every tick, and a
cluster-scoped cron runs once per tick across both."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database, wait_for

EVERY = 2


@pytest.mark.hooks("register_cron")
def test_node_crons_run_on_every_node_and_cluster_crons_once_per_tick() -> None:
    check_redis()
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False,
                             env={"IPV6WGM_SAMPLE_CRON_EVERY": str(EVERY)})
        try:
            proc.start()
            first, second = proc.env["IPV6WGM_NODE_ID"], "second-node"
            proc.spawn_worker()
            proc.spawn_worker(second)
            proc.wait_for_worker()
            proc.wait_for_worker(second)
            both_live = time.time()
            time.sleep(8 * EVERY)
            client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
            raw = client.hgetall(f"{proc.prefix}:sample:cron_runs")
            client.close()
        finally:
            print(proc.logs())
            proc.cleanup()
    runs: Counter[tuple[str, str, int]] = Counter()
    for field, count in raw.items():
        name, node, tick = field.split("|")
        runs[(name, node, int(tick))] += int(count)
    assert {node for _, node, _ in runs} <= {first, second}
    ticks = sorted({t for _, _, t in runs if both_live + EVERY <= t <= both_live + 7 * EVERY})
    assert len(ticks) >= 5, runs
    for tick in ticks:
        assert runs[("node_tick", first, tick)] == 1 and runs[("node_tick", second, tick)] == 1, (tick, runs)
        assert runs[("cluster_tick", first, tick)] + runs[("cluster_tick", second, tick)] == 1, (tick, runs)
    assert all(t % EVERY == 0 for _, _, t in runs)


@pytest.fixture()
def two_nodes() -> Iterator[tuple[ServerProcess, str, str]]:
    """A server and two node workers, each node with its own network namespace."""
    check_redis()
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False,
                             env={"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "2"})
        try:
            proc.start()
            proc.spawn_worker()
            proc.spawn_worker("second-node")
            proc.wait_for_worker()
            proc.wait_for_worker("second-node")
            yield proc, proc.env["IPV6WGM_NODE_ID"], "second-node"
        finally:
            print(proc.logs())
            proc.cleanup()


def _links(netns: str) -> str:
    return subprocess.run(["ip", "-n", netns, "link", "show"], capture_output=True, text=True, check=True).stdout


def test_each_node_applies_and_reconciles_its_own_interfaces(two_nodes: tuple[ServerProcess, str, str]) -> None:
    proc, first, second = two_nodes
    netns = {first: proc.netns, second: proc.extra_netns[0]}
    tag = secrets.token_hex(2)
    with proc.client(proc.token()) as c:
        names = {}
        for i, node in enumerate((first, second)):
            r = c.post("/wireguard/servers", json={"name": f"wgn{i}{tag}", "ipv4_address": f"10.5.{i}.1/24",
                                                   "listen_port": 51900 + i, "node_id": node})
            assert r.status_code == 201, r.text
            sid = r.json()["data"]["id"]
            r = c.post(f"/wireguard/servers/{sid}/start")
            assert r.status_code == 200 and r.json()["data"]["status"] == "running", r.text
            names[node] = (sid, f"wgn{i}{tag}")
        for node, (_, name) in names.items():
            other = second if node == first else first
            assert name in _links(netns[node]) and name not in _links(netns[other])
            subprocess.run(["ip", "-n", netns[node], "link", "del", name], check=True)
        for node, (_, name) in names.items():
            wait_for(lambda n=node, m=name: m in _links(netns[n]), timeout=20,
                     message=f"the reconcile cron of {node} recreates {name}")
        for sid, _ in names.values():
            assert c.post(f"/wireguard/servers/{sid}/stop").status_code == 200


@pytest.fixture()
def three_nodes() -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """Two working node workers and a third whose wireguard-go is missing; the reconcile runs at
    start only, so what happens later on the interfaces is the stats cron's doing."""
    check_redis()
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False,
                             env={"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3600",
                                  "IPV6WGM_WIREGUARD_STATS_INTERVAL": "2"})
        try:
            proc.start()
            proc.spawn_worker()
            proc.spawn_worker("node-two")
            proc.spawn_worker("node-broken", env={"IPV6WGM_WIREGUARD_WIREGUARD_GO": "/nonexistent/wireguard-go"})
            for node in (None, "node-two", "node-broken"):
                proc.wait_for_worker(node)
            first = proc.env["IPV6WGM_NODE_ID"]
            yield proc, {first: proc.netns, "node-two": proc.extra_netns[0], "node-broken": proc.extra_netns[1]}
        finally:
            print(proc.logs())
            proc.cleanup()


def _peers(netns: str, interface: str) -> set[str]:
    out = subprocess.run(["ip", "netns", "exec", netns, "wg", "show", interface, "peers"], capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


def test_stats_crons_and_failed_start_on_several_nodes(three_nodes: tuple[ServerProcess, dict[str, str]]) -> None:
    """Each node's stats cron enforces expiry on its own interface; a failed start on a third
    node crosses arq as a 503 naming that node and the step, and leaves nothing half-up."""
    proc, netns = three_nodes
    tag = secrets.token_hex(2)
    with proc.client(proc.token()) as c:
        servers = {}
        for i, node in enumerate(n for n in netns if n != "node-broken"):
            r = c.post("/wireguard/servers", json={"name": f"wgs{i}{tag}", "ipv4_address": f"10.6.{i}.1/24",
                                                   "listen_port": 51950 + i, "node_id": node, "endpoint": "gw.test",
                                                   "is_active": True})
            assert r.status_code == 201 and r.json()["data"]["status"] == "running", r.text
            server = r.json()["data"]
            expires = (datetime.now(UTC) + timedelta(seconds=6)).isoformat()
            short = c.post("/wireguard/clients", json={"name": "short", "server_id": server["id"],
                                                       "expires_at": expires}).json()["data"]
            kept = c.post("/wireguard/clients", json={"name": "kept", "server_id": server["id"]}).json()["data"]
            servers[node] = (server, short["public_key"], kept["public_key"])
        for node, (server, short, kept) in servers.items():
            wait_for(lambda n=node, s=server, k=(short, kept): _peers(netns[n], s["interface"]) == set(k),
                     timeout=20, message=f"both peers on {node}")
        for node, (server, _short, kept) in servers.items():
            wait_for(lambda n=node, s=server, k=kept: _peers(netns[n], s["interface"]) == {k}, timeout=30,
                     message=f"the stats cron of {node} takes the expired peer off")

        r = c.post("/wireguard/servers", json={"name": f"wgb{tag}", "ipv4_address": "10.6.9.1/24",
                                               "node_id": "node-broken"})
        sid = r.json()["data"]["id"]
        failed = c.post(f"/wireguard/servers/{sid}/start")
        assert failed.status_code == 503, failed.text
        details = failed.json()["error"]["details"]
        assert details["node_id"] == "node-broken" and details["step"] == "create interface"
        assert "/nonexistent/wireguard-go" in details["error"]
        assert c.get(f"/wireguard/servers/{sid}").json()["data"]["is_active"] is False
        assert f"wgb{tag}" not in _links(netns["node-broken"])
