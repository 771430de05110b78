"""Access ends with the account, on SQLite and on MariaDB + Redis + worker, checked on the live
interface in the test server's namespace (``wg show``): deactivation takes every peer of that
user off within the one apply the API waits for, reactivation puts back what was enabled,
deletion removes clients, peers, routes and prefixes (or keeps them disabled and ownerless)."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, wait_for

from .helpers import make_pool, make_server, peers, wg


@pytest.fixture()
def api(server: ServerProcess, admin_token: str):
    with server.client(admin_token) as client:
        yield client


def create(token_client: httpx.Client, server_id: int, name: str, **extra: object) -> dict:
    r = token_client.post("/wireguard/clients", json={"name": name, "server_id": server_id, **extra})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def routes(server: ServerProcess, interface: str) -> str:
    return subprocess.run(["ip", "-n", server.netns, "-6", "route", "show", "dev", interface], capture_output=True,
                          text=True, check=True).stdout


def test_deactivation_and_reactivation(server: ServerProcess, api: httpx.Client, admin_token: str) -> None:
    srv = make_server(api, is_active=True)
    iface = srv["interface"]
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    with server.client(alice["token"]) as a, server.client(bob["token"]) as b:
        a1, a2 = create(a, srv["id"], "a1"), create(a, srv["id"], "a2")
        a3 = create(a, srv["id"], "a3", enabled=False)  # the owner's own choice survives reactivation
        b1 = create(b, srv["id"], "b1")
    keys = {c["public_key"] for c in (a1, a2, b1)}
    wait_for(lambda: keys <= peers(server, iface), timeout=10, message="peers applied")

    r = api.put(f"/users/{alice['id']}", json={"is_active": False})
    assert r.status_code == 200, r.text
    wait_for(lambda: not {a1["public_key"], a2["public_key"]} & peers(server, iface), timeout=1,
             message="alice's peers off within the apply the API waited for")
    assert b1["public_key"] in peers(server, iface), "other users' peers stay"
    shown = api.get(f"/wireguard/clients/{a1['id']}").json()["data"]
    assert (shown["enabled"], shown["status"], shown["disabled_reason"]) == (True, "account_disabled",
                                                                             "account_disabled")
    assert api.get(f"/wireguard/clients/{b1['id']}").json()["data"]["disabled_reason"] is None

    # a lost job cannot bring them back: the desired state itself follows the account
    wg(server, "set", iface, "peer", a1["public_key"], "allowed-ips", "10.66.0.250/32")
    wait_for(lambda: a1["public_key"] not in peers(server, iface), timeout=40, message="reconcile removes it")

    assert api.put(f"/users/{alice['id']}", json={"is_active": True}).status_code == 200
    live = peers(server, iface)
    assert {a1["public_key"], a2["public_key"], b1["public_key"]} <= live and a3["public_key"] not in live
    assert api.get(f"/wireguard/clients/{a3['id']}").json()["data"]["disabled_reason"] == "owner"
    assert api.get(f"/wireguard/clients/{a1['id']}").json()["data"]["status"] in ("active", "inactive")


def test_deletion_removes_or_keeps(server: ServerProcess, api: httpx.Client, admin_token: str) -> None:
    srv = make_server(api, is_active=True)
    iface = srv["interface"]
    pool = make_pool(api)
    carol, dave, erin = (server.make_user(admin_token) for _ in range(3))
    with server.client(carol["token"]) as c:
        c1 = create(c, srv["id"], "c1")
    c2 = create(api, srv["id"], "c2", owner_id=carol["id"], ipv6_pool_id=pool["id"])  # operators delegate prefixes
    with server.client(dave["token"]) as d:
        d1 = create(d, srv["id"], "d1")
    with server.client(erin["token"]) as e:
        e1 = create(e, srv["id"], "e1")
    prefix = c2["delegated_prefix"]
    wait_for(lambda: {c1["public_key"], c2["public_key"], d1["public_key"], e1["public_key"]} <= peers(server, iface)
             and prefix in routes(server, iface), timeout=10, message="peers and route applied")

    assert api.delete(f"/users/{carol['id']}").status_code == 200
    live = peers(server, iface)
    assert c1["public_key"] not in live and c2["public_key"] not in live and e1["public_key"] in live
    assert prefix not in routes(server, iface)
    for client in (c1, c2):
        assert api.get(f"/wireguard/clients/{client['id']}").status_code == 404
    allocations = api.get("/ipv6/allocations", params={"holder": f"wireguard.client:{c2['id']}"}).json()["data"]
    assert allocations["allocations"] and all(a["status"] != "active" for a in allocations["allocations"])

    assert api.delete(f"/users/{dave['id']}", params={"keep_objects": "true"}).status_code == 200
    kept = api.get(f"/wireguard/clients/{d1['id']}").json()["data"]
    assert (kept["owner_id"], kept["enabled"], kept["status"], kept["disabled_reason"]) == \
        (None, False, "disabled", "owner_deleted")
    assert d1["public_key"] not in peers(server, iface) and e1["public_key"] in peers(server, iface)
    # only an operator brings a kept client back
    assert api.post(f"/wireguard/clients/{d1['id']}/enable").status_code == 200
    wait_for(lambda: d1["public_key"] in peers(server, iface), timeout=10, message="kept client re-enabled")
