"""Every core endpoint of the spec over real HTTP, on SQLite and on MariaDB + Redis."""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, wait_for

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def envelope(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    assert ISO_Z.match(body["timestamp"])
    return body


def error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_health_needs_no_token(server: ServerProcess) -> None:
    data = envelope(httpx.get(f"{server.api}/status/health"))["data"]
    assert data["status"] == "healthy" and data["service"] == "IPv6 WireGuard Manager"


def test_login_and_me(server: ServerProcess) -> None:
    data = server.login()
    assert data["token_type"] == "bearer" and data["expires_in"] > 0
    assert data["user"]["username"] == "admin" and data["user"]["permissions"] == ["*"]
    with server.client(data["access_token"]) as c:
        me = envelope(c.get("/auth/me"))["data"]
    assert me["role"] == "admin" and me["permissions"] == ["*"]
    assert ISO_Z.match(me["last_login"]) and ISO_Z.match(me["created_at"])


def test_wrong_password_is_401(server: ServerProcess) -> None:
    r = httpx.post(f"{server.api}/auth/login", json={"username": "admin", "password": "wrong-password"})
    error(r, 401, "INVALID_CREDENTIALS")
    r = httpx.post(f"{server.api}/auth/login", json={"username": "nobody-here", "password": "wrong-password"})
    error(r, 401, "INVALID_CREDENTIALS")


def test_refresh_rotates_and_logout_revokes(server: ServerProcess) -> None:
    pair = server.login()
    r = httpx.post(f"{server.api}/auth/refresh", headers={"Authorization": f"Bearer {pair['refresh_token']}"})
    new = envelope(r)["data"]
    assert new["access_token"] != pair["access_token"] and new["refresh_token"] != pair["refresh_token"]
    with server.client(new["access_token"]) as c:
        envelope(c.get("/auth/me"))
        assert envelope(c.post("/auth/logout"))["message"]
        error(c.get("/auth/me"), 401, "INVALID_CREDENTIALS")
    r = httpx.post(f"{server.api}/auth/refresh", json={"refresh_token": new["refresh_token"]})
    error(r, 401, "INVALID_CREDENTIALS")


def test_users_crud_search_and_filters(server: ServerProcess, admin: httpx.Client) -> None:
    created = envelope(admin.post("/users", json={
        "username": "carol_crud", "email": "carol@example.com", "password": "password-123",
        "full_name": "Carol", "role": "manager", "is_active": True}), 201)["data"]
    assert created["role"] == "manager" and "password" not in json.dumps(created)
    uid = created["id"]
    error(admin.post("/users", json={"username": "carol_crud", "password": "password-123"}), 409,
          "RESOURCE_CONFLICT")
    listing = envelope(admin.get("/users", params={"search": "carol_", "role": "manager"}))["data"]
    assert [u["username"] for u in listing["users"]] == ["carol_crud"]
    assert listing["pagination"] == {"page": 1, "size": 20, "total": 1, "pages": 1}
    assert envelope(admin.get("/users", params={"role": "user", "search": "carol_"}))["data"]["users"] == []
    detail = envelope(admin.get(f"/users/{uid}"))["data"]
    assert detail["email"] == "carol@example.com" and "users.read" in detail["permissions"]
    updated = envelope(admin.put(f"/users/{uid}", json={"full_name": "Carol Two", "role": "user"}))["data"]
    assert updated["full_name"] == "Carol Two" and updated["role"] == "user"
    envelope(admin.post(f"/users/{uid}/reset-password", json={"new_password": "another-pass-1"}))
    assert server.login("carol_crud", "another-pass-1")["user"]["role"] == "user"
    envelope(admin.delete(f"/users/{uid}"))
    error(admin.get(f"/users/{uid}"), 404, "RESOURCE_NOT_FOUND")


def test_own_email_unchanged_is_a_no_op_and_emails_are_case_insensitive(server: ServerProcess,
                                                                         admin_token: str) -> None:
    user, other = server.make_user(admin_token), server.make_user(admin_token)
    with server.client(user["token"]) as c:
        before = envelope(c.get(f"/users/{user['id']}"))["data"]
        same = envelope(c.put(f"/users/{user['id']}", json={"email": user["email"]}))
        assert same["data"] == before and same["message"] == "user unchanged"  # nothing written
        shouted = envelope(c.put(f"/users/{user['id']}", json={"email": user["email"].upper()}))
        assert shouted["message"] == "user unchanged"  # stored lower-case, so also a no-op
        taken = c.put(f"/users/{user['id']}", json={"email": other["email"].upper()})
        error(taken, 409, "RESOURCE_CONFLICT")  # the same on SQLite and MariaDB
        assert error(c.put(f"/users/{user['id']}", json={"email": "x@y"}), 422, "VALIDATION_ERROR")
        moved = envelope(c.put(f"/users/{user['id']}", json={"email": "New.Address@Example.COM"}))["data"]
        assert moved["email"] == "new.address@example.com"
    with server.client(admin_token) as admin:
        error(admin.post("/users", json={"username": f"dup_{user['id']}", "password": "password-123",
                                         "email": "NEW.address@example.com"}), 409, "RESOURCE_CONFLICT")


def test_pagination_is_capped(server: ServerProcess, admin: httpx.Client) -> None:
    data = envelope(admin.get("/users", params={"size": 5000}))["data"]
    assert data["pagination"]["size"] == 100
    error(admin.get("/users", params={"page": 0}), 422, "VALIDATION_ERROR")


def test_validation_errors_name_the_field(server: ServerProcess, admin: httpx.Client) -> None:
    err = error(admin.post("/users", json={"username": "x y", "password": "password-123"}), 422,
                "VALIDATION_ERROR")
    assert err["details"]["field"] == "username"
    err = error(admin.post("/users", json={"username": "okname", "password": "password-123",
                                            "is_superuser": True}), 422, "VALIDATION_ERROR")
    assert "is_superuser" in json.dumps(err["details"])
    assert envelope(admin.get("/users", params={"search": "okname"}))["data"]["users"] == []


def test_logs_list_detail_filters_and_audit(server: ServerProcess, admin: httpx.Client) -> None:
    admin.post("/users", json={"username": "audited_one", "password": "password-123"})
    logs = wait_for(lambda: envelope(admin.get("/logs", params={"search": "/api/v1/users"}))["data"]["logs"],
                    message="audit entry of POST /users")
    entry = logs[0]
    assert entry["method"] == "POST" and entry["user_id"] is not None and entry["ip_address"] == "127.0.0.1"
    assert "user_agent" in entry["details"] and "password" not in json.dumps(entry)
    detail = envelope(admin.get(f"/logs/{entry['id']}"))["data"]
    assert detail["id"] == entry["id"] and "stack_trace" in detail
    logins = envelope(admin.get("/logs", params={"search": "logged in", "level": "INFO"}))["data"]
    assert logins["pagination"]["total"] >= 1
    assert all(item["level"] == "INFO" for item in logins["logs"])
    future = envelope(admin.get("/logs", params={"start_time": "2999-01-01T00:00:00Z"}))["data"]
    assert future["logs"] == [] and future["pagination"]["total"] == 0
    error(admin.get("/logs/999999999"), 404, "RESOURCE_NOT_FOUND")
    error(admin.get("/logs", params={"level": "LOUD"}), 422, "VALIDATION_ERROR")


def test_log_export_formats_and_download(server: ServerProcess, admin: httpx.Client) -> None:
    for fmt in ("json", "csv", "txt"):
        data = envelope(admin.get("/logs/export", params={"format": fmt}))["data"]
        assert data["download_url"].startswith("/logs/export/download/") and data["file_size"] > 0
        assert ISO_Z.match(data["expires_at"])
        r = admin.get(data["download_url"])
        assert r.status_code == 200 and len(r.content) == data["file_size"]
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Disposition"] == f'attachment; filename="{data["download_url"].rsplit("/", 1)[1]}"'
        if fmt == "json":
            assert isinstance(json.loads(r.content), list)
        elif fmt == "csv":
            header = next(csv.reader(io.StringIO(r.text)))
            assert header[:3] == ["id", "timestamp", "level"]
        else:
            assert "logged in" in r.text
    r = httpx.get(f"{server.api}{data['download_url']}")
    error(r, 401, "INVALID_CREDENTIALS")
    error(admin.get("/logs/export/download/export_20200101_000000_" + "0" * 32 + ".json"), 404,
          "RESOURCE_NOT_FOUND")


def test_log_exports_belong_to_their_exporter(server: ServerProcess, admin_token: str, admin: httpx.Client) -> None:
    exporter, other = server.make_user(admin_token, "manager"), server.make_user(admin_token, "manager")
    with server.client(exporter["token"]) as mine, server.client(other["token"]) as theirs:
        url = envelope(mine.get("/logs/export", params={"format": "txt"}))["data"]["download_url"]
        body = mine.get(url)
        assert body.status_code == 200 and body.headers["Cache-Control"] == "no-store"
        error(theirs.get(url), 404, "RESOURCE_NOT_FOUND")  # same answer as a name that does not exist
        assert admin.get(url).content == body.content  # admins may read any export
        other_url = envelope(theirs.get("/logs/export"))["data"]["download_url"]
        error(mine.get(other_url), 404, "RESOURCE_NOT_FOUND")
    big = envelope(admin.get("/logs/export", params={"format": "json"}))["data"]
    r = admin.get(big["download_url"])
    assert len(r.content) == big["file_size"] and json.loads(r.content)[0]["id"] > 0


def test_system_info_is_real(server: ServerProcess, admin: httpx.Client) -> None:
    import platform
    import socket

    data = envelope(admin.get("/system/info"))["data"]
    assert data["system"]["hostname"] == socket.gethostname()
    assert data["system"]["kernel"] == platform.release()
    assert data["system"]["uptime"] > 0 and len(data["system"]["load_average"]) == 3
    assert data["application"]["python_version"] == platform.python_version()
    assert data["database"]["status"] == "connected" and data["database"]["version"]
    if server.env.get("IPV6WGM_DATABASE_URL", "").startswith("mysql"):
        assert data["database"]["type"] in ("MariaDB", "MySQL")
    else:
        assert data["database"]["type"] == "SQLite"


def test_system_config_validated_persisted_applied(server: ServerProcess, admin: httpx.Client) -> None:
    before = envelope(admin.get("/system/config"))["data"]
    assert before["app_name"] == "IPv6 WireGuard Manager"
    error(admin.put("/system/config", json={"log_level": "LOUD"}), 422, "VALIDATION_ERROR")
    error(admin.put("/system/config", json={"app_version": "9"}), 422, "VALIDATION_ERROR")
    error(admin.put("/system/config", json={"session_timeout": 5}), 422, "VALIDATION_ERROR")
    assert envelope(admin.get("/system/config"))["data"]["session_timeout"] == before["session_timeout"]
    after = envelope(admin.put("/system/config", json={"session_timeout": 7200, "backup_retention": 60}))["data"]
    assert after["session_timeout"] == 7200 and after["backup_retention"] == 60 and ISO_Z.match(after["updated_at"])
    assert server.login()["expires_in"] == 7200  # applied live to new tokens
    envelope(admin.put("/system/config", json={"session_timeout": before["session_timeout"]}))


@pytest.mark.hooks("health_components", "startup")
def test_status_detailed_and_system(server: ServerProcess, admin: httpx.Client) -> None:
    data = envelope(admin.get("/status/health/detailed"))["data"]
    assert data["status"] == "healthy"
    assert data["components"]["database"]["status"] == "healthy"
    assert data["components"]["database"]["response_time"] >= 0
    assert data["components"]["cache"]["status"] == "healthy"
    sample = data["components"]["sample"]  # contributed by the installed test plugin
    assert sample["status"] == "healthy" and sample["touches_here"] >= 0  # its startup state is there
    status = envelope(admin.get("/status/system"))["data"]
    assert status["resources"]["memory"]["total"] > 0 and status["resources"]["cpu"]["cores"] >= 1


def test_plugins_listing(server: ServerProcess, admin: httpx.Client) -> None:
    plugins = {p["name"]: p for p in envelope(admin.get("/plugins"))["data"]}
    assert plugins["core"]["status"] == "loaded"
    assert plugins["sample"]["status"] == "loaded" and plugins["sample"]["version"] == "0.1.0"


def test_unknown_route_and_method(server: ServerProcess, admin: httpx.Client) -> None:
    error(admin.get("/nope"), 404, "RESOURCE_NOT_FOUND")
    error(admin.patch("/users"), 405, "METHOD_NOT_ALLOWED")


def test_openapi_and_docs(server: ServerProcess) -> None:
    spec = httpx.get(f"{server.base}/openapi.json").json()
    assert "/api/v1/users/{user_id}" in spec["paths"] and "/api/v1/sample/notes" in spec["paths"]
    op = spec["paths"]["/api/v1/users"]["post"]
    assert "requestBody" in op and "201" in {str(k) for k in op["responses"]}
    assert op["security"] == [{"bearerAuth": []}]
    assert httpx.get(f"{server.base}/docs").status_code == 200
