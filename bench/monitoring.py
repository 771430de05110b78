"""Monitoring: stored-series queries that cost the same for a day as for an hour, and a
Prometheus scrape that does not grow with the number of WireGuard peers.

Runs a real server (SQLite, embedded jobs). The bench process plays a second writer on the same
database: it seeds 48 h of 10-second samples straight into the points table and runs the
rollups itself (the server's rollup cron would get there, a minute at a time), then times the
API. For the scrape it bulk-inserts WireGuard clients (10 API calls, then 9,990 rows) and waits
for the server's sampler to take a snapshot after each step.

Prints figures and, as its last line, one JSON object:
  query_24h_vs_1h               (target <= 2)
  metrics_10000_vs_10_peers     (target <= 1.5, per-peer export off)
  traffic_1y_vs_24h             (target <= 2: one client's history among 10,000 clients, each with
                                 a year of daily and a day of hourly rows)

    python bench/monitoring.py [--series 4] [--peers 10000] [--reps 15]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import time

import httpx

from ipv6wgm.testing import ServerProcess, wait_for

TOKEN = "bench-metrics-token-0123456789"
ENV = {"IPV6WGM_LOG_LEVEL": "WARNING", "IPV6WGM_MONITORING_SAMPLE_INTERVAL": "2",
       "IPV6WGM_MONITORING_EVALUATE_INTERVAL": "10", "IPV6WGM_MONITORING_ROLLUP_INTERVAL": "3600",
       "IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3600", "IPV6WGM_WIREGUARD_STATS_INTERVAL": "3600",
       "IPV6WGM_METRICS_TOKEN": TOKEN}
STEP_S = 10
SEED_HOURS = 48


def median_ms(func, reps: int) -> float:
    func()  # warm-up
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def seed_points(series: int, now: int) -> int:
    """``series`` series of ``bench.metric`` with a point every 10 s over the last 48 h."""
    from tortoise import connections

    from ipv6wgm.runtime import current
    from ipv6wgm_monitoring import store

    node = current().settings.node_id
    entries = {store.series_key(node, "bench.metric", {"i": str(i)}): ("bench.metric", {"i": str(i)}, "")
               for i in range(series)}
    ids = list((await store.series_ids(node, entries)).values())
    mark = "?" if current().settings.database_kind == "sqlite" else "%s"
    sql = f"INSERT INTO monitoring_points (series_id, ts, v) VALUES ({mark}, {mark}, {mark})"  # noqa: S608
    end = now - now % STEP_S
    stamps = range(end - SEED_HOURS * 3600, end, STEP_S)
    conn = connections.get("default")
    batch: list[list[float]] = []
    total = 0
    for ts in stamps:
        for n, sid in enumerate(ids):
            batch.append([sid, ts, float((ts // STEP_S + n) % 100)])
        if len(batch) >= 20_000:
            await conn.execute_many(sql, batch)
            total += len(batch)
            batch = []
    if batch:
        await conn.execute_many(sql, batch)
        total += len(batch)
    return total


async def roll_up() -> dict[str, int]:
    from tortoise.exceptions import IntegrityError, OperationalError

    from ipv6wgm_monitoring import store

    for _ in range(5):
        try:
            return await store.rollup(int(time.time()))
        except (IntegrityError, OperationalError):  # the server's own cron ran at the same moment
            await asyncio.sleep(1)  # (on SQLite: "database is locked" when it wrote in between)
    raise RuntimeError("rollups kept colliding")


async def seed_clients(server_id: int, count: int) -> None:
    from ipv6wgm_wireguard.addressing import Network
    from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

    server = await WireGuardServer.get(id=server_id)
    v4 = Network.of(server.ipv4_address)
    start = await WireGuardClient.filter(server_id=server_id).count() + 100
    rows = [WireGuardClient(server_id=server_id, name=f"bulk-{i}", ipv4_index=i, ipv4_address=v4.address(i),
                            public_key=base64.b64encode(os.urandom(32)).decode(), allowed_ips=["0.0.0.0/0"],
                            bytes_received=i * 1000, bytes_sent=i * 2000)
            for i in range(start, start + count)]
    await WireGuardClient.bulk_create(rows, batch_size=1000)
    await WireGuardServer.filter(id=server_id).update(next_v4=start + count)


def seed_traffic(server: ServerProcess, server_id: int) -> int:
    """A day of hourly and a year of daily rows for every client, written with sqlite3 directly."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    conn = sqlite3.connect(server.data_dir / "ipv6wgm.sqlite3")
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM wireguard_clients WHERE server_id = ?", (server_id,))]
        now = datetime.now(UTC)
        hour = now.replace(minute=0, second=0, microsecond=0)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        buckets = [(3600, str(hour - timedelta(hours=h))) for h in range(24)] + \
            [(86400, str(day - timedelta(days=d))) for d in range(365)]
        rows = ((cid, res, bucket, 1000 + cid, 2000 + cid) for cid in ids for res, bucket in buckets)
        conn.executemany("INSERT INTO wireguard_client_traffic (client_id, resolution, bucket, bytes_received, "
                         "bytes_sent) VALUES (?, ?, ?, ?, ?)", rows)
        conn.commit()
        return len(ids) * len(buckets)
    finally:
        conn.close()


