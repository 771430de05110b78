"""The WireGuard API on SQLite and on MariaDB + Redis + worker: CRUD, addressing, keys,
validation, concurrency, ownership, config/QR downloads, export/import, quotas and expiry."""

from __future__ import annotations

import base64
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, running_server, wait_for
from ipv6wgm_wireguard import keys

from .helpers import make_server, next_port, wg


@pytest.fixture()
def api(server: ServerProcess, admin_token: str):
    with server.client(admin_token) as client:
        yield client


def test_server_crud_and_no_private_keys_in_lists(api: httpx.Client) -> None:
    created = make_server(api, dns_servers=["2001:4860:4860::8888"], mtu=1420)
    assert keys.public_key_from_private(created["private_key"]) == created["public_key"]
    assert created["status"] == "stopped" and created["clients_count"] == 0
    listing = api.get("/wireguard/servers", params={"status": "stopped"}).json()["data"]
    assert any(s["id"] == created["id"] for s in listing["servers"])
    assert "private_key" not in str(listing) and created["private_key"] not in api.get(
        f"/wireguard/servers/{created['id']}").text
    updated = api.put(f"/wireguard/servers/{created['id']}", json={"mtu": 1380, "endpoint": "[2001:db8::9]:443"})
    assert updated.status_code == 200 and updated.json()["data"]["mtu"] == 1380
    assert api.post("/wireguard/servers", json={"name": "dup", "listen_port": created["listen_port"],
                                                 "ipv4_address": "10.1.0.1/24"}).status_code == 409
    assert api.delete(f"/wireguard/servers/{created['id']}").status_code == 200
    assert api.get(f"/wireguard/servers/{created['id']}").status_code == 404


