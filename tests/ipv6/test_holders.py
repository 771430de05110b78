"""One prefix, one holder; and a user's prefixes end with the account. Both backends.

A prefix delegated to a WireGuard client (holder ``wireguard.client:<id>``) is released only by
its holder: ``DELETE /ipv6/allocations/{id}`` answers 409 naming the holder and changes nothing,
so the prefix can never be given to someone else while it is still routed to the client.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from ipv6wgm.testing import ServerProcess

from .helpers import allocate, envelope, error, make_pool


def _wg_server(admin: httpx.Client) -> dict[str, Any]:
    port = 53100 + secrets.randbelow(800)
    return envelope(admin.post("/wireguard/servers", json={
        "name": f"h{port}", "listen_port": port, "ipv4_address": "10.67.0.1/24", "ipv6_address": "fd67::1/64",
        "endpoint": "vpn.example.com"}), 201)


def _held(admin: httpx.Client, client_id: int) -> list[dict[str, Any]]:
    found = envelope(admin.get("/ipv6/allocations", params={"holder": f"wireguard.client:{client_id}"}))
    return found["allocations"]


def test_held_allocation_is_released_only_by_its_holder(server: ServerProcess, admin_token: str,
                                                         admin: httpx.Client) -> None:
    pool = make_pool(admin)
    wg = _wg_server(admin)
    try:
        client = envelope(admin.post("/wireguard/clients", json={
            "name": f"deleg{secrets.token_hex(3)}", "server_id": wg["id"], "ipv6_pool_id": pool["id"]}), 201)
        [held] = _held(admin, client["id"])
        assert held["status"] == "active" and held["allocated_prefix"] == client["delegated_prefix"]

        err = error(admin.delete(f"/ipv6/allocations/{held['id']}"), 409, "RESOURCE_CONFLICT")
        assert err["details"]["holder"] == f"wireguard.client:{client['id']}", err
        assert f"wireguard.client:{client['id']}" in err["message"]
        assert envelope(admin.get(f"/ipv6/allocations/{held['id']}")) == held  # nothing changed
        assert envelope(admin.get(f"/ipv6/pools/{pool['id']}"))["allocated_prefixes"] == 1

        other = server.make_user(admin_token)  # nobody else gets the routed prefix
        with server.client(other["token"]) as c:
            taken = allocate(c, pool["id"], status=409, prefix=held["allocated_prefix"])
            assert taken["details"]["field"] == "prefix"
            error(c.delete(f"/ipv6/allocations/{held['id']}"), 404)  # not even visible to them
        assert envelope(admin.get(f"/wireguard/clients/{client['id']}"))["delegated_prefix"] == held[
            "allocated_prefix"]

        envelope(admin.delete(f"/wireguard/clients/{client['id']}"))  # the holder lets go
        released = envelope(admin.get(f"/ipv6/allocations/{held['id']}"))
        assert released["status"] == "quarantined" and released["released_at"]
        assert envelope(admin.get(f"/ipv6/pools/{pool['id']}"))["allocated_prefixes"] == 0
    finally:
        _cleanup(admin, wg, pool)


def _user_with_prefixes(server: ServerProcess, admin_token: str, admin: httpx.Client, pool: dict[str, Any],
                        wg: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    user = server.make_user(admin_token)
    with server.client(user["token"]) as c:
        own = [allocate(c, pool["id"], client_name=f"home{i}") for i in range(2)]
    # a delegated prefix is an operator's decision: the admin creates the user's client with it
    client = envelope(admin.post("/wireguard/clients", json={
        "name": f"acct{secrets.token_hex(3)}", "server_id": wg["id"], "ipv6_pool_id": pool["id"],
        "owner_id": user["id"]}), 201)
    [held] = _held(admin, client["id"])
    assert held["owner_id"] == user["id"] and all(a["owner_id"] == user["id"] for a in own)
    return user, own, held


def _holder_untouched_by_ipv6(admin: httpx.Client, held: dict[str, Any], client_id: int) -> None:
    """The holder's allocation follows its client: the WireGuard plugin decides about the client."""
    now = envelope(admin.get(f"/ipv6/allocations/{held['id']}"))
    client_exists = admin.get(f"/wireguard/clients/{client_id}").status_code == 200
    assert now["status"] == ("active" if client_exists else "quarantined"), (now, client_exists)
    assert now["owner_id"] is None


def test_deleted_account_releases_its_prefixes(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    pool = make_pool(admin)
    wg = _wg_server(admin)
    try:
        user, own, held = _user_with_prefixes(server, admin_token, admin, pool, wg)
        envelope(admin.delete(f"/users/{user['id']}"))
        for a in own:
            released = envelope(admin.get(f"/ipv6/allocations/{a['id']}"))
            assert released["status"] == "quarantined" and released["owner_id"] is None, released
        _holder_untouched_by_ipv6(admin, held, int(held["holder"].rsplit(":", 1)[1]))
        free = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
        assert free["quarantined_prefixes"] >= 2
    finally:
        _cleanup(admin, wg, pool)


def test_deleted_account_keeps_prefixes_when_asked(server: ServerProcess, admin_token: str,
                                                   admin: httpx.Client) -> None:
    pool = make_pool(admin)
    wg = _wg_server(admin)
    try:
        user, own, held = _user_with_prefixes(server, admin_token, admin, pool, wg)
        envelope(admin.delete(f"/users/{user['id']}", params={"keep_objects": "true"}))
        for a in own:
            kept = envelope(admin.get(f"/ipv6/allocations/{a['id']}"))
            assert kept["status"] == "active" and kept["owner_id"] is None, kept
            assert kept["allocated_prefix"] == a["allocated_prefix"]
        _holder_untouched_by_ipv6(admin, held, int(held["holder"].rsplit(":", 1)[1]))
        assert envelope(admin.get(f"/ipv6/pools/{pool['id']}"))["allocated_prefixes"] >= 2
    finally:
        _cleanup(admin, wg, pool)


def test_deactivation_leaves_prefixes_alone(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    pool = make_pool(admin)
    user = server.make_user(admin_token)
    with server.client(user["token"]) as c:
        mine = allocate(c, pool["id"])
    envelope(admin.put(f"/users/{user['id']}", json={"is_active": False}))
    envelope(admin.put(f"/users/{user['id']}", json={"is_active": True}))
    assert envelope(admin.get(f"/ipv6/allocations/{mine['id']}"))["status"] == "active"
    envelope(admin.delete(f"/users/{user['id']}"))
    assert envelope(admin.get(f"/ipv6/allocations/{mine['id']}"))["status"] == "quarantined"
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))


def _cleanup(admin: httpx.Client, wg: dict[str, Any], pool: dict[str, Any]) -> None:
    clients = envelope(admin.get("/wireguard/clients", params={"server_id": wg["id"], "size": 100}))
    for client in clients["clients"]:
        envelope(admin.delete(f"/wireguard/clients/{client['id']}"))
    envelope(admin.delete(f"/wireguard/servers/{wg['id']}"))
    for a in envelope(admin.get("/ipv6/allocations", params={"pool_id": pool["id"], "status": "active",
                                                              "size": 100}))["allocations"]:
        envelope(admin.delete(f"/ipv6/allocations/{a['id']}"))
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))
