"""WebSocket hub over real sockets: auth (query and first message), channels, per-channel and
per-object authorization, log_entry events, jobs publishing through the worker, logout closing."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ipv6wgm.testing import ServerProcess, recv_until, ws_url
from ipv6wgm.testing import assert_no_message as assert_no


def test_query_token_and_system_snapshot(server: ServerProcess, admin_token: str) -> None:
    with connect(ws_url(server, token=admin_token, channels="system")) as ws:
        status = recv_until(ws, "system_status")["data"]
        assert 0 <= status["memory_usage"] <= 100 and status["network_traffic"]["bytes_recv"] > 0
        connected = recv_until(ws, "connected")["data"]
        assert connected["channels"] == ["system"] and "logs" in connected["available"]


def test_first_message_auth_and_subscribe(server: ServerProcess, admin_token: str) -> None:
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"token": admin_token, "channels": []}))
        assert recv_until(ws, "connected")["data"]["channels"] == []
        ws.send(json.dumps({"action": "ping"}))
        recv_until(ws, "pong")
        ws.send(json.dumps({"action": "subscribe", "channels": ["logs", "nope"]}))
        sub = recv_until(ws, "subscribed")["data"]
        assert sub["channels"] == ["logs"] and sub["denied"] == ["nope"]


def test_bad_token_closes_4401(server: ServerProcess) -> None:
    with connect(ws_url(server, token="forged.token.here")) as ws:
        assert recv_until(ws, "error")["data"]["code"] == "INVALID_CREDENTIALS"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4401


def test_channel_permissions(server: ServerProcess, admin_token: str) -> None:
    user = server.make_user(admin_token)
    with connect(ws_url(server, token=user["token"], channels="system,logs,sample")) as ws:
        data = recv_until(ws, "connected")["data"]
        assert data["channels"] == ["sample"] and sorted(data["denied"]) == ["logs", "system"]
    with connect(ws_url(server, "/ws/system/status", token=user["token"])) as ws:
        assert recv_until(ws, "error")["data"]["code"] == "INSUFFICIENT_PERMISSIONS"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4403


def test_log_entry_events(server: ServerProcess, admin_token: str) -> None:
    with connect(ws_url(server, "/ws/logs", token=admin_token)) as ws:
        recv_until(ws, "connected")
        with server.client(admin_token) as c:
            c.post("/users", json={"username": "ws_audit_me", "password": "password-123"})
        entry = recv_until(ws, "log_entry", predicate=lambda d: d["path"] == "/api/v1/users")["data"]
        assert entry["method"] == "POST" and entry["status_code"] == 201


@pytest.mark.hooks("register_jobs", "register_ws_channels")
def test_job_event_reaches_owner_only(server: ServerProcess, admin_token: str) -> None:
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    manager = server.make_user(admin_token, "manager")
    with server.client(alice["token"]) as a:
        note = a.post("/sample/notes", json={"text": "touch me"}).json()["data"]
    with connect(ws_url(server, "/ws/sample", token=alice["token"])) as wa, \
            connect(ws_url(server, "/ws/sample", token=bob["token"])) as wb, \
            connect(ws_url(server, "/ws/sample", token=manager["token"])) as wm:
        for ws in (wa, wb, wm):
            recv_until(ws, "connected")
        with server.client(alice["token"]) as a:
            r = a.post(f"/sample/notes/{note['id']}/touch")
            assert r.status_code == 202 and r.json()["data"]["job_id"]
        event = recv_until(wa, "note_touched")["data"]
        assert event["id"] == note["id"] and event["touched_by_node"] == server.env["IPV6WGM_NODE_ID"]
        assert recv_until(wm, "note_touched")["data"]["id"] == note["id"]
        assert_no(wb, "note_touched")
    with server.client(alice["token"]) as a:
        assert a.get(f"/sample/notes/{note['id']}").json()["data"]["touched_at"]


def test_logout_closes_the_socket(server: ServerProcess) -> None:
    token = server.token()
    with connect(ws_url(server, token=token)) as ws:
        recv_until(ws, "connected")
        assert httpx.post(f"{server.api}/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert recv_until(ws, "closing")["data"]["reason"] == "session revoked"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4401


def test_shutdown_closes_sockets_cleanly() -> None:
    import os
    import signal

    server = ServerProcess().start()
    try:
        with connect(ws_url(server, token=server.token())) as ws:
            recv_until(ws, "connected")
            os.killpg(server.procs[0].pid, signal.SIGTERM)
            assert recv_until(ws, "closing", timeout=10)["data"]["reason"] == "server shutting down"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1001
        assert server.procs[0].wait(15) == 0
    finally:
        server.cleanup()
