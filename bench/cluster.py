"""Cluster: the time from ``POST /wireguard/clients`` to the peer being live on node B.

Real processes on MariaDB and Redis: one API server and node workers (each in its own network
namespace, wireguard-go). Measured twice in the same run:
- 1 node: B's worker alone, a server on B with ``--peers`` peers;
- 2 nodes: A and B, a server on each with ``--peers`` peers.
A sample is one API call, then polling B's interface until the new peer is there. The
reference is the 1-node figure: a second node must not slow the first one's changes down.

Prints figures and, as its last line, one JSON object:
  two_nodes_vs_one_node   (target <= 1.2)

    python bench/cluster.py [--peers 5000] [--samples 20]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database

QUIET = {"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3600", "IPV6WGM_WIREGUARD_STATS_INTERVAL": "3600",
         "IPV6WGM_LOG_LEVEL": "WARNING", "IPV6WGM_WIREGUARD_BACKEND": "userspace",
         "IPV6WGM_WIREGUARD_APPLY_TIMEOUT": "120"}


def _wireguard_bench():
    """``seed`` of bench/wireguard.py (bulk clients straight into the database)."""
    spec = importlib.util.spec_from_file_location("bench_wireguard", Path(__file__).with_name("wireguard.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


async def seed_all(server_ids: list[int], peers: int) -> None:
    from ipv6wgm.bootstrap import session

    seed = _wireguard_bench().seed
    async with session():
        for sid in server_ids:
            await seed(sid, peers)


def peers_of(netns: str, iface: str) -> str:
    return subprocess.run(["ip", "netns", "exec", netns, "wg", "show", iface, "peers"], capture_output=True,
                          text=True, check=True).stdout


def scenario(nodes: int, peers: int, samples: int) -> float:
    """Median seconds from the POST to the peer on B's interface."""
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, worker=False, env=QUIET)
        try:
            proc.start()
            names = ["clB-bench"] if nodes == 1 else ["clB-bench", "clA-bench"]
            for name in names:
                proc.spawn_worker(name)
            for name in names:
                proc.wait_for_worker(name)
            netns = dict(zip(names, proc.extra_netns, strict=True))
            api = proc.client(proc.token())
            servers = {}
            for i, name in enumerate(names):
                r = api.post("/wireguard/servers", json={
                    "name": f"wgcb{i}{proc.prefix[-4:]}", "listen_port": 52700 + i, "ipv4_address": "10.64.0.1/10",
                    "ipv6_address": "fd64::1/64", "endpoint": "192.0.2.1", "node_id": name})
                assert r.status_code == 201, r.text
                servers[name] = r.json()["data"]
            os.environ.update({k: v for k, v in proc.env.items() if k.startswith("IPV6WGM_")})
            started = time.perf_counter()
            asyncio.run(seed_all([s["id"] for s in servers.values()], peers))
            for server in servers.values():
                r = api.post(f"/wireguard/servers/{server['id']}/start", timeout=300)
                assert r.status_code == 200, r.text
            print(f"  {nodes} node(s): {peers} peers on each of {len(names)} servers up in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            b = servers["clB-bench"]
            assert len(peers_of(netns["clB-bench"], b["interface"]).split()) == peers
            times = []
            for i in range(samples):
                t0 = time.perf_counter()
                r = api.post("/wireguard/clients", json={"name": f"bench-{i}", "server_id": b["id"]})
                assert r.status_code == 201, r.text
                key = r.json()["data"]["public_key"]
                deadline = t0 + 30
                while key not in peers_of(netns["clB-bench"], b["interface"]):
                    assert time.perf_counter() < deadline, "peer never appeared on B"
                    time.sleep(0.005)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)
        finally:
            proc.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    check_redis()
    one = scenario(1, args.peers, args.samples)
    print(f"POST /wireguard/clients -> peer live on B, 1 node:           {one * 1000:8.1f} ms", flush=True)
    two = scenario(2, args.peers, args.samples)
    print(f"POST /wireguard/clients -> peer live on B, 2 nodes:          {two * 1000:8.1f} ms", flush=True)
    print(json.dumps({"two_nodes_vs_one_node": round(two / one, 3), "one_node_ms": round(one * 1000, 1),
                      "two_nodes_ms": round(two * 1000, 1), "peers_per_node": args.peers,
                      "samples": args.samples}))


if __name__ == "__main__":
    main()