def snapshot_time(server: ServerProcess) -> int:
    r = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    for line in r.text.splitlines():
        if line.startswith("ipv6wgm_node_last_sample_timestamp_seconds{"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def wait_for_fresh_snapshot(server: ServerProcess, after: float) -> None:
    wait_for(lambda: snapshot_time(server) > after + 1, timeout=120, interval=0.5,
             message="a snapshot taken after the seeding")


async def run(server: ServerProcess, args: argparse.Namespace) -> dict[str, float]:
    from ipv6wgm.bootstrap import session

    api = server.client(server.token())
    async with session():
        now = int(time.time())
        started = time.perf_counter()
        points = await seed_points(args.series, now)
        print(f"seeded {points:,} points ({args.series} series x {SEED_HOURS} h at {STEP_S} s) "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        rolled = await roll_up()
        print(f"rolled up in {time.perf_counter() - started:.1f} s: {rolled}", flush=True)

        def query(hours: int):
            def call() -> None:
                r = api.get("/monitoring/metrics", params={"name": "bench.metric", "from": str(now - hours * 3600),
                                                           "to": str(now)})
                assert r.status_code == 200, r.text
                assert len(r.json()["data"]["series"]) == args.series
            return call

        q1 = median_ms(query(1), args.reps)
        q24 = median_ms(query(24), args.reps)
        print(f"GET /monitoring/metrics, 1 h  ({args.series} series): {q1:8.2f} ms")
        print(f"GET /monitoring/metrics, 24 h ({args.series} series): {q24:8.2f} ms")

        srv = api.post("/wireguard/servers", json={"name": "monbench", "listen_port": 51998, "endpoint": "192.0.2.1",
                                                   "ipv4_address": "10.78.0.1/16"}).json()["data"]
        for i in range(10):
            r = api.post("/wireguard/clients", json={"name": f"api-{i}", "server_id": srv["id"]})
            assert r.status_code == 201, r.text

        scraper = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})  # one connection, as Prometheus keeps

        def scrape() -> None:
            r = scraper.get(f"{server.base}/metrics")
            assert r.status_code == 200 and "wireguard_sent_bytes_total" in r.text, r.text[:300]

        wait_for_fresh_snapshot(server, time.time())
        m10 = median_ms(scrape, args.reps)
        print(f"GET /metrics, 10 peers:      {m10:8.2f} ms", flush=True)
        started = time.perf_counter()
        await seed_clients(srv["id"], args.peers - 10)
        print(f"seeded {args.peers - 10:,} clients in {time.perf_counter() - started:.1f} s", flush=True)
        wait_for_fresh_snapshot(server, time.time())
        mn = median_ms(scrape, args.reps)
        print(f"GET /metrics, {args.peers:,} peers: {mn:8.2f} ms")
        scraper.close()

        started = time.perf_counter()
        seeded = seed_traffic(server, srv["id"])
        print(f"seeded {seeded:,} traffic rows in {time.perf_counter() - started:.1f} s", flush=True)
        client_id = api.get("/wireguard/clients", params={"server_id": srv["id"], "size": 1, "page": args.peers // 2}
                            ).json()["data"]["clients"][0]["id"]

        def history(span: str, buckets: int):
            def call() -> None:
                r = api.get(f"/wireguard/clients/{client_id}/traffic", params={"range": span})
                assert r.status_code == 200 and len(r.json()["data"]["points"]) == buckets, r.text[:300]
                assert r.json()["data"]["bytes_received"] > 0
            return call

        t24 = median_ms(history("24h", 24), args.reps)
        t1y = median_ms(history("1y", 365), args.reps)
        print(f"GET /wireguard/clients/{{id}}/traffic, 24h: {t24:8.2f} ms, 1y: {t1y:8.2f} ms")
    api.close()
    return {"query_24h_vs_1h": round(q24 / q1, 3), "metrics_10000_vs_10_peers": round(mn / m10, 3),
            "traffic_1y_vs_24h": round(t1y / t24, 3), "traffic_24h_ms": round(t24, 2), "traffic_1y_ms": round(t1y, 2),
            "query_1h_ms": round(q1, 2), "query_24h_ms": round(q24, 2), "metrics_10_ms": round(m10, 2),
            "metrics_10000_ms": round(mn, 2), "series": args.series, "peers": args.peers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=4)
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    server = ServerProcess(env=ENV)
    try:
        server.start()
        os.environ.update({k: v for k, v in server.env.items() if k.startswith("IPV6WGM_")})
        result = asyncio.run(run(server, args))
    finally:
        server.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
