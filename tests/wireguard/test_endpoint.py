"""A server created as in the spec (no endpoint) gets one: IPV6WGM_WIREGUARD_ENDPOINT, else the
node's primary address from its default route (found by the node, in its data-plane namespace),
and the client config says which; 409 only when there is no address at all. A server created
with ``is_active`` whose start fails is kept (201) in status ``error`` with the failed step."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, running_server, wait_for

from .helpers import next_port


def ns(server: ServerProcess, *args: str) -> None:
    subprocess.run(["ip", "-n", server.netns, *args], check=True, capture_output=True)


def test_endpoint_defaults_to_the_nodes_address(server: ServerProcess, admin: httpx.Client) -> None:
    port = next_port()
    body = {"name": f"ep{port}", "listen_port": port, "ipv4_address": "10.9.0.1/24"}  # the spec's shape
    srv = admin.post("/wireguard/servers", json=body)
    assert srv.status_code == 201, srv.text
    srv = srv.json()["data"]
    assert srv["endpoint"] is None and srv["endpoint_detected"] is None  # the namespace has no default route
    refused = admin.post("/wireguard/clients", json={"name": "c", "server_id": srv["id"]})
    assert refused.status_code == 409 and refused.json()["error"]["details"]["field"] == "endpoint"

    dummy = f"up{port}"
    ns(server, "link", "add", dummy, "type", "veth", "peer", "name", f"{dummy}p")  # no dummy module here
    try:
        ns(server, "link", "set", f"{dummy}p", "up")
        ns(server, "link", "set", dummy, "up")
        ns(server, "addr", "add", "198.51.100.7/24", "dev", dummy)
        ns(server, "route", "add", "default", "dev", dummy)
        ns(server, "addr", "add", "2a01:4f8:1:2::7/64", "dev", dummy, "nodad")
        ns(server, "-6", "route", "add", "default", "dev", dummy)
        # clearing the endpoint of a stopped server asks its node again
        updated = admin.put(f"/wireguard/servers/{srv['id']}", json={"endpoint": None}).json()["data"]
        assert updated["endpoint_detected"] == "2a01:4f8:1:2::7"  # IPv6 first
        assert dummy in updated["endpoint_detected_from"]
        client = admin.post("/wireguard/clients", json={"name": "c", "server_id": srv["id"]})
        assert client.status_code == 201, client.text
        config = client.json()["data"]["config"]
        assert f"Endpoint = [2a01:4f8:1:2::7]:{port}\n" in config
        assert f"# Endpoint from the node's primary IPv6 address (default route via {dummy})\n" in config

        ns(server, "-6", "route", "del", "default", "dev", dummy)
        again = admin.put(f"/wireguard/servers/{srv['id']}", json={"endpoint": None}).json()["data"]
        assert again["endpoint_detected"] == "198.51.100.7"  # no IPv6 default route: the IPv4 one
        config = admin.get(f"/wireguard/clients/{client.json()['data']['id']}/config").text
        assert f"Endpoint = 198.51.100.7:{port}\n" in config

        # an explicit endpoint wins, and the config says so
        admin.put(f"/wireguard/servers/{srv['id']}", json={"endpoint": "vpn.example.net"})
        config = admin.get(f"/wireguard/clients/{client.json()['data']['id']}/config").text
        assert f"Endpoint = vpn.example.net:{port}\n" in config and "# Endpoint from the server's endpoint\n" in config
    finally:
        ns(server, "link", "del", dummy)


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_setting_wins_and_failed_start_on_create_keeps_the_row(backend: str, tmp_path) -> None:
    env = {"IPV6WGM_WIREGUARD_ENDPOINT": "gw.example.org", "IPV6WGM_WIREGUARD_BACKEND": "userspace",
           "IPV6WGM_WIREGUARD_WIREGUARD_GO": str(tmp_path / "no-such-wireguard-go"),
           "IPV6WGM_BGP_BIRD_BINARY": str(tmp_path / "no-such-bird")}
    with running_server(backend, env=env) as srv_proc, srv_proc.client(srv_proc.token()) as c:
        r = c.post("/wireguard/servers", json={"name": "wgf1", "ipv4_address": "10.4.0.1/24", "is_active": True})
        assert r.status_code == 201, r.text
        created = r.json()
        assert "could not apply" in created["message"]
        data = created["data"]
        assert data["is_active"] is True and data["status"] == "error"
        assert data["status_detail"].startswith("create interface")
        assert c.post("/wireguard/servers", json={"name": "wgf1", "ipv4_address": "10.4.0.1/24"}).status_code == 409
        client = c.post("/wireguard/clients", json={"name": "c1", "server_id": data["id"]}).json()["data"]
        assert "Endpoint = gw.example.org:51820\n" in client["config"]
        assert "# Endpoint from IPV6WGM_WIREGUARD_ENDPOINT\n" in client["config"]

        # the detailed health names what each node lacks (recorded by the node's own crons)
        def lacking() -> dict | None:
            health = c.get("/status/health/detailed").json()["data"]["components"]
            found = {name: health[name].get("missing_tools") for name in ("wireguard", "bgp")}
            return found if all(found.values()) else None

        found = wait_for(lacking, timeout=30, message="missing tools in the detailed health")
        node = data["node_id"]
        assert found["wireguard"] == {node: [env["IPV6WGM_WIREGUARD_WIREGUARD_GO"]]}
        assert found["bgp"] == {node: [env["IPV6WGM_BGP_BIRD_BINARY"]]}
