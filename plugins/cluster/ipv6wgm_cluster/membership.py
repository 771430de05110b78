"""Membership: every server and worker process registers its node and heartbeats into the database.

A node is what ``IPV6WGM_NODE_ID`` names; several processes may share it (the API server and
the node's worker), and each adds its capabilities: ``api`` (a server), ``gateway`` (a process
that owns a data plane: a worker, or the server in the embedded mode) and ``bird`` (a gateway
with the BGP plugin). Redis, when present, carries a heartbeat key with the same TTL as a fast
path for readers; the database row is the truth.

Status, computed when read (so it never goes stale in a row):
- ``offline``: the last heartbeat is older than ``IPV6WGM_CLUSTER_HEARTBEAT_TTL``;
- ``unhealthy``: the last active health check (within ``health_hold``) failed;
- ``pending``: pre-registered (``POST /cluster/nodes``), no heartbeat yet;
- ``healthy``: otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from ipv6wgm import __version__
from ipv6wgm.runtime import Runtime
from ipv6wgm_cluster.leadership import Leadership, now_ms
from ipv6wgm_cluster.models import ClusterNode
from ipv6wgm_cluster.settings import ClusterSettings

log = logging.getLogger(__name__)


def capabilities(runtime: Runtime) -> list[str]:
    """What this process brings to its node."""
    caps = []
    if runtime.role == "server":
        caps.append("api")
    gateway = runtime.role == "worker" or (runtime.role == "server" and not runtime.settings.redis_url)
    if gateway:
        caps.append("gateway")
        if "bgp" in runtime.plugins.records and runtime.plugins.records["bgp"].status == "loaded":
            caps.append("bird")
    return caps


def status_of(node: ClusterNode, settings: ClusterSettings, now: int | None = None) -> str:
    now = now_ms() if now is None else now
    if node.heartbeat_ms is not None and now - int(node.heartbeat_ms) > settings.heartbeat_ttl * 1000:
        return "offline"
    held = node.health_checked_ms is not None and now - int(node.health_checked_ms) <= settings.health_hold * 1000
    if held and node.health_status == "unhealthy":
        return "unhealthy"
    return "pending" if node.heartbeat_ms is None else "healthy"


def ms_iso(value: int | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, UTC).isoformat().replace("+00:00", "Z")


class Membership:
    """One process's heartbeat loop; it also drives the leader lease (see ``Leadership``)."""

    def __init__(self, runtime: Runtime, settings: ClusterSettings, leadership: Leadership) -> None:
        self.runtime = runtime
        self.settings = settings
        self.leadership = leadership
        self.node_id = runtime.settings.node_id
        self.caps = capabilities(runtime)
        self._task: asyncio.Task[None] | None = None
        self._beats = 0

    async def start(self) -> None:
        await self.leadership.ensure_row()
        await self.beat()
        self._task = asyncio.create_task(self._loop(), name="cluster:heartbeat")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.leadership.resign()
        except Exception as exc:  # noqa: BLE001 - the lease then simply expires
            log.warning("could not resign the leader lease: %s", exc)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be away; retry next beat
                log.warning("cluster heartbeat of %s failed: %s", self.node_id, exc)

    async def beat(self) -> None:
        """Write this node's heartbeat (creating or completing its row), then the lease."""
        now = now_ms()
        node = await ClusterNode.filter(node_id=self.node_id).first()
        if node is None:
            settings = self.runtime.settings
            try:
                await ClusterNode.create(node_id=self.node_id, host=settings.host, port=settings.port,
                                         capabilities=self.caps, version=__version__, heartbeat_ms=now,
                                         metadata={"environment": settings.environment})
            except IntegrityError:
                node = await ClusterNode.get(node_id=self.node_id)
        if node is not None:
            changes: dict[str, Any] = {"heartbeat_ms": now, "offline_since_ms": None}
            if not set(self.caps) <= set(node.capabilities or []):
                changes["capabilities"] = sorted({*node.capabilities, *self.caps})
            if "api" in self.caps and (node.host, node.port) != (self.runtime.settings.host,
                                                                self.runtime.settings.port):
                changes.update(host=self.runtime.settings.host, port=self.runtime.settings.port)
            if node.version != __version__:
                changes["version"] = __version__
            await ClusterNode.filter(id=node.id).update(**changes)
        await self._fast_path(now)
        if await self.leadership.step():
            self._beats += 1
            if self._beats % 100 == 1:
                await self.leadership.prune_ticks()

    async def _fast_path(self, now: int) -> None:
        redis = self.runtime.redis
        if redis is None or not redis.available:
            return
        try:
            await redis.client.set(heartbeat_key(self.runtime.settings.redis_prefix, self.node_id), str(now),
                             px=int(self.settings.heartbeat_ttl * 1000))
        except Exception as exc:  # noqa: BLE001 - the database row is the truth
            redis.mark_down(exc)


def heartbeat_key(prefix: str, node_id: str) -> str:
    return f"{prefix}:cluster:heartbeat:{node_id}"
