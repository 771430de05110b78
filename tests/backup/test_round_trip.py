"""Round trip through a backup, on each engine and across them: populate a server through the
API, back it up, and restore the archive into a fresh database (the wipe) on a second server
with the same master key and node id; every list and detail answers the same JSON, the client
configs are byte-identical, and a wireguard-go tunnel built from the first server's config pings
the second one. The sample plugin's ``backup_contributors`` file travels too.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, running_server, wait_for
from tests.backup.helpers import SECRET, create_backup, restore, upload
from tests.wireguard.test_api_e2e import bring_up, ping, sh

FAST = {"IPV6WGM_WIREGUARD_RECONCILE_INTERVAL": "3", "IPV6WGM_WIREGUARD_STATS_INTERVAL": "2"}
#: Fields that describe the moment of the request or the live data plane, not stored state, and
#: ``last_login``: the restore ends the archive's sessions on the new host, so the admin logs in.
VOLATILE = {"timestamp", "started_at", "uptime", "state", "since", "last_error", "routes_received",
            "routes_exported", "live", "bird", "last_update", "last_login"}


def populate(server: ServerProcess, api: httpx.Client, tag: str) -> dict[str, Any]:
    token = api.headers["Authorization"].split()[1]
    alice = server.make_user(token, role="user")
    server.make_user(token, role="manager")
    port = 40000 + secrets.randbelow(9000)
    r = api.post("/wireguard/servers", json={
        "name": f"bk{tag}", "listen_port": port, "ipv4_address": "10.77.0.1/24", "ipv6_address": "fd77::1/64",
        "endpoint": "10.98.1.1", "is_active": True})
    assert r.status_code == 201, r.text
    wg_server = r.json()["data"]
    clients = []
    for name, extra in (("laptop", {}), ("phone", {"owner_id": alice["id"]})):
        r = api.post("/wireguard/clients", json={"name": name, "server_id": wg_server["id"], **extra})
        assert r.status_code == 201, r.text
        clients.append(r.json()["data"])
    prefix = f"fd{secrets.token_hex(1)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}::/48"
    r = api.post("/ipv6/pools", json={"name": f"pool{tag}", "prefix": prefix, "prefix_length": 64})
    assert r.status_code == 201, r.text
    pool_id = r.json()["data"]["id"]
    for name in ("alpha", "beta"):
        r = api.post("/ipv6/allocations", json={"pool_id": pool_id, "client_name": name})
        assert r.status_code == 201, r.text
    r = api.post("/bgp/sessions", json={"name": f"up{tag}", "neighbor": "10.95.0.1", "remote_as": 4200000000,
                                        "local_as": 4200000001, "password": "s3cret-pw", "hold_time": 30})
    assert r.status_code == 201, r.text
    r = api.post("/bgp/announcements", json={"prefix": "198.51.100.0/24", "next_hop": "10.95.0.5",
                                             "community": "65000:200"})
    assert r.status_code == 201, r.text
    r = api.post("/monitoring/alerts/rules", json={"id": f"cpu{tag}", "name": "CPU high", "condition": ">",
                                                   "metric_name": "system.cpu.usage", "threshold": 95.0,
                                                   "level": "warning", "tags": {"node": "gw1"}})
    assert r.status_code == 201, r.text
    assert api.put("/system/config", json={"backup_retention": 45, "max_log_size": 200}).status_code == 200
    return {"server": wg_server, "clients": clients}


LISTS = ("/users", "/wireguard/servers", "/wireguard/clients", "/ipv6/pools", "/ipv6/allocations", "/bgp/sessions",
         "/bgp/announcements", "/monitoring/alerts/rules")


def _items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return data
    return next(v for v in data.values() if isinstance(v, list))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def diff(old: Any, new: Any, path: str = "") -> list[str]:
    """Where two JSON values differ (for a readable failure)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in old.keys() | new.keys() for d in diff(old.get(k), new.get(k), f"{path}.{k}")]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in diff(a, b, f"{path}[{i}]")]
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """Every list and every detail the round trip must keep, plus the client configs as bytes."""
    out: dict[str, Any] = {}
    for path in LISTS:
        r = api.get(path, params={"size": 100})
        assert r.status_code == 200, (path, r.text)
        out[path] = _clean(r.json()["data"])
        for item in _items(r.json()["data"]):
            detail = api.get(f"{path}/{item['id']}")
            assert detail.status_code == 200, (path, detail.text)
            out[f"{path}/{item['id']}"] = _clean(detail.json()["data"])
            if path == "/wireguard/clients":
                config = api.get(f"{path}/{item['id']}/config")
                assert config.status_code == 200
                out[f"{path}/{item['id']}/config"] = config.content
    config = api.get("/system/config").json()["data"]  # the editable keys (the rest describes the engine)
    out["/system/config"] = {k: config[k] for k in ("log_level", "max_log_size", "backup_retention",
                                                     "session_timeout", "api_rate_limit", "monitoring_enabled")}
    return out


