"""/ipv6 over real HTTP on SQLite and on MariaDB + Redis + worker: pools, reservations,
allocations, refusals that change nothing, per-object authorization."""

from __future__ import annotations

import ipaddress

import httpx

from ipv6wgm.testing import ServerProcess

from .helpers import allocate, envelope, error, make_pool, ula


def test_pool_crud_with_exact_counts(admin: httpx.Client) -> None:
    pool = make_pool(admin, prefix_length=64, length=32, description="big")
    assert pool["total_prefixes"] == 4_294_967_296 == pool["available_prefixes"]
    assert pool["allocated_prefixes"] == 0 and pool["utilization"] == 0.0 and pool["status"] == "active"
    assert envelope(admin.get(f"/ipv6/pools/{pool['id']}")) == pool
    listed = envelope(admin.get("/ipv6/pools", params={"size": 100}))
    assert pool["id"] in [p["id"] for p in listed["pools"]] and listed["pagination"]["total"] >= 1
    updated = envelope(admin.put(f"/ipv6/pools/{pool['id']}", json={"description": "changed", "announce": True}))
    assert updated["description"] == "changed" and updated["announce"] is True
    updated = envelope(admin.put(f"/ipv6/pools/{pool['id']}", json={"prefix_length": 56}))
    assert updated["total_prefixes"] == 2**24
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))
    error(admin.get(f"/ipv6/pools/{pool['id']}"), 404, "RESOURCE_NOT_FOUND")
    error(admin.delete(f"/ipv6/pools/{pool['id']}"), 404)


def test_bad_pool_input_is_refused_and_changes_nothing(admin: httpx.Client) -> None:
    existing = make_pool(admin)
    before = envelope(admin.get("/ipv6/pools"))["pagination"]["total"]
    base = ula()
    cases = [
        ({"prefix": "10.0.0.0/8", "prefix_length": 24}, 422, "prefix"),
        ({"prefix": base, "prefix_length": 129}, 422, None),
        ({"prefix": base, "prefix_length": 64, "extra": 1}, 422, None),
        ({"prefix": base, "prefix_length": "64"}, 422, None),
        ({"prefix": base.replace("::/48", "::1/48"), "prefix_length": 64}, 409, "prefix"),
        ({"prefix": base, "prefix_length": 40}, 409, "prefix_length"),
        ({"prefix": base, "prefix_length": 128}, 409, "prefix_length"),  # 2^80 units
        ({"prefix": "2001:db8::/33x", "prefix_length": 64}, 422, None),
        ({"prefix": existing["prefix"].replace("/48", "/56"), "prefix_length": 64}, 409, "prefix"),  # overlap
    ]
    for body, status, field in cases:
        err = error(admin.post("/ipv6/pools", json={"name": "bad-pool", **body}), status)
        if field is not None:
            assert err["details"]["field"] == field, err
    error(admin.post("/ipv6/pools", json={"name": existing["name"], "prefix": base, "prefix_length": 64}), 409)
    assert envelope(admin.get("/ipv6/pools"))["pagination"]["total"] == before


def test_allocation_lifecycle_reservation_exhaustion_quarantine(admin: httpx.Client) -> None:
    pool = make_pool(admin, prefix_length=64, length=62)  # four /64s
    units = [str(n) for n in ipaddress.IPv6Network(pool["prefix"]).subnets(new_prefix=64)]
    reservation = envelope(admin.post(f"/ipv6/pools/{pool['id']}/reservations",
                                      json={"prefix": units[0], "description": "infra"}),
                           201)
    assert reservation["reserved_prefixes"] == 1
    first = allocate(admin, pool["id"], description="first")
    assert first["allocated_prefix"] == units[1]  # the reserved first /64 is skipped
    second = allocate(admin, pool["id"])
    assert first["status"] == "active" and first["owner_id"] is not None and first["prefix_length"] == 64
    free = set(units[1:]) - {first["allocated_prefix"], second["allocated_prefix"]}
    assert len(free) == 1 and len({first["allocated_prefix"], second["allocated_prefix"]}) == 2
    reserved_prefix = units[0]
    # a requested prefix: taken, reserved, outside, wrong length, host bits -> 409, nothing changes
    for prefix in (first["allocated_prefix"], reserved_prefix, "2001:db8::/64", free.copy().pop().replace("/64", "/63"),
                   free.copy().pop().replace("::/64", "::1/64")):
        err = allocate(admin, pool["id"], status=409, prefix=prefix)
        assert err["details"].get("field") == "prefix", err
    allocate(admin, pool["id"], status=409, prefix_length=56)
    error(admin.post("/ipv6/allocations", json={"pool_id": 2**40, "client_name": "x"}), 404)
    error(admin.post("/ipv6/allocations", json={"pool_id": pool["id"]}), 422)
    assert envelope(admin.get(f"/ipv6/pools/{pool['id']}"))["allocated_prefixes"] == 2
    third = allocate(admin, pool["id"], prefix=free.pop(), prefix_length=64)
    err = allocate(admin, pool["id"], status=409)
    assert "exhausted" in err["message"]
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    assert (counts["total_prefixes"], counts["allocated_prefixes"], counts["reserved_prefixes"],
            counts["available_prefixes"], counts["utilization"]) == (4, 3, 1, 0, 100.0)
    error(admin.delete(f"/ipv6/pools/{pool['id']}"), 409)

    released = envelope(admin.delete(f"/ipv6/allocations/{third['id']}"))
    assert released["status"] == "quarantined" and released["quarantine_until"] and released["released_at"]
    assert envelope(admin.delete(f"/ipv6/allocations/{third['id']}"))["status"] == "quarantined"  # idempotent
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    assert (counts["allocated_prefixes"], counts["quarantined_prefixes"], counts["available_prefixes"]) == (2, 1, 0)
    allocate(admin, pool["id"], status=409)  # the released prefix is in quarantine, not handed out
    err = allocate(admin, pool["id"], status=409, prefix=third["allocated_prefix"])
    assert "quarantine" in err["message"]

    error(admin.post(f"/ipv6/pools/{pool['id']}/reservations", json={"prefix": first["allocated_prefix"]}), 409)
    error(admin.post(f"/ipv6/pools/{pool['id']}/reservations", json={"prefix": reserved_prefix}), 409)
    error(admin.put(f"/ipv6/pools/{pool['id']}", json={"prefix_length": 63}), 409)
    listed = envelope(admin.get(f"/ipv6/pools/{pool['id']}/reservations"))["reservations"]
    assert [r["id"] for r in listed] == [reservation["id"]]
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}/reservations/{reservation['id']}"))
    assert envelope(admin.get(f"/ipv6/pools/{pool['id']}"))["reserved_prefixes"] == 0
    assert allocate(admin, pool["id"])["allocated_prefix"] == reserved_prefix

    for allocation in envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"],
                                                                      "status": "active"}))["allocations"]:
        envelope(admin.delete(f"/ipv6/allocations/{allocation['id']}"))
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))
    error(admin.get(f"/ipv6/allocations/{first['id']}"), 404)


