"""WebSocket events of the ipv6 channel reach the allocation's owner and ``ipv6.all`` holders only."""

from __future__ import annotations

import httpx
from websockets.sync.client import connect

from ipv6wgm.testing import ServerProcess, assert_no_message, recv_until, ws_url

from .helpers import allocate, envelope, make_pool


def test_allocation_and_release_events(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    pool = make_pool(admin)
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    with connect(ws_url(server, token=admin_token, channels="ipv6")) as admin_ws, \
            connect(ws_url(server, "/ws/ipv6", token=alice["token"])) as alice_ws, \
            connect(ws_url(server, token=bob["token"], channels="ipv6")) as bob_ws:
        for ws in (admin_ws, alice_ws, bob_ws):
            assert "ipv6" in recv_until(ws, "connected")["data"]["channels"]
        with server.client(alice["token"]) as a:
            mine = allocate(a, pool["id"], client_name="alice-phone")
            msg = recv_until(alice_ws, "ipv6_allocation", predicate=lambda d: d["id"] == mine["id"])["data"]
            assert msg["event"] == "allocated" and msg["allocated_prefix"] == mine["allocated_prefix"]
            assert msg["owner_id"] == alice["id"] and msg["pool_id"] == pool["id"]
            seen = recv_until(admin_ws, "ipv6_allocation", predicate=lambda d: d["id"] == mine["id"])["data"]
            assert seen["event"] == "allocated"
            envelope(a.delete(f"/ipv6/allocations/{mine['id']}"))
        released = recv_until(alice_ws, "ipv6_allocation", predicate=lambda d: d["event"] == "released")["data"]
        assert released["id"] == mine["id"] and released["status"] == "quarantined"
        assert released["reason"] == "released"
        recv_until(admin_ws, "ipv6_allocation", predicate=lambda d: d["event"] == "released" and d["id"] == mine["id"])
        assert_no_message(bob_ws, "ipv6_allocation", wait=1.5)
