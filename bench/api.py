"""API throughput against a bare Quart route on the same Hypercorn, in the same run.

Prints requests/second of ``GET /api/v1/auth/me``, of the first and the last page of
``GET /api/v1/users?size=20`` (10,000 users) and of ``GET /api/v1/wireguard/clients?size=20``
(10,000 clients), and of a bare Quart JSON route, then, as its last line, one JSON object of
ratios (target: every ``*_vs_bare`` >= 0.5).

    python bench/api.py [--seconds 2] [--rounds 7] [--connections 16] [--users 10000] [--clients 10000]

The load generator is a small keep-alive HTTP/1.1 client in its own process, so the figures are
for one server process on this machine; what matters is the ratio, measured under the same
conditions. Beside each rate it prints the server's CPU time per request (psutil, the process and
its children) and ``*_cpu_vs_bare``, bare's CPU per request over the route's: the same
comparison, barely moved by the load of other processes. On a shared machine the load of other
processes drifts over a run, so the routes
are measured in ``--rounds`` interleaved rounds (each round measures the bare route too, the
order rotating from round to round); a ratio is the median over the rounds of the route's
rate over the bare route's rate in the same round, and a rate is the median over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ipv6wgm.testing import ServerProcess, free_port, wait_for

BARE_APP = '''
from quart import Quart, jsonify
app = Quart("bare")

@app.get("/bare")
async def bare():
    return jsonify({"success": True, "data": {"id": 1, "username": "admin"}, "timestamp": "x"})
'''


async def _load(port: int, path: str, headers: dict[str, str], seconds: float, connections: int
                ) -> tuple[int, float]:
    """Requests answered in about ``seconds``, and the time from the first connection to the last answer."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode()
    started = time.monotonic()
    deadline = started + seconds
    counts = [0] * connections

    async def worker(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            writer.write(request)
            status = await reader.readline()
            if not status:  # Hypercorn closes a keep-alive connection after 1,000 requests
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if b" 200 " not in status:
                raise RuntimeError(f"{path}: {status!r}")
            counts[i] += 1
        writer.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    return sum(counts), time.monotonic() - started


def _load_proc(args: tuple, out: multiprocessing.Queue) -> None:
    out.put(asyncio.run(_load(*args)))


def measure(port: int, path: str, headers: dict[str, str], seconds: float, connections: int,
            pid: int | None = None) -> tuple[float, float | None]:
    """Requests per second, and the server's CPU time per request (its process tree: Hypercorn
    may serve from a child), or None without psutil. The client runs in its own process so it
    does not share a GIL."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_load_proc, args=((port, path, headers, seconds, connections), queue))
    before = _cpu(pid)
    proc.start()
    count, elapsed = queue.get()
    after = _cpu(pid)
    proc.join()
    cpu = (after - before) / count if before is not None and after is not None and count else None
    return count / elapsed, cpu


def _cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of ``pid`` and its children."""
    if pid is None:
        return None
    try:
        import psutil

        root = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in (root, *root.children(recursive=True)))
    except Exception:  # noqa: BLE001 - psutil missing or the process gone: no CPU figure
        return None


Target = tuple[str, int, str, dict[str, str], int | None]  # name, port, path, headers, server pid


def interleaved(targets: list[Target], rounds: int, seconds: float, connections: int
                ) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, float]]:
    """Median rates and median per-round ratios to the first target (the bare route); median
    server CPU per request and median per-round CPU ratios (bare's CPU per request over the
    route's: like the rate ratio, higher is better, and barely moved by other processes' load).

    Every route runs once per round, in an order rotated each round, so a burst of load from
    another process lands on different routes in different rounds instead of on one of them.
    """
    for _, port, path, headers, _pid in targets:  # warm-up: caches, connections, code paths
        asyncio.run(_load(port, path, headers, 0.5, connections))
    rates: dict[str, list[float]] = {name: [] for name, *_ in targets}
    cpus: dict[str, list[float]] = {name: [] for name, *_ in targets}
    ratios: dict[str, list[float]] = {name: [] for name, *_ in targets[1:]}
    cpu_ratios: dict[str, list[float]] = {name: [] for name, *_ in targets[1:]}
    bare_name = targets[0][0]
    for r in range(rounds):
        shift = r % len(targets)
        measured = {}
        for name, port, path, headers, pid in targets[shift:] + targets[:shift]:
            measured[name] = measure(port, path, headers, seconds, connections, pid)
        for name, (rps, cpu) in measured.items():
            rates[name].append(rps)
            if cpu:
                cpus[name].append(cpu)
        bare_rps, bare_cpu = measured[bare_name]
        for name in ratios:
            ratios[name].append(measured[name][0] / bare_rps)
            if bare_cpu and measured[name][1]:
                cpu_ratios[name].append(bare_cpu / measured[name][1])  # type: ignore[operator]
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{n} {v[0]:.0f}" for n, v in measured.items()), flush=True)
    return ({name: statistics.median(v) for name, v in rates.items()},
            {name: round(statistics.median(v), 3) for name, v in ratios.items()},
            {name: statistics.median(v) for name, v in cpus.items() if v},
            {name: round(statistics.median(v), 3) for name, v in cpu_ratios.items() if v})


