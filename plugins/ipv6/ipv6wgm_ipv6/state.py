"""The IPv6 plugin's process state, kept on the runtime (built in ``startup``, dropped in
``shutdown``): one lock per pool, which serialises allocations inside this process where the
database cannot (``SELECT … FOR UPDATE`` is a no-op on SQLite; see ``allocator``)."""

from __future__ import annotations

import asyncio

from ipv6wgm.runtime import current

PLUGIN = "ipv6"


class IPv6State:
    def __init__(self) -> None:
        self._pool_locks: dict[int, asyncio.Lock] = {}

    def pool_lock(self, pool_id: int) -> asyncio.Lock:
        return self._pool_locks.setdefault(pool_id, asyncio.Lock())

    async def close(self) -> None:
        self._pool_locks.clear()


def plugin_state() -> IPv6State:
    return current().state(PLUGIN, IPv6State)
