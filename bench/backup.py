"""Backup and restore at 10,000 WireGuard clients and 100,000 IPv6 allocations, against the
engines' own dump tools on the same tables in the same run.

For each engine a real server (no worker) creates the schema and a WireGuard server and an IPv6
pool through the API and is stopped; the bench then bulk-inserts the rows and, in its own
runtime (``ipv6wgm.bootstrap.session``), times:
- backup: ``service.create`` (every table, JSONL, gzip) vs ``mysqldump`` of the database
  (MariaDB) or ``sqlite3 .dump`` (SQLite), both writing a file;
- restore: verification (every member hashed against the manifest) plus the one-transaction
  restore vs ``mysql < dump`` (MariaDB: drops and reloads every table) or ``sqlite3 < dump`` into
  a fresh file (SQLite).

Prints figures and, as its last line, one JSON object (targets: each ratio <= 3):
  mysql_backup_vs_mysqldump, mysql_restore_vs_mysql_reload,
  sqlite_backup_vs_sqlite_dump, sqlite_restore_vs_sqlite_reload

    python bench/backup.py [--clients 10000] [--allocations 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ipv6wgm.testing import ServerProcess, mysql_database

QUIET = {"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3600", "IPV6WGM_WIREGUARD_STATS_INTERVAL": "3600",
         "IPV6WGM_LOG_LEVEL": "WARNING", "IPV6WGM_MONITORING_SAMPLE_INTERVAL": "3600",
         "IPV6WGM_BGP_COLLECT_INTERVAL": "3600"}


def prepare(server: ServerProcess) -> tuple[int, int]:
    """A WireGuard server and an IPv6 pool through the API; returns their ids."""
    api = server.client(server.token())
    srv = api.post("/wireguard/servers", json={
        "name": "bkbench", "listen_port": 51998, "ipv4_address": "10.64.0.1/10", "ipv6_address": "fd64::1/64",
        "endpoint": "192.0.2.1"}).json()["data"]
    pool = api.post("/ipv6/pools", json={"name": "bkbench", "prefix": "fd00:bb::/32", "prefix_length": 64})
    assert pool.status_code == 201, pool.text
    return srv["id"], pool.json()["data"]["id"]


async def seed(server_id: int, pool_id: int, clients: int, allocations: int) -> None:
    from wireguard import seed as seed_clients  # bench/wireguard.py: the same bulk clients

    from ipv6wgm_ipv6.models import Allocation, Pool

    await seed_clients(server_id, clients)
    base = ipaddress.IPv6Network("fd00:bb::/32")
    step = 1 << 64
    allocs = [Allocation(pool_id=pool_id, slot=slot, client_name=f"c{slot}",
                         prefix=str(ipaddress.IPv6Network((int(base.network_address) + slot * step, 64))))
              for slot in range(allocations)]
    await Allocation.bulk_create(allocs, batch_size=2000)
    await Pool.filter(id=pool_id).update(allocated_count=allocations, next_hint=allocations)


async def noop(step: str, percent: int) -> None:
    return None


async def timed_backup(path: Path) -> float:
    from ipv6wgm_backup import service

    started = time.perf_counter()
    result = await service.create(path, name="bench", backup_type="full", passphrase=None, metadata={},
                                  progress=noop)
    elapsed = time.perf_counter() - started
    print(f"  backup: {result['rows']} rows in {result['tables']} tables, {result['size'] / 1e6:.1f} MB gzip, "
          f"{elapsed:.2f} s")
    return elapsed


async def timed_restore(path: Path) -> float:
    from ipv6wgm_backup import service

    started = time.perf_counter()
    manifest = await asyncio.to_thread(service.verify_members, path)
    older = await service.check_schema(manifest)
    result = await service.restore(path, manifest, older, noop)
    elapsed = time.perf_counter() - started
    print(f"  restore (verify + one transaction): {result['rows']} rows, {elapsed:.2f} s")
    return elapsed


def timed(args: list[str], *, stdin: Path | None = None, stdout: Path | None = None) -> float:
    started = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as src, \
            open(stdout, "wb") if stdout else open(os.devnull, "wb") as dst:
        subprocess.run(args, stdin=src, stdout=dst, check=True)
    return time.perf_counter() - started


async def measure(engine: str, server: ServerProcess, workdir: Path, args: argparse.Namespace) -> dict[str, float]:
    from ipv6wgm.bootstrap import session
    from ipv6wgm.settings import load_settings

    ids = prepare(server)
    server.stop()
    os.environ.update({k: v for k, v in server.env.items() if k.startswith("IPV6WGM_")})
    if engine == "sqlite":
        os.environ.pop("IPV6WGM_DATABASE_URL", None)
    async with session(load_settings()):
        print(f"{engine}: seeding {args.clients} clients and {args.allocations} allocations ...", flush=True)
        await seed(*ids, args.clients, args.allocations)
        archive = workdir / f"{engine}.tar.gz"
        ours_backup = await timed_backup(archive)
        ours_restore = await timed_restore(archive)
    dump = workdir / f"{engine}.sql"
    if engine == "mysql":
        url = urlparse(server.env["IPV6WGM_DATABASE_URL"])
        conn = ["-h", url.hostname or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.username or "root"]
        db = url.path.lstrip("/")
        ref_backup = timed(["mysqldump", *conn, "--single-transaction", db], stdout=dump)
        ref_restore = timed(["mysql", *conn, db], stdin=dump)
        names = ("mysqldump", "mysql < dump")
    else:
        database = server.data_dir / "ipv6wgm.sqlite3"
        ref_backup = timed(["sqlite3", str(database), ".dump"], stdout=dump)
        ref_restore = timed(["sqlite3", str(workdir / "reload.sqlite3")], stdin=dump)
        names = ("sqlite3 .dump", "sqlite3 < dump")
    print(f"  {names[0]}: {ref_backup:.2f} s ({dump.stat().st_size / 1e6:.1f} MB)   {names[1]}: {ref_restore:.2f} s")
    return {"backup": ours_backup / ref_backup, "restore": ours_restore / ref_restore,
            "backup_s": ours_backup, "restore_s": ours_restore, "ref_backup_s": ref_backup,
            "ref_restore_s": ref_restore}


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bkbench-") as tmp:
        if engine == "sqlite":
            server = ServerProcess(env=QUIET, netns=False)
            try:
                server.start()
                return asyncio.run(measure(engine, server, Path(tmp), args))
            finally:
                server.cleanup()
        with mysql_database() as url:
            server = ServerProcess(env=QUIET, database_url=url, netns=False)
            try:
                server.start()
                return asyncio.run(measure(engine, server, Path(tmp), args))
            finally:
                server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--allocations", type=int, default=100_000)
    parser.add_argument("--engine", choices=("mysql", "sqlite"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:  # one engine per process: Tortoise keeps the first engine's SQL dialect
        print(json.dumps(run_engine(args.engine, args)))
        return
    results = {}
    for engine in ("mysql", "sqlite"):
        proc = subprocess.run([sys.executable, __file__, "--engine", engine, "--clients", str(args.clients),
                               "--allocations", str(args.allocations)], capture_output=True, text=True, check=False)
        print(proc.stdout.rsplit("\n", 2)[0], flush=True)
        if proc.returncode != 0:
            raise SystemExit(f"{engine} run failed:\n{proc.stderr[-4000:]}")
        results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {
        "mysql_backup_vs_mysqldump": round(results["mysql"]["backup"], 2),
        "mysql_restore_vs_mysql_reload": round(results["mysql"]["restore"], 2),
        "sqlite_backup_vs_sqlite_dump": round(results["sqlite"]["backup"], 2),
        "sqlite_restore_vs_sqlite_reload": round(results["sqlite"]["restore"], 2),
        **{f"{e}_{k}": round(v, 3) for e, r in results.items() for k, v in r.items() if k.endswith("_s")},
        "clients": args.clients, "allocations": args.allocations,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
