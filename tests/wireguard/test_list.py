"""The client list's fast path (one statement, plain rows) answers exactly what each client's
detail (through the ORM) answers, for every state a client can be in, on both backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from ipv6wgm.testing import ServerProcess

from .helpers import make_server


def test_list_page_equals_details(server: ServerProcess, admin: httpx.Client, admin_token: str) -> None:
    srv = make_server(admin)
    other = make_server(admin)
    user = server.make_user(admin_token)
    made = []
    for i, extra in enumerate([
        {},
        {"enabled": False},
        {"quota_bytes": 0},
        {"expires_at": "2020-01-01T00:00:00Z"},
        {"dns_servers": ["2001:db8::53"], "description": "100%_literal", "persistent_keepalive": 15},
        {"owner_id": user["id"]},
        {"owner_id": user["id"], "allowed_ips": ["10.1.0.0/16"]},
    ]):
        r = admin.post("/wireguard/clients", json={"name": f"l{i}", "server_id": srv["id"], **extra})
        assert r.status_code == 201, r.text
        made.append(r.json()["data"]["id"])
    admin.post("/wireguard/clients", json={"name": "elsewhere", "server_id": other["id"]})
    assert admin.put(f"/users/{user['id']}", json={"is_active": False}).status_code == 200  # account_disabled

    def listed(client: httpx.Client, **params: object) -> list[dict]:
        r = client.get("/wireguard/clients", params={"server_id": srv["id"], "size": 100, **params})
        assert r.status_code == 200, r.text
        return r.json()["data"]["clients"]

    rows = listed(admin)
    assert [c["id"] for c in rows] == made
    for row in rows:
        assert row == admin.get(f"/wireguard/clients/{row['id']}").json()["data"]
    assert {r["status"] for r in rows} >= {"disabled", "quota_exceeded", "expired", "account_disabled"}
    assert [c["name"] for c in listed(admin, search="%_lit")] == ["l4"]  # LIKE wildcards are literal
    assert listed(admin, search="%x") == []
    paged = admin.get("/wireguard/clients", params={"server_id": srv["id"], "size": 3, "page": 3}).json()["data"]
    assert [c["id"] for c in paged["clients"]] == made[6:] and paged["pagination"]["total"] == len(made)

    assert admin.put(f"/users/{user['id']}", json={"is_active": True}).status_code == 200
    with server.client(server.token(user["username"], user["password"])) as mine:
        own = listed(mine)
        assert [c["id"] for c in own] == made[5:]
        assert all(c["owner_id"] == user["id"] and c["status"] != "account_disabled" for c in own)


def test_list_rows_follow_changes_and_time(admin: httpx.Client) -> None:
    """List rows are rendered once and reused (``ipv6wgm.paging.render_page``): a change shows
    at once, and a client whose ``expires_at`` passes turns ``expired`` without any write."""
    srv = make_server(admin)
    soon = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    r = admin.post("/wireguard/clients", json={"name": "soon", "server_id": srv["id"],
                                               "expires_at": soon.isoformat().replace("+00:00", "Z")})
    assert r.status_code == 201, r.text
    client_id = r.json()["data"]["id"]

    def listed() -> dict:
        r = admin.get("/wireguard/clients", params={"server_id": srv["id"]})
        assert r.status_code == 200, r.text
        return r.json()["data"]["clients"][0]

    first = listed()
    assert first["status"] == "inactive" and listed() == first
    assert admin.put(f"/wireguard/clients/{client_id}", json={"description": "changed"}).status_code == 200
    assert listed()["description"] == "changed"
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.5)
    row = listed()
    assert row["status"] == "expired" and row["disabled_reason"] == "expired"
    assert row == admin.get(f"/wireguard/clients/{client_id}").json()["data"]
