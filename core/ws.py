"""WebSocket hub: channels, per-channel and per-object authorization, Redis fan-out.

Messages are ``{type, data, timestamp}``. A publisher may tag a message with ``owner_id``;
then only that owner and holders of ``<channel>.all`` receive it. With Redis, every process
publishes to one pub/sub channel and delivers what it hears to its own sockets, so an event
raised by a worker on one node reaches a browser connected to an API process on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ipv6wgm.api import now_iso
from ipv6wgm.registry import ChannelSpec
from ipv6wgm.security.rbac import Principal

log = logging.getLogger(__name__)
CONTROL = "_control"
PRIVILEGED = 0  # an owner id no user has: such messages reach only holders of ``<channel>.all``
QUEUE_SIZE = 256
#: The subscription connection is pinged this often; without any reply (message or pong) for
#: twice as long it is considered dead and re-opened.
PING_S = 10.0


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    close_reason: str | None = None

    def close(self, reason: str) -> None:
        self.close_reason = reason
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            pass


class Hub:
    def __init__(self, channels: dict[str, ChannelSpec], redis: Any | None, prefix: str, node_id: str) -> None:
        self.channels = channels
        self.redis = redis
        self.topic = f"{prefix}:ws"
        self.node_id = node_id
        self.subscribers: set[Subscriber] = set()
        self.control_handlers: list[Callable[[dict[str, Any]], Awaitable[None]]] = []
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def listening(self) -> bool:
        """True while the Redis subscription is up (events reach every process)."""
        return self._listening.is_set()

    def add(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)
        self._idle.clear()

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        if not self.subscribers:
            self._idle.set()

    # ---- authorization ---------------------------------------------------------------------

    def may_subscribe(self, principal: Principal, channel: str) -> bool:
        spec = self.channels.get(channel)
        return spec is not None and principal.can(spec.permission)

    @staticmethod
    def may_receive(principal: Principal, channel: str, owner_id: int | None) -> bool:
        return owner_id is None or owner_id == principal.id or principal.can(f"{channel}.all")

    # ---- publishing ------------------------------------------------------------------------

    async def publish(self, channel: str, message_type: str, data: Any, *, owner_id: int | None = None) -> None:
        event = {
            "channel": channel,
            "owner_id": owner_id,
            "message": {"type": message_type, "data": data, "timestamp": now_iso()},
        }
        if await self._publish_remote(event):
            return
        self._deliver(event)

    async def control(self, kind: str, **payload: Any) -> None:
        """Tell every process (e.g. a session was revoked, the config changed)."""
        event = {"channel": CONTROL, "owner_id": None, "message": {"kind": kind, **payload}}
        if not await self._publish_remote(event):
            await self._handle_control(event["message"])

    async def _publish_remote(self, event: dict[str, Any]) -> bool:
        if self.redis is None or not self.redis.available or not self._listening.is_set():
            return False
        try:
            await self.redis.client.publish(self.topic, json.dumps(event, default=str))
            return True
        except Exception as exc:  # noqa: BLE001 - fall back to local delivery
            self.redis.mark_down(exc)
            return False

    def _deliver(self, event: dict[str, Any]) -> None:
        channel, owner_id = event["channel"], event.get("owner_id")
        for sub in list(self.subscribers):
            if channel in sub.channels and self.may_receive(sub.principal, channel, owner_id):
                try:
                    sub.queue.put_nowait(event["message"])
                except asyncio.QueueFull:
                    log.warning("websocket subscriber too slow; closing it")
                    sub.close("slow consumer")

    async def _handle_control(self, message: dict[str, Any]) -> None:
        if message.get("kind") == "session_revoked":
            for sub in list(self.subscribers):
                if sub.principal.session_id in message.get("session_ids", []):
                    sub.close("session revoked")
        for handler in self.control_handlers:
            try:
                await handler(message)
            except Exception:
                log.exception("control handler failed")

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.redis is not None:
            self._listener = asyncio.create_task(self._listen(), name="ws-hub-listener")

    async def close_all(self, reason: str, grace: float = 2.0) -> None:
        """Tell every socket why and close it (1001), waiting briefly for them to go."""
        for sub in list(self.subscribers):
            sub.close(reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)

    async def stop(self) -> None:
        await self.close_all("server shutting down")
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.topic)
                self._listening.set()
                self.redis.mark_up()
                backoff = 0.5
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect with backoff
                self._listening.clear()
                self.redis.mark_down(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self._listening.clear()
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001,S110
                    pass

    async def _receive(self, pubsub: Any) -> None:
        """Deliver what the subscription hears until its connection fails.

        A quiet channel is normal, so there is no read timeout; instead a ping every
        ``PING_S`` must be answered, which also notices a connection that died silently.
        """
        loop = asyncio.get_running_loop()
        last_heard = last_ping = loop.time()
        while True:
            now = loop.time()
            if now - last_heard > 2 * PING_S:
                raise ConnectionError(f"Redis pub/sub silent for {now - last_heard:.0f} s (no reply to ping)")
            if now - last_ping >= PING_S:
                await pubsub.ping()
                last_ping = now
            raw = await pubsub.get_message(timeout=1.0)
            if raw is None:
                continue
            last_heard = loop.time()
            if raw.get("type") != "message":
                continue
            event = json.loads(raw["data"])
            if event.get("channel") == CONTROL:
                await self._handle_control(event["message"])
            else:
                self._deliver(event)
