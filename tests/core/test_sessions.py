"""Sessions: changing or resetting your own password ends your other sessions; the spec's
``POST /auth/refresh`` with an access token renews it, within the session's absolute lifetime."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx

from ipv6wgm.testing import ServerProcess

REFRESH_TTL = 7 * 86400  # the servers' default IPV6WGM_REFRESH_TOKEN_TTL


def me(server: ServerProcess, token: str) -> int:
    return httpx.get(f"{server.api}/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def refresh_with(server: ServerProcess, token: str) -> httpx.Response:
    return httpx.post(f"{server.api}/auth/refresh", headers={"Authorization": f"Bearer {token}"})


def session_of(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]


def set_session_created(server: ServerProcess, session_id: str, when: datetime) -> None:
    """Age a session in the server's own database (the only way to reach a lifetime measured in days)."""
    url = server.env.get("IPV6WGM_DATABASE_URL")
    if not url:
        with sqlite3.connect(server.data_dir / "ipv6wgm.sqlite3", timeout=10) as db:
            (current,) = db.execute("SELECT created_at FROM core_auth_sessions WHERE id = ?", (session_id,)).fetchone()
            value = when.isoformat(sep=" ") if "+" in current else when.replace(tzinfo=None).isoformat(sep=" ")
            assert db.execute("UPDATE core_auth_sessions SET created_at = ? WHERE id = ?",
                              (value, session_id)).rowcount == 1
        return
    import pymysql

    parts = urlparse(url)
    conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username, password="",
                           database=parts.path.lstrip("/"), autocommit=True)
    try:
        with conn.cursor() as cur:
            assert cur.execute("UPDATE core_auth_sessions SET created_at = %s WHERE id = %s",
                               (when.astimezone(UTC).replace(tzinfo=None), session_id)) == 1
    finally:
        conn.close()


def audit_entries(admin: httpx.Client, action: str, username: str) -> list[dict[str, Any]]:
    logs = admin.get("/logs", params={"search": username, "size": 100}).json()["data"]["logs"]
    return [entry for entry in logs if entry["action"] == action]


def test_change_password_keeps_this_session_and_ends_the_others(server: ServerProcess, admin_token: str,
                                                                 admin: httpx.Client) -> None:
    user = server.make_user(admin_token)
    here, elsewhere = server.login(user["username"], user["password"]), server.login(user["username"], user["password"])
    with server.client(here["access_token"]) as c:
        wrong = c.post("/auth/change-password", json={"current_password": "not-my-password",
                                                      "new_password": "brand-new-pass-1"})
        assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"] == "current_password"
        weak = c.post("/auth/change-password", json={"current_password": user["password"], "new_password": "short"})
        assert weak.status_code == 422 and weak.json()["error"]["details"]["field"] == "new_password"
        assert me(server, elsewhere["access_token"]) == 200  # refused changes changed nothing
        server.login(user["username"], user["password"])
        done = c.post("/auth/change-password", json={"current_password": user["password"],
                                                     "new_password": "brand-new-pass-1"})
        assert done.status_code == 200, done.text
        assert done.json()["data"]["sessions_revoked"] == 3  # make_user's, elsewhere, and the extra login
        assert c.get("/auth/me").status_code == 200
    assert me(server, user["token"]) == 401 and me(server, elsewhere["access_token"]) == 401
    assert httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]}
                      ).status_code == 401
    kept = httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": here["refresh_token"]})
    assert kept.status_code == 200  # this session's refresh token still rotates
    assert httpx.post(f"{server.api}/auth/login", json={"username": user["username"], "password": user["password"]}
                      ).status_code == 401
    server.login(user["username"], "brand-new-pass-1")
    changed = audit_entries(admin, "password_changed", user["username"])
    assert changed and changed[0]["details"]["sessions_revoked"] == 3 and changed[0]["user_id"] == user["id"]
    assert audit_entries(admin, "password_change_failed", user["username"])


def test_change_password_needs_a_session(server: ServerProcess) -> None:
    r = httpx.post(f"{server.api}/auth/change-password", json={"current_password": "x", "new_password": "y" * 10})
    assert r.status_code == 401


def test_resetting_your_own_password_ends_your_other_sessions(server: ServerProcess, admin_token: str,
                                                              admin: httpx.Client) -> None:
    ops = server.make_user(admin_token, "admin")
    other_session = server.token(ops["username"], ops["password"])
    victim = server.make_user(admin_token)
    with server.client(ops["token"]) as c:
        r = c.post(f"/users/{ops['id']}/reset-password", json={"new_password": "reset-by-me-1"})
        assert r.status_code == 200, r.text
        assert c.get("/auth/me").status_code == 200
        assert me(server, other_session) == 401
        assert c.post(f"/users/{victim['id']}/reset-password", json={"new_password": "reset-for-you-1"}
                      ).status_code == 200
        assert c.get("/auth/me").status_code == 200
    assert me(server, victim["token"]) == 401
    server.login(ops["username"], "reset-by-me-1")
    entries = audit_entries(admin, "password_reset", ops["username"])
    targets = {e["details"]["target_username"]: e["details"]["sessions_revoked"] for e in entries}
    assert targets == {ops["username"]: 1, victim["username"]: 1}


def test_refresh_with_the_access_token_as_the_spec_shows(server: ServerProcess) -> None:
    pair = server.login()
    r = refresh_with(server, pair["access_token"])
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert set(data) >= {"access_token", "expires_in", "token_type"} and data.get("refresh_token") is None
    assert 0 < data["expires_in"] <= 3600
    assert me(server, data["access_token"]) == 200
    assert me(server, pair["access_token"]) == 401  # the presented token is revoked
    assert refresh_with(server, pair["access_token"]).status_code == 401  # and cannot be renewed twice
    again = refresh_with(server, data["access_token"]).json()["data"]  # a renewed token renews in turn
    assert me(server, again["access_token"]) == 200 and me(server, data["access_token"]) == 401
    rotated = httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200  # the refresh-token rotation is untouched
    assert me(server, rotated.json()["data"]["access_token"]) == 200 and me(server, again["access_token"]) == 200
    with server.client(again["access_token"]) as c:
        assert c.post("/auth/logout").status_code == 200
    assert refresh_with(server, rotated.json()["data"]["access_token"]).status_code == 401


def test_access_token_renewal_ends_with_the_session_lifetime(server: ServerProcess) -> None:
    pair = server.login()
    sid = session_of(pair["access_token"])
    set_session_created(server, sid, datetime.now(UTC) - timedelta(seconds=REFRESH_TTL - 120))
    r = refresh_with(server, pair["access_token"])
    assert r.status_code == 200, r.text
    renewed = r.json()["data"]
    assert 60 < renewed["expires_in"] <= 120  # never past the session's absolute end
    set_session_created(server, sid, datetime.now(UTC) - timedelta(seconds=REFRESH_TTL + 5))
    late = refresh_with(server, renewed["access_token"])
    assert late.status_code == 401 and late.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert me(server, renewed["access_token"]) == 200  # the token itself lives out its own time
