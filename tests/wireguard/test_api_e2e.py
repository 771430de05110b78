"""End to end through the API, in network namespaces, with wireguard-go on both sides.

The server's data plane lives in the test server's own namespace; a second namespace plays the
client, joined by a veth, and brings the generated config up with wireguard-go and
``wg setconf`` after ``wg-quick strip`` — exactly what a user would do with the download.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from ipv6wgm.testing import ServerProcess, recv_until, running_server, wait_for, ws_url

FAST = {"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3", "IPV6WGM_WIREGUARD_STATS_INTERVAL": "2"}


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=60)


def ping(ns: str, address: str) -> bool:
    return sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", address, check=False).returncode == 0


@pytest.fixture(params=["sqlite", "mysql"])
def wg_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    with running_server(request.param, env=FAST) as server:
        yield server


@pytest.fixture()
def client_ns(wg_server: ServerProcess) -> Iterator[str]:
    """A client namespace joined to the server's namespace by a veth (10.99.1.0/24)."""
    ns = f"wgt-c{secrets.token_hex(3)}"
    veth = f"wgtv{secrets.token_hex(3)}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"{veth}s", "netns", wg_server.netns, "type", "veth", "peer", "name", f"{veth}c",
           "netns", ns)
        sh("ip", "-n", wg_server.netns, "addr", "add", "10.99.1.1/24", "dev", f"{veth}s")
        sh("ip", "-n", wg_server.netns, "link", "set", f"{veth}s", "up")
        sh("ip", "-n", ns, "addr", "add", "10.99.1.2/24", "dev", f"{veth}c")
        sh("ip", "-n", ns, "link", "set", f"{veth}c", "up")
        yield ns
    finally:
        for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            sh("kill", "-9", pid, check=False)
        sh("ip", "netns", "del", ns, check=False)


def bring_up(ns: str, config: str, workdir: Path, iface: str = "wgc0") -> None:
    """What a user does with the downloaded file, minus wg-quick's own ip calls."""
    path = workdir / f"{iface}.conf"
    path.write_text(config)
    stripped = sh("wg-quick", "strip", str(path)).stdout
    (workdir / "stripped.conf").write_text(stripped)
    sh("ip", "netns", "exec", ns, "wireguard-go", iface)
    sh("ip", "netns", "exec", ns, "wg", "setconf", iface, str(workdir / "stripped.conf"))
    addresses = next(line.split("=", 1)[1] for line in config.splitlines() if line.startswith("Address"))
    for address in addresses.split(","):
        sh("ip", "-n", ns, "addr", "add", address.strip(), "dev", iface)
    sh("ip", "-n", ns, "link", "set", iface, "up")
    sh("ip", "-n", ns, "route", "add", "10.77.0.0/24", "dev", iface)
    sh("ip", "-n", ns, "-6", "route", "add", "fd77::/64", "dev", iface)


