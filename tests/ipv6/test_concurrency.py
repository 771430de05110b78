"""200 concurrent allocations from one pool: 200 distinct prefixes, consistent counts, no 5xx —
on SQLite and on MariaDB (pool-row lock + unique constraint + retry)."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx

from ipv6wgm.testing import ServerProcess

from .helpers import envelope, make_pool

N = 200


async def _burst(server: ServerProcess, token: str, bodies: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=N, max_keepalive_connections=N)
    async with httpx.AsyncClient(base_url=server.api, headers={"Authorization": f"Bearer {token}"},
                                 timeout=120, limits=limits) as client:
        return await asyncio.gather(*(client.post("/ipv6/allocations", json=b) for b in bodies))


def test_200_concurrent_allocations_are_distinct(server: ServerProcess, admin_token: str,
                                                 admin: httpx.Client) -> None:
    pool = make_pool(admin, prefix_length=64, length=32)
    responses = asyncio.run(_burst(server, admin_token,
                                   [{"pool_id": pool["id"], "client_name": f"c{i}"} for i in range(N)]))
    statuses = [r.status_code for r in responses]
    assert statuses == [201] * N, [r.text for r in responses if r.status_code != 201][:5]
    prefixes = [r.json()["data"]["allocated_prefix"] for r in responses]
    assert len(set(prefixes)) == N
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    assert counts["allocated_prefixes"] == N and counts["available_prefixes"] == 2**32 - N
    listed = envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"], "status": "active"}))
    assert listed["pagination"]["total"] == N

    # releases racing with new allocations: the counters still match the rows
    ids = [r.json()["data"]["id"] for r in responses[: N // 2]]
    mixed = asyncio.run(_mixed(server, admin_token, pool["id"], ids))
    assert [r.status_code for r in mixed] == [200] * len(ids) + [201] * len(ids)
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    active = envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"], "status": "active"}))
    quarantined = envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"], "status": "quarantined"}))
    assert counts["allocated_prefixes"] == active["pagination"]["total"] == N
    assert counts["quarantined_prefixes"] == quarantined["pagination"]["total"] == N // 2
    assert counts["available_prefixes"] == 2**32 - N - N // 2
    new = {r.json()["data"]["allocated_prefix"] for r in mixed[len(ids):]}
    assert len(new) == len(ids) and not new & set(prefixes)


async def _mixed(server: ServerProcess, token: str, pool_id: int, release_ids: list[int]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=server.api, headers={"Authorization": f"Bearer {token}"},
                                 timeout=120, limits=httpx.Limits(max_connections=N)) as client:
        releases = [client.delete(f"/ipv6/allocations/{i}") for i in release_ids]
        creates = [client.post("/ipv6/allocations", json={"pool_id": pool_id, "client_name": f"m{i}"})
                   for i in range(len(release_ids))]
        return await asyncio.gather(*releases, *creates)


def test_concurrent_exhaustion_and_same_prefix(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    pool = make_pool(admin, prefix_length=64, length=59)  # 32 units for 60 requests
    responses = asyncio.run(_burst(server, admin_token,
                                   [{"pool_id": pool["id"], "client_name": f"c{i}"} for i in range(60)]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 32 + [409] * 28, statuses
    assert all("exhausted" in r.json()["error"]["message"] for r in responses if r.status_code == 409)
    assert len({r.json()["data"]["allocated_prefix"] for r in responses if r.status_code == 201}) == 32
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    assert (counts["allocated_prefixes"], counts["available_prefixes"], counts["utilization"]) == (32, 0, 100.0)

    other = make_pool(admin)
    wanted = str(list(ipaddress.IPv6Network(other["prefix"]).subnets(new_prefix=64))[5])
    responses = asyncio.run(_burst(server, admin_token, [{"pool_id": other["id"], "client_name": f"c{i}",
                                                          "prefix": wanted} for i in range(20)]))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert envelope(admin.get(f"/ipv6/pools/{other['id']}"))["allocated_prefixes"] == 1
