"""API throughput against a bare Quart route on the same Hypercorn, in the same run.

Prints requests/second of ``GET /api/v1/auth/me`` and ``GET /api/v1/users?size=20`` (with
10,000 users in the database) and of a bare Quart JSON route, then, as its last line, one JSON
object of ratios (target: ``auth_me_vs_bare`` >= 0.5).

    python bench/api.py [--seconds 5] [--connections 16] [--users 10000]

The load generator is a small keep-alive HTTP/1.1 client in its own process, so the figures are
for one server process on this machine; what matters is the ratio, measured under the same
conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
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


async def _load(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> int:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode()
    deadline = time.monotonic() + seconds
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
    return sum(counts)


def _load_proc(args: tuple, out: multiprocessing.Queue) -> None:
    out.put(asyncio.run(_load(*args)))


def measure(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    """Requests per second; the client runs in its own process so it does not share a GIL."""
    asyncio.run(_load(port, path, headers, 0.5, connections))  # warm-up
    queue: multiprocessing.Queue = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_load_proc, args=((port, path, headers, seconds, connections), queue))
    started = time.monotonic()
    proc.start()
    count = queue.get()
    proc.join()
    return count / max(seconds, time.monotonic() - started - 0.0) if count else 0.0


def seed_users(server: ServerProcess, count: int) -> None:
    code = f'''
import asyncio
from ipv6wgm.bootstrap import build_runtime
from ipv6wgm.db import init_db, close_db
from ipv6wgm.settings import load_settings
from ipv6wgm.security.passwords import hash_password
from ipv6wgm.users.models import User

async def main():
    rt = build_runtime(load_settings())
    await init_db(rt.settings, rt.registry.models)
    digest = await hash_password("bench-password-1")
    batch = [User(username=f"bench_{{i:05d}}", email=f"bench_{{i}}@example.com", password_hash=digest,
                  role="user") for i in range({count})]
    await User.bulk_create(batch, batch_size=1000)
    await close_db()

asyncio.run(main())
'''
    subprocess.run([sys.executable, "-c", code], env=server.env, check=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=10_000)
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
        total = httpx.get(f"{server.api}/users?size=20", headers=auth).json()["data"]["pagination"]["total"]
        print(f"users in database: {total}")
        results = {}
        for name, port, path, headers in (
            ("bare", bare_port, "/bare", {}),
            ("auth_me", server.port, "/api/v1/auth/me", auth),
            ("users_page", server.port, "/api/v1/users?size=20&page=3", auth),
        ):
            results[name] = measure(port, path, headers, args.seconds, args.connections)
            print(f"{name:<12} {results[name]:10.1f} req/s  ({path})")
        ratios = {
            "auth_me_vs_bare": round(results["auth_me"] / results["bare"], 3),
            "users_page_vs_bare": round(results["users_page"] / results["bare"], 3),
            "bare_rps": round(results["bare"], 1),
            "auth_me_rps": round(results["auth_me"], 1),
            "users_page_rps": round(results["users_page"], 1),
            "users": total,
        }
        print(json.dumps(ratios))
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