def test_disabled_pool_and_expiry_validation(admin: httpx.Client) -> None:
    pool = make_pool(admin, status="disabled")
    assert "disabled" in allocate(admin, pool["id"], status=409)["message"]
    envelope(admin.put(f"/ipv6/pools/{pool['id']}", json={"status": "active"}))
    err = allocate(admin, pool["id"], status=409, expires_at="2000-01-01T00:00:00Z")
    assert err["details"]["field"] == "expires_at"
    allocate(admin, pool["id"], status=422, expires_at="yesterday")
    allocation = allocate(admin, pool["id"], expires_at="2099-01-01T00:00:00+01:00")
    assert allocation["expires_at"] == "2098-12-31T23:00:00Z"


def test_list_filters(admin: httpx.Client) -> None:
    pool = make_pool(admin)
    other = make_pool(admin)
    a = allocate(admin, pool["id"], client_name="alpha")
    allocate(admin, pool["id"], client_name="beta")
    allocate(admin, other["id"], client_name="alpha")
    envelope(admin.delete(f"/ipv6/allocations/{a['id']}"))
    by_pool = envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"]}))
    assert by_pool["pagination"]["total"] == 2
    active = envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"], "status": "active"}))
    assert [x["client_name"] for x in active["allocations"]] == ["beta"]
    quarantined = envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"], "status": "quarantined"}))
    assert [x["id"] for x in quarantined["allocations"]] == [a["id"]]
    named = envelope(admin.get("/ipv6/allocations", params={"client_name": "alpha", "pool_id": other["id"]}))
    assert named["pagination"]["total"] == 1
    assert envelope(admin.get("/ipv6/allocations", params={"holder": "nobody:1"}))["allocations"] == []
    error(admin.get("/ipv6/allocations", params={"status": "gone"}), 422)


def test_users_see_only_their_own(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    pool = make_pool(admin)
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    manager = server.make_user(admin_token, role="manager")
    with server.client(alice["token"]) as a, server.client(bob["token"]) as b, \
            server.client(manager["token"]) as m:
        mine = allocate(a, pool["id"], client_name="alice-laptop")
        assert mine["owner_id"] == alice["id"]
        envelope(a.get(f"/ipv6/pools/{pool['id']}"))
        error(a.post("/ipv6/pools", json={"name": "nope", "prefix": ula(), "prefix_length": 64}), 403)
        error(a.delete(f"/ipv6/pools/{pool['id']}"), 403)
        error(b.get(f"/ipv6/allocations/{mine['id']}"), 404)
        error(b.delete(f"/ipv6/allocations/{mine['id']}"), 404)
        assert mine["id"] not in [x["id"] for x in envelope(b.get("/ipv6/allocations"))["allocations"]]
        assert [x["id"] for x in envelope(a.get("/ipv6/allocations"))["allocations"]] == [mine["id"]]
        assert envelope(m.get(f"/ipv6/allocations/{mine['id']}"))["id"] == mine["id"]
        assert envelope(a.get(f"/ipv6/allocations/{mine['id']}"))["status"] == "active"
        assert envelope(a.delete(f"/ipv6/allocations/{mine['id']}"))["status"] == "quarantined"
    error(httpx.get(f"{server.api}/ipv6/pools"), 401)
