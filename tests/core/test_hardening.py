"""Input and at-rest hardening on both backends: absurd JSON nesting is a 400 on every route,
and the server's files are readable by their owner only."""

from __future__ import annotations

import json
import stat

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ipv6wgm.testing import ServerProcess, recv_until, ws_url

DEEP = [b"[" * 100_000, b'{"a":' * 50_000, b"[" * 70 + b"]" * 70, b'{"username":' + b"[" * 2000 + b"]" * 2000 + b"}"]


@pytest.mark.parametrize("body", DEEP, ids=["100k-arrays", "50k-objects", "70-levels", "deep-field"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/users"), ("POST", "/auth/login"), ("PUT", "/system/config"),
                                              ("POST", "/auth/refresh"), ("POST", "/auth/change-password"),
                                              ("POST", "/sample/notes")])
def test_deeply_nested_json_is_a_client_error(server: ServerProcess, admin: httpx.Client, method: str, path: str,
                                              body: bytes) -> None:
    r = admin.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), (path, r.status_code, r.text[:300])
    error = r.json()
    assert error["success"] is False and error["error"]["code"] in ("BAD_REQUEST", "VALIDATION_ERROR")
    assert admin.get("/auth/me").status_code == 200  # and the server is fine


def test_deeply_nested_websocket_messages(server: ServerProcess, admin_token: str) -> None:
    with connect(ws_url(server, token=admin_token), max_size=None) as ws:
        recv_until(ws, "connected")
        ws.send("[" * 100_000)
        assert recv_until(ws, "error")["data"]["code"] == "VALIDATION_ERROR"
        ws.send(json.dumps({"action": "ping"}))
        recv_until(ws, "pong")  # the connection survived
    with connect(ws_url(server)) as ws:  # as the first (authentication) message
        ws.send('{"token":' * 50_000)
        assert recv_until(ws, "error")["data"]["code"] == "INVALID_CREDENTIALS"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4401


def test_shallow_nesting_still_parses(admin: httpx.Client) -> None:
    r = admin.post("/users", json={"username": [[["x"]]]})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"].startswith("username")


def test_data_dir_and_sqlite_files_are_owner_only(server: ServerProcess, admin: httpx.Client) -> None:
    assert admin.post("/sample/notes", json={"text": "force a write"}).status_code == 201
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    files = sorted(server.data_dir.glob("ipv6wgm.sqlite3*"))
    if server.env.get("IPV6WGM_DATABASE_URL"):
        assert files == []  # MariaDB: nothing of the database lives here
        return
    names = {p.name for p in files}
    assert {"ipv6wgm.sqlite3", "ipv6wgm.sqlite3-wal", "ipv6wgm.sqlite3-shm"} <= names, names
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {n: "0o600" for n in names}