@pytest.fixture()
def client_ns() -> Any:
    ns = f"bkc{secrets.token_hex(3)}"
    sh("ip", "netns", "add", ns)
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    try:
        yield ns
    finally:
        for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            sh("kill", "-9", pid, check=False)
        sh("ip", "netns", "del", ns, check=False)


def join(server: ServerProcess, ns: str) -> None:
    veth = f"bkv{secrets.token_hex(3)}"
    sh("ip", "link", "add", f"{veth}s", "netns", server.netns, "type", "veth", "peer", "name", f"{veth}c", "netns", ns)
    sh("ip", "-n", server.netns, "addr", "add", "10.98.1.1/24", "dev", f"{veth}s")
    sh("ip", "-n", server.netns, "link", "set", f"{veth}s", "up")
    sh("ip", "-n", ns, "addr", "add", "10.98.1.2/24", "dev", f"{veth}c")
    sh("ip", "-n", ns, "link", "set", f"{veth}c", "up")


@pytest.mark.hooks("backup_contributors")
@pytest.mark.parametrize(("source", "target"), [("sqlite", "sqlite"), ("mysql", "mysql"), ("sqlite", "mysql"),
                                                ("mysql", "sqlite")])
def test_round_trip(source: str, target: str, client_ns: str, tmp_path: Path) -> None:
    tag = secrets.token_hex(2)
    node = f"bk-node-{tag}"
    contrib_a, contrib_b = tmp_path / "a.bin", tmp_path / "b.bin"
    contrib_a.write_bytes(b"carried by the sample plugin\x00\xff")
    env = {**FAST, "IPV6WGM_SECRET_KEY": SECRET}
    with running_server(source, env={**env, "IPV6WGM_SAMPLE_BACKUP_FILE": str(contrib_a)}, node_id=node) as a:
        token = a.token()
        api = a.client(token)
        made = populate(a, api, tag)
        before = snapshot(api)
        backup = create_backup(api, "round trip", metadata={"why": "test"})
        archive = api.get(f"/backup/backups/{backup['id']}/download")
        assert archive.status_code == 200 and archive.headers["content-type"] == "application/gzip"
        assert archive.content[:2] == b"\x1f\x8b"
        admin_password = a.admin_password
    with running_server(target, env={**env, "IPV6WGM_SAMPLE_BACKUP_FILE": str(contrib_b)}, node_id=node) as b:
        fresh = b.client(b.token())
        assert _items(fresh.get("/wireguard/servers").json()["data"]) == []
        entry = upload(fresh, archive.content)
        assert entry["checksum"] == backup["checksum"] and entry["size_bytes"] == len(archive.content)
        job = restore(fresh, entry["id"], login=lambda: b.token("admin", admin_password))
        assert job["status"] == "completed", job
        # the archive's accounts are back; its sessions were not live here, so they stay ended
        with b.client(token) as stale:
            assert stale.get("/auth/me").status_code == 401
        assert fresh.get("/auth/me").json()["data"]["username"] == "admin"
        after = snapshot(fresh)
        assert after.keys() == before.keys()
        differences = {key: diff(before[key], after[key]) for key in before if after[key] != before[key]}
        assert not differences, differences
        assert contrib_b.read_bytes() == contrib_a.read_bytes()
        assert b.login("admin", admin_password)["access_token"]
        # the data plane follows: the interface is back with both peers, and a tunnel pings
        join(b, client_ns)
        bring_up(client_ns, made["clients"][0]["config"], tmp_path, iface=f"bkc{tag}")
        wait_for(lambda: ping(client_ns, "10.77.0.1"), timeout=30, message="ping through the restored server")
        assert ping(client_ns, "fd77::1"), "IPv6 ping through the restored server"
