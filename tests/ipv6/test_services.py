"""The services other plugins use (delegation, announcements) and the metrics hook, called the
way another plugin would: from a process with its own runtime on the same database."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from ipv6wgm.testing import ServerProcess

from .helpers import envelope, error, make_pool

SCRIPT = r'''
import asyncio, json, sys
from ipv6wgm.api import ApiError
from ipv6wgm.bootstrap import session

async def main(pool_id, small_id, user_id):
    out = {}
    async with session() as rt:
        svc = rt.services["ipv6.delegation"]
        out["first"] = await svc.delegate(pool_id=pool_id, prefix_length=64, holder="wireguard.client:42",
                                          owner_id=user_id, description="delegated")
        out["again"] = await svc.delegate(pool_id=pool_id, prefix_length=None, holder="wireguard.client:42",
                                          owner_id=user_id)
        out["other"] = await svc.delegate(pool_id=pool_id, prefix_length=None, holder="wireguard.client:43",
                                          owner_id=None)
        errors = []
        for kwargs in ({"pool_id": 2**40, "prefix_length": None}, {"pool_id": pool_id, "prefix_length": 56},
                       {"pool_id": small_id, "prefix_length": None}):
            try:
                await svc.delegate(holder=f"wireguard.client:{len(errors) + 100}", owner_id=None, **kwargs)
                errors.append(None)
            except ApiError as exc:
                errors.append(exc.status)
        out["errors"] = errors
        hostile = []
        for kwargs in ({"holder": "wireguard.client:1\n"}, {"holder": "wireguard.client:1%x"}, {"holder": ""},
                       {"holder": "wireguard.client:1\u2028"}, {"holder": "ok:1", "description": "a\u2029b"}):
            try:
                await svc.delegate(pool_id=pool_id, prefix_length=None, owner_id=None, **kwargs)
                hostile.append(None)
            except ApiError as exc:
                hostile.append([exc.status, exc.details["field"]])
        out["hostile"] = hostile
        await svc.release(out["other"][0])
        await svc.release(out["other"][0])
        await svc.release(2**40)
        out["announced"] = await rt.services["ipv6.announcements"].prefixes()
        metrics = []
        for _name, impl, _args in rt.plugins.implementations("collect_metrics"):
            if _name == "ipv6":
                await impl(emit=lambda n, v, tags=None, unit=None: metrics.append([n, v, tags, unit]))
        out["metrics"] = metrics
    print(json.dumps(out))

asyncio.run(main(*map(int, sys.argv[1:4])))
'''


def _run(server: ServerProcess, *args: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, args)], env=server.env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.hooks("register_services")
def test_delegation_announcements_metrics(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    pool = make_pool(admin, announce=True)
    small = make_pool(admin, prefix_length=64, length=64)
    envelope(admin.post("/ipv6/allocations", json={"pool_id": small["id"], "client_name": "fills-it"}), 201)
    hidden = make_pool(admin, announce=True, status="disabled")
    user = server.make_user(admin_token)
    out = _run(server, pool["id"], small["id"], user["id"])
    first_id, first_prefix = out["first"]
    assert out["again"] == out["first"] and out["other"][1] != first_prefix
    assert out["errors"] == [404, 422, 409]
    assert out["hostile"] == [[422, "holder"]] * 4 + [[422, "description"]]
    assert pool["prefix"] in out["announced"] and hidden["prefix"] not in out["announced"]
    assert small["prefix"] not in out["announced"]

    delegated = envelope(admin.get(f"/ipv6/allocations/{first_id}"))
    assert delegated["holder"] == "wireguard.client:42" and delegated["allocated_prefix"] == first_prefix
    assert delegated["owner_id"] == user["id"] and delegated["description"] == "delegated"
    by_holder = envelope(admin.get("/ipv6/allocations", params={"holder": "wireguard.client:42"}))["allocations"]
    assert [a["id"] for a in by_holder] == [first_id]
    with server.client(user["token"]) as c:
        assert envelope(c.get(f"/ipv6/allocations/{first_id}"))["id"] == first_id
        error(c.get(f"/ipv6/allocations/{out['other'][0]}"), 404)  # no owner: only ipv6.all sees it
    assert envelope(admin.get(f"/ipv6/allocations/{out['other'][0]}"))["status"] == "quarantined"
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    assert (counts["allocated_prefixes"], counts["quarantined_prefixes"]) == (1, 1)

    util = {m[2]["pool_id"]: m[1] for m in out["metrics"] if m[0] == "ipv6.pool.utilization"}
    assert util[str(small["id"])] == 100.0 and util[str(pool["id"])] == 0.003  # 2 of 65,536 (allocated + quarantined)
    units = {m[3] for m in out["metrics"]}
    assert units == {"percent", "count"}
