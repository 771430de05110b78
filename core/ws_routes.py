"""WebSocket endpoints: ``/api/v1/ws/connect`` and one stream per channel (``/ws/<x>/status``).

The token comes in the query (``?token=``) or in the first message
(``{"token": "...", "channels": [...]}``) so browsers need not put it in URLs. Afterwards a
client may send ``{"action": "subscribe"|"unsubscribe", "channels": [...]}`` or
``{"action": "ping"}``. Close codes: 4401 bad or revoked token, 4403 channel not allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from quart import Blueprint, websocket

from ipv6wgm.api import ApiError, loads_json, now_iso
from ipv6wgm.auth.service import authenticate
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import Principal
from ipv6wgm.ws import Subscriber

log = logging.getLogger(__name__)
AUTH_TIMEOUT_S = 10


def _msg(message_type: str, data: Any) -> str:
    return json.dumps({"type": message_type, "data": data, "timestamp": now_iso()}, default=str)


async def _first_message() -> dict[str, Any]:
    raw = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_S)
    payload = loads_json(raw)
    if not isinstance(payload, dict):
        raise ValueError("first message must be a JSON object")
    return payload


async def _authenticate() -> tuple[Principal, list[str] | None]:
    token = websocket.args.get("token")
    channels = [c for c in websocket.args.get("channels", "").split(",") if c] or None
    if not token:
        first = await _first_message()
        token = first.get("token")
        if isinstance(first.get("channels"), list):
            channels = [str(c) for c in first["channels"]]
    return await authenticate(token if isinstance(token, str) else None), channels


async def _subscribe(sub: Subscriber, channels: list[str]) -> list[str]:
    hub = current().hub
    denied = [c for c in channels if not hub.may_subscribe(sub.principal, c)]
    for name in channels:
        if name in denied or name in sub.channels:
            continue
        sub.channels.add(name)
        spec = hub.channels[name]
        if spec.snapshot is not None:
            try:
                data = await spec.snapshot(sub.principal)
                await websocket.send(_msg(spec.message_type, data))
            except Exception:
                log.exception("snapshot of channel %s failed", name)
    return denied


async def serve_socket(fixed_channel: str | None = None) -> None:
    hub = current().hub
    await websocket.accept()
    try:
        principal, channels = await _authenticate()
    except (ApiError, ValueError, TimeoutError, json.JSONDecodeError) as exc:
        code = exc.code if isinstance(exc, ApiError) else "INVALID_CREDENTIALS"
        await websocket.send(_msg("error", {"code": code, "message": "authentication failed"}))
        await websocket.close(4401)
        return
    if fixed_channel is not None:
        channels = [fixed_channel]
    sub = Subscriber(principal)
    hub.add(sub)
    sender = asyncio.create_task(_pump(sub))
    try:
        denied = await _subscribe(sub, channels or [])
        if fixed_channel is not None and denied:
            await websocket.send(_msg("error", {"code": "INSUFFICIENT_PERMISSIONS", "channels": denied}))
            await websocket.close(4403)
            return
        await websocket.send(
            _msg("connected", {"user_id": principal.id, "channels": sorted(sub.channels), "denied": denied,
                               "available": sorted(hub.channels)})
        )
        receiver = asyncio.create_task(_receive_loop(sub, allow_changes=fixed_channel is None))
        await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver
    finally:
        hub.remove(sub)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _receive_loop(sub: Subscriber, *, allow_changes: bool) -> None:
    while True:
        raw = await websocket.receive()
        try:
            payload = loads_json(raw)
            action = payload.get("action")
            channels = [str(c) for c in payload.get("channels", [])]
        except (ValueError, AttributeError, TypeError):
            await websocket.send(_msg("error", {"code": "VALIDATION_ERROR", "message": "invalid message"}))
            continue
        if action == "ping":
            await websocket.send(_msg("pong", {}))
        elif action == "subscribe" and allow_changes:
            denied = await _subscribe(sub, channels)
            await websocket.send(_msg("subscribed", {"channels": sorted(sub.channels), "denied": denied}))
        elif action == "unsubscribe" and allow_changes:
            sub.channels.difference_update(channels)
            await websocket.send(_msg("unsubscribed", {"channels": sorted(sub.channels)}))
        else:
            await websocket.send(_msg("error", {"code": "VALIDATION_ERROR", "message": "unknown action"}))


async def _pump(sub: Subscriber) -> None:
    while True:
        message = await sub.queue.get()
        if message is None:
            await websocket.send(_msg("closing", {"reason": sub.close_reason}))
            await websocket.close(4401 if sub.close_reason == "session revoked" else 1001)
            return
        await websocket.send(json.dumps(message, default=str))


def build_ws_blueprint() -> Blueprint:
    """Built at app creation, once the registry (and so every channel's stream path) is known."""
    bp = Blueprint("ws", __name__, url_prefix="/api/v1")

    @bp.websocket("/ws/connect")
    async def ws_connect() -> None:
        await serve_socket()

    for spec in current().registry.channels.values():
        if spec.stream_path:
            async def stream(channel: str = spec.name) -> None:
                await serve_socket(channel)

            bp.add_websocket(spec.stream_path, f"stream_{spec.name}", stream)
    return bp
