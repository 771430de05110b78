"""Who decides what, on SQLite and on MariaDB + Redis + worker: operator limits are the
operator's (``wireguard.clients.write``), an owner edits only its own settings and lifts only
its own disable, and server secrets are exported only with ``wireguard.servers.secrets`` (admins),
each such download audited."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ipv6wgm.testing import ServerProcess
from ipv6wgm_wireguard import keys

from .helpers import make_pool, make_server
from .hostile import SERVER_KEYS, read_wg_quick


@pytest.fixture()
def api(server: ServerProcess, admin_token: str):
    with server.client(admin_token) as client:
        yield client


def forbidden_field(response: httpx.Response, field: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_PERMISSIONS" and error["details"]["field"] == field, error
    assert field in error["message"] or "operator" in error["message"]


def test_default_permissions(server: ServerProcess, admin_token: str) -> None:
    held = {}
    for role in ("user", "manager"):
        user = server.make_user(admin_token, role=role)
        with server.client(user["token"]) as c:
            held[role] = set(c.get("/auth/me").json()["data"]["permissions"])
    assert "wireguard.clients.self" in held["user"] and "wireguard.clients.write" not in held["user"]
    assert {"wireguard.clients.self", "wireguard.clients.write"} <= held["manager"]
    assert "wireguard.servers.secrets" not in held["manager"] | held["user"]


def test_user_cannot_set_or_lift_operator_limits(server: ServerProcess, api: httpx.Client, admin_token: str) -> None:
    srv = make_server(api)
    pool = make_pool(api)
    user, other = server.make_user(admin_token), server.make_user(admin_token)
    manager = server.make_user(admin_token, role="manager")
    create_attempts: list[tuple[str, Any]] = [
        ("quota_bytes", 10**9), ("quota_bytes", 0), ("expires_at", "2999-01-01T00:00:00Z"),
        ("ipv6_pool_id", pool["id"]), ("ipv6_prefix_length", 64), ("owner_id", other["id"])]
    with server.client(user["token"]) as u, server.client(manager["token"]) as m:
        for field, value in create_attempts:
            r = u.post("/wireguard/clients", json={"name": f"x-{field}", "server_id": srv["id"], field: value})
            forbidden_field(r, field)
        assert u.get("/wireguard/clients").json()["data"]["pagination"]["total"] == 0, "nothing was created"

        mine = u.post("/wireguard/clients", json={"name": "mine", "server_id": srv["id"]}).json()["data"]
        cid = mine["id"]
        limited = m.put(f"/wireguard/clients/{cid}", json={"quota_bytes": 10**12, "expires_at": "2999-01-01T00:00:00Z"})
        assert limited.status_code == 200, limited.text
        before = u.get(f"/wireguard/clients/{cid}").json()["data"]
        for field, value in (("quota_bytes", None), ("quota_bytes", 10**15), ("expires_at", None),
                             ("expires_at", "3999-01-01T00:00:00Z"), ("ipv6_pool_id", pool["id"]),
                             ("ipv6_prefix_length", 64)):
            forbidden_field(u.put(f"/wireguard/clients/{cid}", json={field: value, "description": "sneaky"}), field)
        after = u.get(f"/wireguard/clients/{cid}").json()["data"]
        assert after == before, "a refused request changes nothing (not even the allowed field beside it)"
        assert after["quota_bytes"] == 10**12 and after["expires_at"] == "2999-01-01T00:00:00Z"

        own = u.put(f"/wireguard/clients/{cid}", json={
            "name": "renamed", "description": "my laptop", "dns_servers": ["fd66::53"],
            "allowed_ips": ["10.0.0.0/8"], "persistent_keepalive": 15, "quota_bytes": 10**12,
            "expires_at": "2999-01-01T00:00:00Z"})
        assert own.status_code == 200, own.text  # an unchanged limit is not a change
        data = own.json()["data"]
        assert (data["name"], data["dns_servers"], data["allowed_ips"]) == ("renamed", ["fd66::53"], ["10.0.0.0/8"])

        # the owner switches its own client off and on
        off = u.post(f"/wireguard/clients/{cid}/disable").json()["data"]
        assert (off["status"], off["disabled_reason"]) == ("disabled", "owner")
        assert u.post(f"/wireguard/clients/{cid}/enable").json()["data"]["disabled_reason"] is None

        # an operator's disable is the operator's to lift
        off = m.post(f"/wireguard/clients/{cid}/disable").json()["data"]
        assert (off["status"], off["disabled_reason"]) == ("disabled", "operator")
        forbidden_field(u.post(f"/wireguard/clients/{cid}/enable"), "enabled")
        forbidden_field(u.put(f"/wireguard/clients/{cid}", json={"enabled": True}), "enabled")
        assert u.post(f"/wireguard/clients/{cid}/disable").status_code == 200
        still = u.get(f"/wireguard/clients/{cid}").json()["data"]
        assert (still["enabled"], still["disabled_reason"]) == (False, "operator"), "not downgraded to 'owner'"
        back = m.post(f"/wireguard/clients/{cid}/enable").json()["data"]
        assert back["enabled"] is True and back["disabled_reason"] is None

        # operators may set everything, for anyone
        made = m.post("/wireguard/clients", json={"name": "for-other", "server_id": srv["id"], "owner_id": other["id"],
                                                  "quota_bytes": 5, "enabled": False})
        assert made.status_code == 201, made.text
        assert (made.json()["data"]["owner_id"], made.json()["data"]["disabled_reason"]) == (other["id"], "operator")


def test_export_secrets_need_their_own_permission(server: ServerProcess, api: httpx.Client,
                                                  admin_token: str) -> None:
    srv = make_server(api)
    client = api.post("/wireguard/clients", json={"name": "with-psk", "server_id": srv["id"]}).json()["data"]
    manager = server.make_user(admin_token, role="manager")
    admin_id = api.get("/auth/me").json()["data"]["id"]
    psk_line = next(line for line in client["config"].splitlines() if line.startswith("PresharedKey"))

    with server.client(manager["token"]) as m:
        redacted = m.get(f"/wireguard/servers/{srv['id']}/export")
    assert redacted.status_code == 200
    assert srv["private_key"] not in redacted.text and psk_line not in redacted.text
    sections = read_wg_quick(redacted.text, SERVER_KEYS)
    assert "PrivateKey" not in sections[0][1] and all("PresharedKey" not in keys for _, keys in sections[1:])
    assert sections[1][1]["PublicKey"] == client["public_key"]
    assert "# PrivateKey = <omitted" in redacted.text and "# PresharedKey = <omitted" in redacted.text

    full = api.get(f"/wireguard/servers/{srv['id']}/export")
    sections = read_wg_quick(full.text, SERVER_KEYS)
    assert sections[0][1]["PrivateKey"] == srv["private_key"] and psk_line.endswith(sections[1][1]["PresharedKey"])

    def audited(user_id: int, action: str) -> list[dict]:
        logs = api.get("/logs", params={"module": "wireguard", "user_id": user_id, "size": 100}).json()["data"]
        return [entry for entry in logs["logs"] if entry["action"] == action]

    exports = audited(admin_id, "wireguard_server_export_secrets")
    assert [e["details"]["server_id"] for e in exports].count(srv["id"]) == 1
    assert not audited(manager["id"], "wireguard_server_export_secrets"), "a redacted export holds no secret"

    owner = server.make_user(admin_token)
    with server.client(owner["token"]) as u:
        own = u.post("/wireguard/clients", json={"name": "own", "server_id": srv["id"]}).json()["data"]
        assert u.get(f"/wireguard/clients/{own['id']}/config").status_code == 200
        assert u.get(f"/wireguard/clients/{own['id']}/qr").status_code == 200
    for action in ("wireguard_client_config", "wireguard_client_qr"):
        assert [e["details"]["client_id"] for e in audited(owner["id"], action)] == [own["id"]]
    byo_key = keys.public_key_from_private(keys.generate_private_key())
    byo = api.post("/wireguard/clients", json={"name": "byo", "server_id": srv["id"], "preshared_key": False,
                                                "public_key": byo_key})
    byo_id = byo.json()["data"]["id"]
    assert api.get(f"/wireguard/clients/{byo_id}/config").status_code == 200  # no secret in it: not audited
    assert all(e["details"].get("client_id") != byo_id for e in audited(admin_id, "wireguard_client_config"))
