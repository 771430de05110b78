"""The embedded default (SQLite, no Redis): the cluster is this one node, its leader; and what
the /cluster routes refuse (bad input changes nothing, never a 500; permissions per role)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ipv6wgm.testing import ServerProcess, hostile_variants
from ipv6wgm.validation import unsafe_char


@pytest.fixture(scope="module")
def embedded() -> Iterator[ServerProcess]:
    proc = ServerProcess(netns=False, env={"IPV6WGM_CLUSTER_HEARTBEAT_INTERVAL": "0.5",
                                           "IPV6WGM_CLUSTER_HEARTBEAT_TTL": "2", "IPV6WGM_CLUSTER_LEASE_TTL": "2"})
    try:
        yield proc.start()
    finally:
        print(proc.logs())
        proc.cleanup()


@pytest.mark.hooks("startup", "shutdown", "health_components")
def test_embedded_server_is_the_one_node_and_its_leader(embedded: ServerProcess) -> None:
    node = embedded.env["IPV6WGM_NODE_ID"]
    with embedded.client(embedded.token()) as c:
        status = c.get("/cluster/status").json()["data"]
        assert status["mode"] == "embedded" and status["is_leader"] is True and status["leader"] == node
        assert status["current_node_id"] == node and status["total_nodes"] == status["healthy_nodes"] == 1
        assert status["epoch"] >= 1 and status["load_balancer"]["strategy"] == "round_robin"
        [only] = status["nodes"]
        assert {"api", "gateway"} <= set(only["capabilities"]) and only["is_leader"] is True
        assert only["port"] == embedded.port and only["last_heartbeat"].endswith("Z")
        health = c.get("/status/health/detailed").json()["data"]
        assert "cluster" in str(health)
        # a server placed by the strategy lands on the only node
        r = c.post("/wireguard/servers", json={"name": "clemb", "listen_port": 53900, "ipv4_address": "10.96.0.1/24",
                                               "endpoint": "gw.example.net"})
        assert r.status_code == 201 and r.json()["data"]["node_id"] == node, r.text
        assert c.delete(f"/wireguard/servers/{r.json()['data']['id']}").status_code == 200


def test_bad_input_is_refused_and_changes_nothing(embedded: ServerProcess) -> None:
    with embedded.client(embedded.token()) as c:
        before = c.get("/cluster/nodes").json()["data"]
        for bad in hostile_variants("node1"):
            r = c.post("/cluster/nodes", json={"id": bad, "host": "127.0.0.1"})
            assert r.status_code == 422, (bad, r.text)
        for bad in hostile_variants("gw.example.net"):
            r = c.post("/cluster/nodes", json={"id": "okid", "host": bad})
            assert r.status_code == 422, (bad, r.text)
            if unsafe_char(bad) is not None:  # metadata is free text, without control characters
                r = c.post("/cluster/nodes", json={"id": "okid", "host": "gw.example.net", "metadata": {"k": bad}})
                assert r.status_code == 422, (bad, r.text)
        for body in ({"id": "okid", "host": "h", "port": 0}, {"id": "okid", "host": "h", "weight": 101},
                     {"id": "okid", "host": "h", "capabilities": ["root"]}, {"id": "okid", "host": "h", "x": 1},
                     {"id": "okid", "host": "h", "port": "80"}, {"id": "okid", "host": "fe80::1%eth0"}):
            assert c.post("/cluster/nodes", json=body).status_code == 422, body
        assert [n["id"] for n in c.get("/cluster/nodes").json()["data"]] == [n["id"] for n in before]
        assert c.put("/cluster/nodes/nope/weight", json={"weight": 2}).status_code == 404
        assert c.put(f"/cluster/nodes/{before[0]['id']}/weight", json={"weight": -1}).status_code == 422
        r = c.put("/cluster/load-balancer/weights", json={"node_weights": {"ghost": 2}})
        assert r.status_code == 409 and c.get("/cluster/load-balancer").json()["data"]["node_weights"] == {
            n["id"]: n["weight"] for n in before}
        assert c.post("/cluster/nodes/nope/drain").status_code == 404
        assert c.delete("/cluster/nodes/nope").status_code == 404
        r = c.post("/cluster/nodes", json={"id": "dup", "host": "2001:DB8::1", "port": 8080})
        assert r.status_code == 201 and r.json()["data"]["node"]["host"] == "2001:db8::1"
        assert c.post("/cluster/nodes", json={"id": "dup", "host": "::1"}).status_code == 409


def test_only_admins_change_the_cluster_managers_read_it(embedded: ServerProcess) -> None:
    admin = embedded.token()
    manager = embedded.make_user(admin, role="manager")
    user = embedded.make_user(admin, role="user")
    with embedded.client(manager["token"]) as c:
        assert c.get("/cluster/status").status_code == 200
        assert c.put("/cluster/load-balancer/strategy", params={"strategy": "weighted"}).status_code == 403
        assert c.post("/cluster/nodes", json={"id": "mgr", "host": "127.0.0.1"}).status_code == 403
    with embedded.client(user["token"]) as c:
        assert c.get("/cluster/status").status_code == 403
        assert c.get("/cluster/nodes").status_code == 403
    with embedded.client() as c:
        assert c.get("/cluster/status").status_code == 401
