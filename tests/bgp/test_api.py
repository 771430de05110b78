"""The /bgp API on both backends (SQLite embedded; MariaDB + Redis with the worker owning BIRD).

Sessions here point at addresses nobody answers (10.95.0.0/16): these tests are about the API
contract (validation, secrets, permissions, CRUD); test_e2e.py covers real peers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ipv6wgm.testing import ServerProcess


def field_of(r: httpx.Response) -> str:
    assert r.status_code == 422, r.text
    return str(r.json()["error"]["details"]["field"])


@pytest.mark.parametrize(("body", "field"), [
    ({"remote_as": 0}, "remote_as"),
    ({"remote_as": 4294967296}, "remote_as"),
    ({"remote_as": "65001"}, "remote_as"),
    ({"local_as": 0}, "local_as"),
    ({"name": "bad name"}, "name"),
    ({"name": 'x";'}, "name"),
    ({"neighbor": "10.0.0.0/24"}, "neighbor"),
    ({"neighbor": "fe80::1"}, "neighbor"),
    ({"description": 'quote " here'}, "description"),
    ({"password": "line\nbreak"}, "password"),
    ({"hold_time": 2}, "hold_time"),
    ({"source_address": "fd00::1"}, "source_address"),
    ({"import_policy": "some"}, "import_policy"),
    ({"surprise": 1}, "surprise"),
])
def test_session_validation(admin: httpx.Client, body: dict[str, Any], field: str) -> None:
    base = {"name": "v1", "neighbor": "10.95.0.1", "remote_as": 65001}
    assert field_of(admin.post("/bgp/sessions", json={**base, **body})).startswith(field)


@pytest.mark.parametrize(("body", "field"), [
    ({"prefix": "192.0.2.1/24"}, "prefix"),
    ({"prefix": "2001:db8::1/48"}, "prefix"),
    ({"next_hop": "fd00::1"}, "next_hop"),
    ({"community": "65536:1"}, "community"),
    ({"community": "a:b"}, "community"),
    ({"communities": ["1:2:3"]}, "communities"),
    ({"large_communities": ["1:2"]}, "large_communities"),
    ({"large_communities": ["1:2:4294967296"]}, "large_communities"),
    ({"as_path": "65000 0"}, "as_path"),
    ({"as_path": "65000 x"}, "as_path"),
])
def test_announcement_validation(admin: httpx.Client, body: dict[str, Any], field: str) -> None:
    base = {"prefix": "198.51.100.0/24", "next_hop": "10.95.0.5"}
    assert field_of(admin.post("/bgp/announcements", json={**base, **body})).startswith(field)


def test_session_crud_and_secret(admin: httpx.Client) -> None:
    r = admin.post("/bgp/sessions", json={"name": "crud1", "neighbor": "10.95.0.1", "remote_as": 4200000000,
                                          "local_as": 4200000001, "password": "s3cret", "multihop": 2,
                                          "import_limit": 1000, "import_policy": "none", "hold_time": 30})
    assert r.status_code == 201, r.text
    s = r.json()["data"]
    try:
        assert s["remote_as"] == 4200000000 and s["local_as"] == 4200000001 and s["has_password"] is True
        assert "s3cret" not in r.text and "password" not in s
        assert s["status"] in ("idle", "connect", "active") and s["uptime"] == 0
        listed = admin.get("/bgp/sessions").json()["data"]["sessions"]
        assert any(x["id"] == s["id"] for x in listed) and "s3cret" not in str(listed)
        assert admin.post("/bgp/sessions", json={"name": "crud1", "neighbor": "10.95.0.2",
                                                 "remote_as": 65001}).status_code == 409
        r = admin.post("/bgp/sessions", json={"name": "crud2", "neighbor": "10.95.0.1", "remote_as": 65001})
        assert r.status_code == 409 and r.json()["error"]["details"]["field"] == "neighbor", r.text
        r = admin.put(f"/bgp/sessions/{s['id']}", json={"password": None, "description": "transit A"})
        assert r.status_code == 200 and r.json()["data"]["has_password"] is False
        assert r.json()["data"]["description"] == "transit A"
        assert field_of(admin.put(f"/bgp/sessions/{s['id']}", json={"name": None})) == "name"
        r = admin.post(f"/bgp/sessions/{s['id']}/stop")
        assert r.status_code == 200 and r.json()["data"]["status"] == "idle" and r.json()["data"]["stopped_at"]
        assert admin.get(f"/bgp/sessions/{s['id']}").json()["data"]["enabled"] is False
        r = admin.post(f"/bgp/sessions/{s['id']}/start")
        assert r.status_code == 200 and set(r.json()["data"]) == {"id", "status", "started_at"}
        r = admin.get(f"/bgp/sessions/{s['id']}/routes")
        assert r.status_code == 200 and r.json()["data"] == {"session_id": s["id"], "routes": []}
    finally:
        assert admin.delete(f"/bgp/sessions/{s['id']}").status_code == 200
    assert admin.get(f"/bgp/sessions/{s['id']}").status_code == 404
    assert admin.post(f"/bgp/sessions/{s['id']}/start").status_code == 404


def test_announcement_crud(admin: httpx.Client) -> None:
    r = admin.post("/bgp/announcements", json={"prefix": "198.51.100.0/24", "next_hop": "10.95.0.5",
                                               "as_path": "65000 65000", "community": "65000:200"})
    assert r.status_code == 201, r.text
    a = r.json()["data"]
    try:
        assert (a["as_path"], a["community"], a["communities"], a["status"]) == (
            "65000 65000", "65000:200", ["65000:200"], "active")
        assert admin.post("/bgp/announcements", json={"prefix": "198.51.100.0/24"}).status_code == 409
        r = admin.put(f"/bgp/announcements/{a['id']}", json={"enabled": False, "large_communities": ["65000:1:2"]})
        assert r.status_code == 200, r.text
        assert r.json()["data"]["status"] == "disabled" and r.json()["data"]["large_communities"] == ["65000:1:2"]
        assert field_of(admin.put(f"/bgp/announcements/{a['id']}", json={"next_hop": "fd00::5"})) == "next_hop"
        v6 = admin.post("/bgp/announcements", json={"prefix": "2001:db8:95::/48", "next_hop": "fd00:95::5"})
        assert v6.status_code == 201, v6.text
        assert admin.delete(f"/bgp/announcements/{v6.json()['data']['id']}").status_code == 200
        listed = admin.get("/bgp/announcements", params={"enabled": "false"}).json()["data"]["announcements"]
        assert [x["id"] for x in listed if x["id"] == a["id"]] == [a["id"]]
    finally:
        assert admin.delete(f"/bgp/announcements/{a['id']}").status_code == 200
    assert admin.get(f"/bgp/announcements/{a['id']}").status_code == 404


def test_permissions_and_health(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    user = server.make_user(admin_token, role="user")
    with server.client(user["token"]) as c:
        assert c.get("/bgp/sessions").status_code == 403
        assert c.post("/bgp/announcements", json={"prefix": "198.51.100.0/24"}).status_code == 403
    manager = server.make_user(admin_token, role="manager")
    with server.client(manager["token"]) as c:
        assert c.get("/bgp/sessions").status_code == 200
        assert c.get("/bgp/announcements").status_code == 200
    bgp = admin.get("/status/health/detailed").json()["data"]["components"]["bgp"]
    assert bgp["status"] == "healthy" and bgp["bird_reachable"] in (True, None), bgp
