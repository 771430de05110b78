"""Cron scopes with two gateway nodes (two ``ipv6wgm worker`` processes with different node ids)
on one Redis and one MariaDB: every node runs its node-scoped crons on every tick, and a
cluster-scoped cron runs once per tick across both."""

from __future__ import annotations

import time
from collections import Counter

import redis

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database

EVERY = 2


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
