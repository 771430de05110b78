"""The cluster plugin's process state: this process's lease view and its heartbeat loop.

Built in ``startup``: a server or worker registers its node and heartbeats; a CLI session only
reads (no heartbeat, never a leader candidate). Leader candidates are the processes that run
crons: workers, and the server in the embedded mode (no Redis), which is then the one node of
its cluster and its leader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ipv6wgm.runtime import Runtime, current
from ipv6wgm_cluster.leadership import Leadership
from ipv6wgm_cluster.membership import Membership
from ipv6wgm_cluster.settings import cluster_settings

PLUGIN = "cluster"


class ClusterState:
    def __init__(self, runtime: Runtime) -> None:
        settings = cluster_settings()
        serving = runtime.role in ("server", "worker")
        candidate = runtime.role == "worker" or (runtime.role == "server" and not runtime.settings.redis_url)
        self.leadership = Leadership(runtime.settings.node_id, ttl=settings.lease_ttl, candidate=candidate)
        self.membership = Membership(runtime, settings, self.leadership) if serving else None

    async def start(self) -> None:
        if self.membership is not None:
            await self.membership.start()

    async def close(self) -> None:
        if self.membership is not None:
            await self.membership.close()


def plugin_state() -> ClusterState:
    return current().state(PLUGIN, ClusterState)


class LeadershipService:
    """``services["cluster.leadership"]`` (``ipv6wgm.cron.Leadership``): the running process's
    lease view. Registered before any runtime exists, so it looks the state up per call."""

    async def claim_tick(self, name: str, tick: int, every: int) -> int | None:
        return await plugin_state().leadership.claim_tick(name, tick, every)

    @asynccontextmanager
    async def fenced(self, epoch: int) -> AsyncIterator[Any]:
        async with plugin_state().leadership.fenced(epoch) as conn:
            yield conn

    def is_leader(self) -> bool:
        return plugin_state().leadership.is_leader()

    async def current(self) -> dict[str, Any]:
        return await plugin_state().leadership.current()
