"""Cost of one IPv6 allocation in a /32 -> /64 pool holding 100,000 allocations vs an empty one.

Runs the plugin's real allocation path (pool-row lock, indexed slot search, insert under the
unique constraint, counters, event) in-process against a fresh SQLite database, or MariaDB with
``--mysql``. The full pool is filled in bulk with the slots the allocator would have handed out
(0..N-1, hint at N). Prints the figures, then, as its last line, one JSON object:
``alloc_at_100000_vs_at_0`` (target <= 2), ``alloc_ms`` (mean per allocation, full pool) and,
for information, ``wrap_ms``: the first allocation after the hint wrapped to a full run of N
slots, the one case that walks the index (once; the hint then moves past the run).

    python bench/ipv6.py [--allocations 300] [--fill 100000] [--mysql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time


async def _time_allocations(service: object, pool_id: int, count: int) -> list[float]:
    samples = []
    for i in range(count):
        start = time.perf_counter()
        await service.allocate(pool_id, client_name=f"bench-{i}")  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _fill(pool_id: int, count: int) -> None:
    from ipv6wgm_ipv6.allocator import geometry
    from ipv6wgm_ipv6.models import Allocation, Pool

    pool = await Pool.get(id=pool_id)
    geo = geometry(pool)
    batch = 5000
    for first in range(0, count, batch):
        rows = [Allocation(pool_id=pool_id, slot=s, prefix=geo.prefix_of(s), client_name=f"fill-{s}")
                for s in range(first, min(count, first + batch))]
        await Allocation.bulk_create(rows)
    await Pool.filter(id=pool_id).update(allocated_count=count, next_hint=count)


async def run(args: argparse.Namespace) -> dict[str, float]:
    from ipv6wgm.bootstrap import session

    async with session(migrate=True):
        from ipv6wgm_ipv6 import service
        from ipv6wgm_ipv6.models import Pool

        empty = await Pool.create(name="bench-empty", prefix="2001:db8::/32", prefix_length=64)
        full = await Pool.create(name="bench-full", prefix="2001:db9::/32", prefix_length=64)
        wrap = await Pool.create(name="bench-wrap", prefix="2001:dba::/32", prefix_length=64)
        started = time.perf_counter()
        await _fill(full.id, args.fill)
        await _fill(wrap.id, args.fill)
        await Pool.filter(id=wrap.id).update(next_hint=0)
        print(f"filled two pools with {args.fill:,} allocations each in {time.perf_counter() - started:.1f}s")
        await _time_allocations(service, empty.id, 20)  # warm-up: connections, statement caches
        at_0 = await _time_allocations(service, empty.id, args.allocations)
        at_n = await _time_allocations(service, full.id, args.allocations)
        wrap_ms = (await _time_allocations(service, wrap.id, 1))[0]
        after_wrap = await _time_allocations(service, wrap.id, 20)
    mean_0, mean_n = statistics.fmean(at_0), statistics.fmean(at_n)
    print(f"empty pool:      mean {mean_0:.2f} ms, median {statistics.median(at_0):.2f} ms "
          f"({args.allocations} allocations)")
    print(f"{args.fill:,} allocated: mean {mean_n:.2f} ms, median {statistics.median(at_n):.2f} ms")
    print(f"after a wrap onto a run of {args.fill:,}: first {wrap_ms:.1f} ms, "
          f"then mean {statistics.fmean(after_wrap):.2f} ms")
    return {"alloc_at_100000_vs_at_0": round(mean_n / mean_0, 3), "alloc_ms": round(mean_n, 3),
            "alloc_ms_empty": round(mean_0, 3), "wrap_ms": round(wrap_ms, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allocations", type=int, default=300)
    parser.add_argument("--fill", type=int, default=100_000)
    parser.add_argument("--mysql", action="store_true", help="use a fresh MariaDB database instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ipv6wgm-bench-") as tmp:
        os.environ.update({"IPV6WGM_DATA_DIR": tmp, "IPV6WGM_DISABLED_PLUGINS": "wireguard,bgp",
                           "IPV6WGM_LOG_LEVEL": "WARNING"})
        os.environ.pop("IPV6WGM_REDIS_URL", None)
        if args.mysql:
            from ipv6wgm.testing import mysql_database

            with mysql_database() as url:
                os.environ["IPV6WGM_DATABASE_URL"] = url
                result = asyncio.run(run(args))
        else:
            os.environ.pop("IPV6WGM_DATABASE_URL", None)
            result = asyncio.run(run(args))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