def seed_users(server: ServerProcess, count: int) -> None:
    code = f'''
import asyncio
from ipv6wgm.bootstrap import session
from ipv6wgm.security.passwords import hash_password
from ipv6wgm.users.models import User

async def main():
    async with session():
        digest = await hash_password("bench-password-1")
        batch = [User(username=f"bench_{{i:05d}}", email=f"bench_{{i}}@example.com", password_hash=digest,
                      role="user") for i in range({count})]
        await User.bulk_create(batch, batch_size=1000)

asyncio.run(main())
'''
    subprocess.run([sys.executable, "-c", code], env=server.env, check=True, timeout=300)


def seed_clients(server: ServerProcess, token: str, count: int) -> None:
    """One stopped WireGuard server and ``count`` clients, inserted in bulk (not timed)."""
    r = httpx.post(f"{server.api}/wireguard/servers", headers={"Authorization": f"Bearer {token}"}, json={
        "name": "benchsrv", "ipv4_address": "10.96.0.1/16", "ipv6_address": "fd96::1/64", "endpoint": "192.0.2.1"})
    assert r.status_code == 201, r.text
    code = f'''
import asyncio
from ipv6wgm.bootstrap import session
from ipv6wgm_wireguard import keys, service
from ipv6wgm_wireguard.addressing import Network
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

async def seed():
    server = await WireGuardServer.get(id={r.json()["data"]["id"]})
    v4, v6 = Network.of(server.ipv4_address), Network.of(server.ipv6_address)
    rows = []
    for i in range(2, {count} + 2):
        private = keys.generate_private_key()
        public = keys.public_key_from_private(private)
        rows.append(WireGuardClient(
            server_id=server.id, owner_id=1, name=f"bench-{{i}}", public_key=public,
            private_key_enc=service.seal(private, public, "client-private"),
            ipv4_index=i, ipv4_address=v4.address(i), ipv6_index=i, ipv6_address=v6.address(i),
            allowed_ips=["0.0.0.0/0", "::/0"], dns_servers=["2001:4860:4860::8888"]))
    await WireGuardClient.bulk_create(rows, batch_size=1000)

async def main():
    async with session():
        await seed()

asyncio.run(main())
'''
    subprocess.run([sys.executable, "-c", code], env=server.env, check=True, timeout=600)


def last_page(server: ServerProcess, auth: dict[str, str], path: str) -> str:
    pages = httpx.get(f"{server.api}{path}?size=20", headers=auth).json()["data"]["pagination"]["pages"]
    return f"/api/v1{path}?size=20&page={pages}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per route and round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10_000)
    args = parser.parse_args()

    server = ServerProcess(env={"IPV6WGM_LOG_LEVEL": "WARNING"})
    bare_dir = tempfile.TemporaryDirectory()
    Path(bare_dir.name, "bare_app.py").write_text(BARE_APP)
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{bare_port}", "bare_app:app"],
                            cwd=bare_dir.name, env={**os.environ, "PYTHONPATH": bare_dir.name},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server.start()
        seed_users(server, args.users)
        wait_for(lambda: _ok(f"http://127.0.0.1:{bare_port}/bare"), timeout=20, message="bare server")
        token = server.token()
        auth = {"Authorization": f"Bearer {token}"}
        seed_clients(server, token, args.clients)
        total = httpx.get(f"{server.api}/users?size=20", headers=auth).json()["data"]["pagination"]["total"]
        clients = httpx.get(f"{server.api}/wireguard/clients?size=20", headers=auth).json()["data"]
        print(f"users in database: {total}, clients: {clients['pagination']['total']}")
        pid = server.procs[0].pid
        targets: list[Target] = [
            ("bare", bare_port, "/bare", {}, bare.pid),
            ("auth_me", server.port, "/api/v1/auth/me", auth, pid),
            ("users_first", server.port, "/api/v1/users?size=20", auth, pid),
            ("users_last", server.port, last_page(server, auth, "/users"), auth, pid),
            ("clients_first", server.port, "/api/v1/wireguard/clients?size=20", auth, pid),
            ("clients_last", server.port, last_page(server, auth, "/wireguard/clients"), auth, pid),
        ]
        rates, ratios, cpus, cpu_ratios = interleaved(targets, args.rounds, args.seconds, args.connections)
        for name, _port, path, _, _pid in targets:
            cpu = f"{cpus[name] * 1e6:7.0f} us CPU/request" if name in cpus else ""
            print(f"{name:<14} {rates[name]:10.1f} req/s {cpu}  (median of {args.rounds}; {path})")
        result: dict[str, object] = {f"{name}_vs_bare": ratio for name, ratio in ratios.items()}
        result.update({f"{name}_cpu_vs_bare": ratio for name, ratio in cpu_ratios.items()})
        result.update({f"{name}_rps": round(rps, 1) for name, rps in rates.items()})
        result.update({f"{name}_cpu_us": round(cpu * 1e6) for name, cpu in cpus.items()})
        result.update({"rounds": args.rounds, "users": total, "clients": clients["pagination"]["total"]})
        print(json.dumps(result))
    finally:
        bare.terminate()
        bare.wait(10)
        server.cleanup()
        bare_dir.cleanup()


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
