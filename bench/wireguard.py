"""WireGuard at 10,000 peers: per-change cost, reconcile, no-op reconcile, live-state collection.

Runs a real server (SQLite, wireguard-go in its own network namespace). The bench process
itself plays the node worker for the jobs it times (same database, same secret, same
namespace, its own runtime from ``ipv6wgm.bootstrap.session``), so reconcile and collection are
timed without HTTP in between; adding a client is
timed through the API. References are measured in the same run: ``wg setconf`` of the same
10,000 peers into an empty wireguard-go interface, and ``wg show <if> dump``.

Prints figures and, as its last line, one JSON object:
  add_peer_at_10000_vs_at_10   (target <= 1.5)
  reconcile_10000_vs_setconf   (target <= 2)
  noop_reconcile_10000_s       (target < 1)
  stats_10000_vs_wg_dump       (target <= 1.5)

    python bench/wireguard.py [--peers 10000] [--reps 5] [--add-reps 15]

Adding a client is one HTTP request of ~5-7 ms, where a few milliseconds of another process's
load land on some samples and not others; its median is over ``--add-reps`` samples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ipv6wgm.testing import ServerProcess

QUIET = {"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3600", "IPV6WGM_WIREGUARD_STATS_INTERVAL": "3600",
         "IPV6WGM_LOG_LEVEL": "WARNING", "IPV6WGM_WIREGUARD_BACKEND": "userspace"}


def median_time(func, reps: int) -> float:
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def amedian_time(func, reps: int) -> float:
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        await func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def add_client_timer(api, server_id: int, counter: list[int]):
    def add() -> None:
        counter[0] += 1
        r = api.post("/wireguard/clients", json={"name": f"bench-api-{counter[0]}", "server_id": server_id})
        assert r.status_code == 201, r.text
    return add


async def seed(server_id: int, count: int) -> None:
    """Bulk-insert clients straight into the database (10,000 API calls would time the setup)."""
    from ipv6wgm_wireguard import keys, service
    from ipv6wgm_wireguard.addressing import Network
    from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

    server = await WireGuardServer.get(id=server_id)
    v4, v6 = Network.of(server.ipv4_address), Network.of(server.ipv6_address)
    start = await WireGuardClient.filter(server_id=server_id).count() + 100
    rows = []
    for i in range(start, start + count):
        public = keys.public_key_from_private(keys.generate_private_key())
        rows.append(WireGuardClient(
            server_id=server_id, name=f"bulk-{i}", public_key=public,
            preshared_key_enc=service.seal(keys.generate_preshared_key(), public, "client-psk"),
            ipv4_index=i, ipv4_address=v4.address(i), ipv6_index=i, ipv6_address=v6.address(i),
            allowed_ips=["0.0.0.0/0", "::/0"]))
    await WireGuardClient.bulk_create(rows, batch_size=1000)
    await WireGuardServer.filter(id=server_id).update(next_v4=start + count, next_v6=start + count)


async def setconf_file(server_id: int, path: Path) -> None:
    from ipv6wgm_wireguard import keys
    from ipv6wgm_wireguard.jobs import desired_clients
    from ipv6wgm_wireguard.state import plugin_state

    lines = ["[Interface]", f"PrivateKey = {keys.generate_private_key()}", "ListenPort = 0"]
    specs = plugin_state().peer_specs
    for client in await desired_clients(server_id):
        spec = specs.get(client)
        lines += ["[Peer]", f"PublicKey = {spec.public_key}", f"PresharedKey = {spec.preshared_key}",
                  f"AllowedIPs = {', '.join(spec.allowed_ips)}"]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--add-reps", type=int, default=15)
    args = parser.parse_args()
    server = ServerProcess(env=QUIET)
    try:
        server.start()
        os.environ.update({k: v for k, v in server.env.items() if k.startswith("IPV6WGM_")})
        asyncio.run(run(server, args))
    finally:
        server.cleanup()


async def run(server: ServerProcess, args: argparse.Namespace) -> None:
    from ipv6wgm.bootstrap import session

    async with session():  # closed on the way out, so the bench exits when it is done
        await measure(server, args)


async def measure(server: ServerProcess, args: argparse.Namespace) -> None:
    from ipv6wgm_wireguard import jobs, stats
    from ipv6wgm_wireguard.models import WireGuardServer

    netns = server.netns
    api = server.client(server.token())
    srv = api.post("/wireguard/servers", json={
        "name": "wgbench", "listen_port": 51999, "ipv4_address": "10.64.0.1/10", "ipv6_address": "fd64::1/64",
        "endpoint": "192.0.2.1", "is_active": True}).json()["data"]
    sid, iface = srv["id"], srv["interface"]
    counter = [0]
    add = add_client_timer(api, sid, counter)
    for _ in range(10 - 1):
        add()
    at_10 = median_time(add, args.add_reps)
    print(f"add one client via the API, interface with ~10 peers:      {at_10 * 1000:8.2f} ms")

    print(f"seeding {args.peers} clients ...", flush=True)
    await seed(sid, args.peers - 10 - args.add_reps)

    await WireGuardServer.filter(id=sid).update(is_active=False)
    await jobs.apply_server({}, sid)  # interface removed
    await WireGuardServer.filter(id=sid).update(is_active=True)
    started = time.perf_counter()
    result = await jobs.apply_server({}, sid)
    fill = time.perf_counter() - started
    peers = result["added"]
    print(f"reconcile into an empty interface: {peers} peers added in {fill:8.3f} s")

    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "ref.conf"
        await setconf_file(sid, conf)
        subprocess.run(["ip", "netns", "exec", netns, "wireguard-go", "wgref"], check=True)
        try:
            def setconf() -> None:
                subprocess.run(["ip", "netns", "exec", netns, "wg", "setconf", "wgref", str(conf)], check=True)
            started = time.perf_counter()
            setconf()
            ref_fill = time.perf_counter() - started
        finally:
            subprocess.run(["ip", "-n", netns, "link", "del", "wgref"], check=False)
    print(f"wg setconf of the same peers into an empty interface:       {ref_fill:8.3f} s")

    noop = await amedian_time(lambda: jobs.apply_server({}, sid), 3)
    print(f"reconcile with no drift over {peers} peers:                {noop:8.3f} s")

    collect = await amedian_time(lambda: stats.collect({}), args.reps)
    dump = median_time(lambda: subprocess.run(["ip", "netns", "exec", netns, "wg", "show", iface, "dump"],
                                              check=True, capture_output=True), args.reps)
    print(f"collect live state of {peers} peers (one dump + DB):       {collect:8.3f} s")
    print(f"wg show {iface} dump:                                      {dump:8.3f} s")

    at_10k = median_time(add, args.add_reps)
    print(f"add one client via the API, interface with {peers} peers: {at_10k * 1000:8.2f} ms")
    print(json.dumps({
        "add_peer_at_10000_vs_at_10": round(at_10k / at_10, 3),
        "reconcile_10000_vs_setconf": round(fill / ref_fill, 3),
        "noop_reconcile_10000_s": round(noop, 3),
        "stats_10000_vs_wg_dump": round(collect / dump, 3),
        "add_peer_ms_at_10": round(at_10 * 1000, 2),
        "add_peer_ms_at_10000": round(at_10k * 1000, 2),
        "peers": peers,
    }))


if __name__ == "__main__":
    main()