def test_tunnel_end_to_end(wg_server: ServerProcess, client_ns: str, tmp_path: Path) -> None:
    token = wg_server.token()
    api = wg_server.client(token)
    r = api.post("/wireguard/servers", json={
        "name": "wge2e", "listen_port": 51820, "ipv4_address": "10.77.0.1/24", "ipv6_address": "fd77::1/64",
        "endpoint": "10.99.1.1", "is_active": True})
    assert r.status_code == 201, r.text
    server = r.json()["data"]
    assert server["status"] == "running" and server["started_at"]
    r = api.post("/wireguard/clients", json={"name": "laptop", "server_id": server["id"]})
    assert r.status_code == 201, r.text
    client = r.json()["data"]
    assert client["qr_code"].startswith("data:image/png;base64,") and client["private_key"]
    assert client["ipv4_address"] == "10.77.0.2/32" and client["ipv6_address"] == "fd77::2/128"
    cid = client["id"]

    bring_up(client_ns, client["config"], tmp_path)
    wait_for(lambda: ping(client_ns, "10.77.0.1"), timeout=20, message="IPv4 ping through the tunnel")
    assert ping(client_ns, "fd77::1"), "IPv6 ping through the tunnel"

    assert api.post(f"/wireguard/clients/{cid}/disable").json()["data"]["status"] == "disabled"
    wait_for(lambda: not ping(client_ns, "10.77.0.1"), timeout=20, message="ping to fail once disabled")
    assert api.post(f"/wireguard/clients/{cid}/enable").status_code == 200
    wait_for(lambda: ping(client_ns, "10.77.0.1"), timeout=20, message="ping again once enabled")

    sh("ip", "netns", "exec", wg_server.netns, "wg", "set", "wge2e", "peer", client["public_key"], "remove")
    assert client["public_key"] not in sh("ip", "netns", "exec", wg_server.netns, "wg", "show", "wge2e",
                                          "peers").stdout
    wait_for(lambda: client["public_key"] in sh("ip", "netns", "exec", wg_server.netns, "wg", "show", "wge2e",
                                                "peers").stdout, timeout=15, message="reconcile to restore the peer")
    wait_for(lambda: ping(client_ns, "10.77.0.1"), timeout=20, message="ping after the reconcile")

    def observed() -> dict | None:
        data = api.get(f"/wireguard/clients/{cid}").json()["data"]
        ok = data["last_handshake"] and data["endpoint"] and data["bytes_received"] > 0 and data["bytes_sent"] > 0
        return data if ok else None

    data = wait_for(observed, timeout=30, message="handshake and counters in the API")
    assert data["status"] == "active" and data["endpoint"].startswith("10.99.1.2:")

    # an interface deleted by hand is recreated, and the byte totals survive the restart
    sh("ip", "-n", wg_server.netns, "link", "del", "wge2e")
    wait_for(lambda: "wge2e" in sh("ip", "-n", wg_server.netns, "link", "show", check=False).stdout, timeout=15,
             message="reconcile to recreate the interface")
    wait_for(lambda: ping(client_ns, "10.77.0.1"), timeout=30, message="ping through the recreated interface")
    after = wait_for(lambda: (d := api.get(f"/wireguard/clients/{cid}").json()["data"])["bytes_received"]
                     > data["bytes_received"] and d, timeout=30, message="totals keep growing after the restart")
    assert after["bytes_sent"] >= data["bytes_sent"]
    peers = api.get(f"/wireguard/servers/{server['id']}/peers").json()["data"]["peers"]
    assert [p["client_id"] for p in peers] == [cid] and peers[0]["bytes_received"] > 0

    # the stored history holds exactly the totals (the re-created interface did not count twice)
    def history_matches(span: str) -> dict | None:
        totals = api.get(f"/wireguard/clients/{cid}").json()["data"]
        history = api.get(f"/wireguard/clients/{cid}/traffic", params={"range": span}).json()["data"]
        same = (history["bytes_received"], history["bytes_sent"]) == (totals["bytes_received"], totals["bytes_sent"])
        return history if same else None

    for span, resolution, buckets in (("24h", "1h", 24), ("7d", "1h", 168), ("30d", "1d", 30), ("1y", "1d", 365)):
        history = wait_for(lambda span=span: history_matches(span), timeout=30, message=f"{span} history = totals")
        assert history["resolution"] == resolution and len(history["points"]) == buckets
        assert history["points"][-1]["bytes_received"] > 0 and all(p["bytes_sent"] >= 0 for p in history["points"])
    assert api.get(f"/wireguard/clients/{cid}/traffic", params={"range": "2h"}).status_code == 422

    with connect(ws_url(wg_server, "/ws/wireguard/status", token=token)) as ws:
        msg = recv_until(ws, "wireguard_status", predicate=lambda d: any(
            s["bytes_received"] > 0 for s in d.get("servers", [])))
        assert msg["data"]["servers"][0]["id"] == server["id"]
    user = wg_server.make_user(token)
    with wg_server.client(user["token"]) as mine:
        assert mine.get(f"/wireguard/clients/{cid}").status_code == 404
        assert mine.get(f"/wireguard/clients/{cid}/config").status_code == 404
        assert mine.get(f"/wireguard/clients/{cid}/traffic").status_code == 404


