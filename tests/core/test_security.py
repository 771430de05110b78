"""Security: forged tokens, revocation, refresh reuse, role x route matrix, BOLA, mass
assignment and rate limits — all against a real server (login throttling: test_login_throttle)."""

from __future__ import annotations

import base64
import json
import os

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from ipv6wgm.security.tokens import ACCESS, TokenService
from ipv6wgm.testing import ServerProcess


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def server_tokens(server: ServerProcess) -> TokenService:
    """The server's own signing key, read from its data dir, to mint tokens it must still refuse."""
    secret = (server.data_dir / "secret.key").read_text().strip().encode()
    return TokenService(secret, "ipv6wgm", "ipv6wgm-api")


def me_status(server: ServerProcess, token: str) -> tuple[int, str]:
    r = httpx.get(f"{server.api}/auth/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.json()["error"]["code"] if r.status_code != 200 else ""


def test_forged_tokens_are_refused(server: ServerProcess) -> None:
    pair = server.login()
    claims = claims_of(pair["access_token"])
    none_alg = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert me_status(server, none_alg) == (401, "INVALID_CREDENTIALS")
    wrong_key = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(os.urandom(32)))
    assert me_status(server, wrong_key) == (401, "INVALID_CREDENTIALS")
    assert me_status(server, pair["refresh_token"]) == (401, "INVALID_CREDENTIALS")
    assert me_status(server, "not.a.token") == (401, "INVALID_CREDENTIALS")
    assert httpx.get(f"{server.api}/auth/me").status_code == 401
    svc = server_tokens(server)
    expired, _ = svc.issue(int(claims["sub"]), claims["sid"], ACCESS, -120)
    assert me_status(server, expired) == (401, "TOKEN_EXPIRED")
    good, _ = svc.issue(int(claims["sub"]), claims["sid"], ACCESS, 300)
    assert me_status(server, good) == (200, "")  # the key really is the server's
    other_aud = TokenService((server.data_dir / "secret.key").read_text().strip().encode(), "ipv6wgm", "other")
    token, _ = other_aud.issue(int(claims["sub"]), claims["sid"], ACCESS, 300)
    assert me_status(server, token) == (401, "INVALID_CREDENTIALS")
    unknown_session, _ = svc.issue(int(claims["sub"]), "0" * 32, ACCESS, 300)
    assert me_status(server, unknown_session) == (401, "INVALID_CREDENTIALS")
    forged = wrong_key  # a forged access token cannot be renewed either
    r = httpx.post(f"{server.api}/auth/refresh", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_CREDENTIALS"


def test_refresh_reuse_revokes_the_family(server: ServerProcess) -> None:
    pair = server.login()
    first = httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()["data"]
    assert me_status(server, rotated["access_token"])[0] == 200
    reuse = httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert reuse.status_code == 401
    assert me_status(server, rotated["access_token"]) == (401, "INVALID_CREDENTIALS")
    again = httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 401


MATRIX = [
    # method, path, admin, manager, user
    ("GET", "/users", 200, 200, 403),
    ("POST", "/users", 422, 403, 403),
    ("GET", "/logs", 200, 200, 403),
    ("GET", "/logs/export", 200, 200, 403),
    ("GET", "/system/info", 200, 200, 403),
    ("GET", "/system/config", 200, 200, 403),
    ("PUT", "/system/config", 200, 403, 403),
    ("GET", "/status/health/detailed", 200, 200, 403),
    ("GET", "/status/system", 200, 200, 403),
    ("GET", "/plugins", 200, 200, 403),
    ("GET", "/auth/me", 200, 200, 200),
    ("GET", "/sample/notes", 200, 200, 200),
]


@pytest.fixture(scope="module")
def people(server: ServerProcess, admin_token: str) -> dict[str, dict]:
    return {role: server.make_user(admin_token, role) for role in ("manager", "user")} | {
        "admin": {"token": admin_token}}


@pytest.mark.hooks("register_blueprints", "register_permissions")
@pytest.mark.parametrize(("method", "path", "as_admin", "as_manager", "as_user"), MATRIX)
def test_role_route_matrix(server: ServerProcess, people: dict, method: str, path: str,
                           as_admin: int, as_manager: int, as_user: int) -> None:
    body = {} if method in ("POST", "PUT") else None
    for role, expected in (("admin", as_admin), ("manager", as_manager), ("user", as_user)):
        with server.client(people[role]["token"]) as c:
            r = c.request(method, path, json=body)
        assert r.status_code == expected, (role, method, path, r.text)
        if expected == 403:
            assert r.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"


def test_manager_cannot_touch_admins_or_mint_them(server: ServerProcess, people: dict) -> None:
    with server.client(people["manager"]["token"]) as c:
        assert c.delete("/users/1").status_code == 403
        assert c.post("/users/1/reset-password", json={"new_password": "password-999"}).status_code == 403


def test_bola_other_users_objects(server: ServerProcess, admin_token: str) -> None:
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    with server.client(alice["token"]) as a, server.client(bob["token"]) as b:
        assert a.get(f"/users/{alice['id']}").status_code == 200
        assert a.get(f"/users/{bob['id']}").status_code == 404
        assert a.put(f"/users/{bob['id']}", json={"full_name": "pwned"}).status_code == 404
        note = b.post("/sample/notes", json={"text": "bob's secret"}).json()["data"]
        assert a.get(f"/sample/notes/{note['id']}").status_code == 404
        assert a.post(f"/sample/notes/{note['id']}/touch").status_code == 404
        assert all(n["owner_id"] == alice["id"] for n in a.get("/sample/notes").json()["data"])
        assert b.get(f"/sample/notes/{note['id']}").status_code == 200


def test_mass_assignment_and_self_escalation(server: ServerProcess, admin_token: str) -> None:
    user = server.make_user(admin_token)
    with server.client(user["token"]) as c:
        r = c.put(f"/users/{user['id']}", json={"role": "admin"})
        assert r.status_code == 403
        r = c.put(f"/users/{user['id']}", json={"password_hash": "x"})
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "password_hash"
        r = c.put(f"/users/{user['id']}", json={"full_name": "Me Myself"})
        assert r.status_code == 200 and r.json()["data"]["role"] == "user"
    with server.client(admin_token) as admin:
        r = admin.put(f"/users/{user['id']}", json={"is_active": False})
        assert r.status_code == 200
        assert me_status(server, user["token"])[0] == 401  # deactivation ends sessions
        r = httpx.post(f"{server.api}/auth/login", json={"username": user["username"], "password": user["password"]})
        assert r.status_code == 401
        me = admin.get("/auth/me").json()["data"]
        assert admin.put(f"/users/{me['id']}", json={"role": "user"}).status_code == 403
        assert admin.put(f"/users/{me['id']}", json={"is_active": False}).status_code == 403
        assert admin.delete(f"/users/{me['id']}").status_code == 409
        assert admin.get("/auth/me").json()["data"]["role"] == "admin"


def test_api_rate_limit_429(server: ServerProcess, admin_token: str) -> None:
    operator = server.make_user(admin_token, role="admin")
    user = server.make_user(admin_token)
    with server.client(operator["token"]) as op:
        assert op.put("/system/config", json={"api_rate_limit": 60}).status_code == 200
        try:
            with server.client(user["token"]) as c:
                statuses = [c.get("/auth/me").status_code for _ in range(70)]
                limited = c.get("/auth/me")
            assert 429 in statuses or limited.status_code == 429
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        finally:
            assert op.put("/system/config", json={"api_rate_limit": 100000}).status_code == 200


def test_no_traceback_or_secret_in_errors(server: ServerProcess, admin: httpx.Client) -> None:
    r = admin.post("/users", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422) and "Traceback" not in r.text
    r = admin.get("/logs", params={"search": "password"})
    assert server.admin_password not in r.text


@pytest.mark.hooks("account_changed")
def test_account_changed_reaches_plugins(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    """Deleting a user runs every plugin's ``account_changed`` before the row goes: the sample
    plugin deletes the user's notes, or hands them to the deleting admin with keep_objects."""
    me = admin.get("/auth/me").json()["data"]
    for keep in (False, True):
        user = server.make_user(admin_token)
        with server.client(user["token"]) as c:
            note = c.post("/sample/notes", json={"text": f"keep={keep}"}).json()["data"]
        r = admin.delete(f"/users/{user['id']}", params={"keep_objects": str(keep).lower()})
        assert r.status_code == 200, r.text
        got = admin.get(f"/sample/notes/{note['id']}")
        if keep:
            assert got.status_code == 200 and got.json()["data"]["owner_id"] == me["id"]
        else:
            assert got.status_code == 404
    assert admin.delete("/users/1", params={"keep_objects": "maybe"}).status_code == 422