@pytest.mark.parametrize("body", [
    {"name": "bad\nname", "ipv4_address": "10.0.0.1/24"},
    {"name": "semi;colon", "ipv4_address": "10.0.0.1/24"},
    {"name": "ok1", "interface": "wg0;rm -rf", "ipv4_address": "10.0.0.1/24"},
    {"name": "ok2", "interface": "waytoolonginterface", "ipv4_address": "10.0.0.1/24"},
    {"name": "ok3", "ipv4_address": "10.0.0.0/24"},
    {"name": "ok4", "ipv4_address": "300.0.0.1/24"},
    {"name": "ok5", "ipv6_address": "10.0.0.1/24"},
    {"name": "ok6", "ipv4_address": "10.0.0.1/24", "listen_port": 70000},
    {"name": "ok7", "ipv4_address": "10.0.0.1/24", "dns_servers": ["8.8.8.8\nPostUp = evil"]},
    {"name": "ok8", "ipv4_address": "10.0.0.1/24", "endpoint": "host name"},
    {"name": "ok9", "ipv4_address": "10.0.0.1/24", "mtu": 100},
    {"name": "ok10"},
])
def test_bad_server_input_is_422_and_changes_nothing(api: httpx.Client, body: dict) -> None:
    before = api.get("/wireguard/servers").json()["data"]["pagination"]["total"]
    r = api.post("/wireguard/servers", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR" and r.json()["error"]["details"]["field"]
    assert api.get("/wireguard/servers").json()["data"]["pagination"]["total"] == before


def test_client_addressing_keys_and_bad_input(api: httpx.Client) -> None:
    srv = make_server(api)
    first = api.post("/wireguard/clients", json={"name": "a", "server_id": srv["id"]}).json()["data"]
    assert first["ipv4_address"] == "10.66.0.2/32" and first["ipv6_address"] == "fd66::2/128"
    assert keys.public_key_from_private(first["private_key"]) == first["public_key"]
    assert "PresharedKey = " in first["config"] and "Endpoint = vpn.example.com:" in first["config"]
    fixed = api.post("/wireguard/clients", json={"name": "b", "server_id": srv["id"], "ipv4_address": "10.66.0.50",
                                                  "ipv6_address": "fd66::50/128"})
    assert fixed.status_code == 201 and fixed.json()["data"]["ipv4_address"] == "10.66.0.50/32"
    taken = api.post("/wireguard/clients", json={"name": "c", "server_id": srv["id"], "ipv4_address": "10.66.0.50"})
    assert taken.status_code == 409
    for bad in ({"ipv4_address": "10.9.9.9"}, {"ipv4_address": "10.66.0.1"}, {"ipv4_address": "10.66.0.255"},
                {"ipv6_address": "2001:db8::1"}, {"public_key": "not-a-key"}, {"public_key": "A" * 43 + "="},
                {"allowed_ips": ["10.0.0.1/8"]}, {"name": "x\ny"}, {"name": "x;y"}, {"server_id": 999999}):
        r = api.post("/wireguard/clients", json={"name": "bad", "server_id": srv["id"], **bad})
        assert r.status_code in (404, 409, 422), (bad, r.text)
    own_key = keys.public_key_from_private(keys.generate_private_key())
    byo = api.post("/wireguard/clients", json={"name": "byo", "server_id": srv["id"], "public_key": own_key,
                                                "preshared_key": False}).json()["data"]
    assert byo["private_key"] is None and byo["has_private_key"] is False
    assert "# PrivateKey = <" in byo["config"] and "PresharedKey" not in byo["config"]
    clients = api.get("/wireguard/clients", params={"server_id": srv["id"]}).json()["data"]
    assert clients["pagination"]["total"] == 3
    assert all("private_key" not in c for c in clients["clients"]) and first["private_key"] not in str(clients)


def test_concurrent_client_creation(server: ServerProcess, api: httpx.Client, admin_token: str) -> None:
    srv = make_server(api)

    def create(i: int) -> httpx.Response:
        with server.client(admin_token) as c:
            return c.post("/wireguard/clients", json={"name": f"c{i}", "server_id": srv["id"]})

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(create, range(100)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201][:3]
    v4 = {r.json()["data"]["ipv4_address"] for r in responses}
    v6 = {r.json()["data"]["ipv6_address"] for r in responses}
    assert len(v4) == 100 and len(v6) == 100 and "10.66.0.1/32" not in v4


def test_exhaustion_is_409(api: httpx.Client) -> None:
    srv = make_server(api, ipv4_address="10.55.0.1/29", ipv6_address=None)
    made = [api.post("/wireguard/clients", json={"name": f"x{i}", "server_id": srv["id"]}) for i in range(6)]
    assert [r.status_code for r in made[:5]] == [201] * 5
    assert made[5].status_code == 409 and "no free address" in made[5].json()["error"]["message"]
    api.delete(f"/wireguard/clients/{made[2].json()['data']['id']}")
    again = api.post("/wireguard/clients", json={"name": "reuse", "server_id": srv["id"]})
    assert again.status_code == 201 and again.json()["data"]["ipv4_address"] == made[2].json()["data"]["ipv4_address"]


def test_downloads_ownership_and_user_scope(server: ServerProcess, api: httpx.Client, admin_token: str) -> None:
    srv = make_server(api)
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    with server.client(alice["token"]) as a, server.client(bob["token"]) as b:
        mine = a.post("/wireguard/clients", json={"name": "alice-phone", "server_id": srv["id"]})
        assert mine.status_code == 201
        cid = mine.json()["data"]["id"]
        cfg = a.get(f"/wireguard/clients/{cid}/config")
        assert cfg.status_code == 200 and cfg.headers["content-type"].startswith("text/plain")
        assert "attachment" in cfg.headers["content-disposition"] and "PrivateKey = " in cfg.text
        qr = a.get(f"/wireguard/clients/{cid}/qr")
        assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")
        assert mine.json()["data"]["qr_code"] == "data:image/png;base64," + base64.b64encode(qr.content).decode()
        for path in (f"/wireguard/clients/{cid}", f"/wireguard/clients/{cid}/config", f"/wireguard/clients/{cid}/qr"):
            assert b.get(path).status_code == 404
        assert b.post(f"/wireguard/clients/{cid}/disable").status_code == 404
        assert all(c["owner_id"] == bob["id"] for c in b.get("/wireguard/clients").json()["data"]["clients"])
        assert b.post("/wireguard/clients", json={"name": "steal", "server_id": srv["id"],
                                                  "owner_id": alice["id"]}).status_code == 403
        assert b.get("/wireguard/servers").status_code == 403
        assert b.post("/wireguard/servers", json={"name": "mine", "ipv4_address": "10.1.0.1/24"}).status_code == 403
    assert api.get(f"/wireguard/clients/{cid}").json()["data"]["owner_id"] == alice["id"]


def test_export_and_import_round_trip(api: httpx.Client) -> None:
    srv = make_server(api)
    for name in ("one", "two"):
        api.post("/wireguard/clients", json={"name": name, "server_id": srv["id"]})
    exported = api.get(f"/wireguard/servers/{srv['id']}/export")
    assert exported.status_code == 200 and f"PrivateKey = {srv['private_key']}" in exported.text
    assert exported.text.count("[Peer]") == 2
    bad = api.post("/wireguard/servers/import", json={"name": "imp-bad", "config": "[Interface]\nPostUp = rm\n"})
    assert bad.status_code == 422
    port = next_port()
    text = exported.text.replace(f"ListenPort = {srv['listen_port']}", f"ListenPort = {port}")
    r = api.post("/wireguard/servers/import", json={"name": f"imp{port}", "config": text})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["clients_imported"] == 2 and data["server"]["public_key"] == srv["public_key"]
    imported = api.get("/wireguard/clients", params={"server_id": data["server"]["id"]}).json()["data"]["clients"]
    assert sorted(c["name"] for c in imported) == ["one", "two"]
    assert all(not c["has_private_key"] and c["has_preshared_key"] for c in imported)


def test_quota_and_expiry_take_the_peer_off(server: ServerProcess, api: httpx.Client) -> None:
    srv = make_server(api, is_active=True)
    assert srv["status"] == "running"
    expired = api.post("/wireguard/clients", json={"name": "late", "server_id": srv["id"],
                                                    "expires_at": "2000-01-01T00:00:00Z"}).json()["data"]
    capped = api.post("/wireguard/clients", json={"name": "capped", "server_id": srv["id"],
                                                   "quota_bytes": 0}).json()["data"]
    live = api.post("/wireguard/clients", json={"name": "live", "server_id": srv["id"]}).json()["data"]
    assert expired["status"] == "expired" and capped["status"] == "quota_exceeded"
    iface = srv["interface"]
    wait_for(lambda: live["public_key"] in wg(server, "show", iface, "peers"), message="live peer applied")
    peers = wg(server, "show", iface, "peers")
    assert expired["public_key"] not in peers and capped["public_key"] not in peers
    r = api.put(f"/wireguard/clients/{capped['id']}", json={"quota_bytes": 10**12})
    assert r.json()["data"]["status"] in ("active", "inactive")
    wait_for(lambda: capped["public_key"] in wg(server, "show", iface, "peers"), message="raised quota restores")
    api.post(f"/wireguard/servers/{srv['id']}/stop")


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_failed_data_plane_step_is_reported_and_consistent(backend: str, tmp_path) -> None:
    """The job's failure crosses arq (MariaDB + Redis + worker) as it does in-process: a 503
    naming the step and the node, and nothing left half-up."""
    env = {"IPV6WGM_WIREGUARD_BACKEND": "userspace",
           "IPV6WGM_WIREGUARD_WIREGUARD_GO": str(tmp_path / "no-such-wireguard-go")}
    with running_server(backend, env=env) as broken, broken.client(broken.token()) as c:
        srv = c.post("/wireguard/servers", json={"name": "wgfail", "ipv4_address": "10.3.0.1/24"}).json()["data"]
        r = c.post(f"/wireguard/servers/{srv['id']}/start")
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE" and error["details"]["step"] == "create interface"
        assert error["details"]["node_id"] == srv["node_id"] and "no-such-wireguard-go" in error["details"]["error"]
        state = c.get(f"/wireguard/servers/{srv['id']}").json()["data"]
        assert state["is_active"] is False and state["status"] in ("error", "stopped")
        links = subprocess.run(["ip", "-n", broken.netns, "link"], capture_output=True, text=True).stdout
        assert "wgfail" not in links