def test_other_peers_keep_their_session(wg_server: ServerProcess, client_ns: str, tmp_path: Path) -> None:
    api = wg_server.client(wg_server.token())
    server = api.post("/wireguard/servers", json={
        "name": "wgkeep", "listen_port": 51821, "ipv4_address": "10.77.0.1/24", "ipv6_address": "fd77::1/64",
        "endpoint": "10.99.1.1:51821", "is_active": True}).json()["data"]
    first = api.post("/wireguard/clients", json={"name": "first", "server_id": server["id"]}).json()["data"]
    bring_up(client_ns, first["config"], tmp_path)
    wait_for(lambda: ping(client_ns, "10.77.0.1"), timeout=20, message="first client up")

    def handshake() -> float:
        dump = sh("ip", "netns", "exec", wg_server.netns, "wg", "show", "wgkeep", "latest-handshakes").stdout
        return float(dict(line.split("\t") for line in dump.strip().splitlines())[first["public_key"]])

    before = handshake()
    assert before > 0
    for i in range(3):
        r = api.post("/wireguard/clients", json={"name": f"other{i}", "server_id": server["id"]})
        assert r.status_code == 201
    other = r.json()["data"]
    assert api.put(f"/wireguard/clients/{other['id']}", json={"allowed_ips": ["10.0.0.0/8"]}).status_code == 200
    assert api.post(f"/wireguard/clients/{other['id']}/disable").status_code == 200
    assert api.delete(f"/wireguard/clients/{other['id']}").status_code == 200
    wait_for(lambda: len(sh("ip", "netns", "exec", wg_server.netns, "wg", "show", "wgkeep", "peers")
                         .stdout.split()) == 3, timeout=15, message="three peers")
    time.sleep(1)
    assert handshake() == before, "adding/removing other peers must not reset this peer's session"
    assert ping(client_ns, "10.77.0.1")
    pids = sh("ip", "netns", "pids", wg_server.netns).stdout.split()
    assert pids, "the interface was never restarted: its wireguard-go is still the same process"
    json.dumps(pids)


def test_delegated_prefix_is_routed_through_the_tunnel(wg_server: ServerProcess, client_ns: str,
                                                       tmp_path: Path) -> None:
    """IPv6 plugin + WireGuard plugin, meeting through the ``ipv6.delegation`` service."""
    api = wg_server.client(wg_server.token())
    pool = api.post("/ipv6/pools", json={"name": "customers", "prefix": "fd55::/48", "prefix_length": 64})
    assert pool.status_code == 201, pool.text
    server = api.post("/wireguard/servers", json={
        "name": "wgdel", "listen_port": 51822, "ipv4_address": "10.77.0.1/24", "ipv6_address": "fd77::1/64",
        "endpoint": "10.99.1.1:51822", "is_active": True}).json()["data"]
    r = api.post("/wireguard/clients", json={"name": "router", "server_id": server["id"],
                                              "ipv6_pool_id": pool.json()["data"]["id"]})
    assert r.status_code == 201, r.text
    client = r.json()["data"]
    prefix = client["delegated_prefix"]
    assert prefix and prefix.startswith("fd55:") and prefix.endswith("/64")
    assert f"Routed prefix delegated to this client: {prefix}" in client["config"]
    allocations = api.get("/ipv6/allocations", params={"holder": f"wireguard.client:{client['id']}"}).json()
    assert [a["allocated_prefix"] for a in allocations["data"]["allocations"]] == [prefix]

    def server_routes() -> str:
        return sh("ip", "-n", wg_server.netns, "-6", "route", "show", "dev", "wgdel").stdout

    wait_for(lambda: prefix in server_routes(), timeout=15, message="route for the delegated prefix")
    bring_up(client_ns, client["config"], tmp_path)
    source = prefix.split("/")[0] + "10"
    sh("ip", "-n", client_ns, "-6", "addr", "add", f"{source}/128", "dev", "wgc0")
    wait_for(lambda: sh("ip", "netns", "exec", client_ns, "ping", "-c", "1", "-W", "1", "-I", source, "fd77::1",
                        check=False).returncode == 0, timeout=20, message="ping from the delegated prefix")

    assert api.delete(f"/wireguard/clients/{client['id']}").status_code == 200
    wait_for(lambda: prefix not in server_routes(), timeout=15, message="route removed with the client")
    released = api.get("/ipv6/allocations", params={"holder": f"wireguard.client:{client['id']}"}).json()
    assert all(a["status"] != "active" for a in released["data"]["allocations"])
