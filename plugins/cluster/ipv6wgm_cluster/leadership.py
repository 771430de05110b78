"""The leader: one lease row, taken and renewed by conditional UPDATE, fenced by its epoch.

No consensus code: the database every node shares decides. ``UPDATE … WHERE expires_ms < now``
succeeds for exactly one contender (the row lock serialises them on MariaDB; SQLite serialises
all writes), and bumps ``epoch``. The holder renews with ``WHERE token = mine AND epoch = mine``;
once that matches no row, someone else holds the lease and this process is no longer leader.

The epoch is the fencing token. A leader paused past its lease (GC, SIGSTOP, a slow disk) may
wake up still believing it leads: its writes go through ``fenced(epoch)``, which locks the
lease row and refuses unless the epoch and token are still current, so the stale write never
lands. The lease row stays locked until the write commits, so no takeover interleaves.

Cluster crons: every candidate process queues each tick; ``claim_tick`` lets the leader insert
the tick's row under the fence and run it, while the others wait (within the tick's period)
until the row appears or the lease expires and they take over. A tick therefore runs once even
across a failover, and never twice (unique key on ``(name, tick)``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from ipv6wgm.jobs import JobFailed
from ipv6wgm_cluster.models import ClusterCronTick, ClusterLease

log = logging.getLogger(__name__)
LEADER = "leader"
#: A tick row older than this is pruned by the leader (it only guards against a late duplicate).
TICK_KEEP_MS = 3600_000


def now_ms() -> int:
    return int(time.time() * 1000)


class Fenced(JobFailed):
    """A write under an epoch that is no longer the lease's: refused."""

    def __init__(self, step: str = "fencing", message: str = "stale leader epoch", status: int = 409,
                 code: str = "RESOURCE_CONFLICT", details: dict[str, Any] | None = None) -> None:
        super().__init__(step, message, status, code, details)


class Leadership:
    """This process's view of the lease (``cluster.leadership`` implements ``ipv6wgm.cron.Leadership``)."""

    def __init__(self, node_id: str, *, ttl: float, candidate: bool, name: str = LEADER) -> None:
        self.node_id = node_id
        self.name = name
        self.ttl_ms = int(ttl * 1000)
        self.candidate = candidate
        self.token = secrets.token_hex(16)
        self.epoch: int | None = None
        self._valid_until_ms = 0
        self._lock = asyncio.Lock()

    # ---- the lease -----------------------------------------------------------------------

    async def ensure_row(self) -> None:
        if not await ClusterLease.filter(name=self.name).exists():
            try:
                await ClusterLease.create(name=self.name)
            except IntegrityError:
                pass  # another process created it first

    def is_leader(self) -> bool:
        """Leader by this process's own clock: a margin of a tenth of the TTL before the lease
        runs out, so it stops acting before anyone else may take over."""
        return self.epoch is not None and now_ms() < self._valid_until_ms - self.ttl_ms // 10

    async def step(self) -> bool:
        """Renew the lease if held, else try to take it (candidates only). Returns leadership."""
        if not self.candidate:
            return False
        async with self._lock:
            now = now_ms()
            if self.epoch is not None:
                renewed = await ClusterLease.filter(name=self.name, token=self.token, epoch=self.epoch).update(
                    expires_ms=now + self.ttl_ms)
                if renewed:
                    self._valid_until_ms = now + self.ttl_ms
                    return True
                log.warning("node %s lost the leader lease (epoch %s)", self.node_id, self.epoch)
                self.epoch = None
            taken = await ClusterLease.filter(Q(name=self.name) & (Q(expires_ms__lt=now) | Q(token=None))).update(
                holder=self.node_id, token=self.token, epoch=F("epoch") + 1, expires_ms=now + self.ttl_ms,
                acquired_ms=now)
            if taken:
                row = await ClusterLease.get(name=self.name)
                if row.token == self.token:
                    self.epoch, self._valid_until_ms = int(row.epoch), now + self.ttl_ms
                    log.warning("node %s is the leader (epoch %s)", self.node_id, self.epoch)
                    return True
            return False

    async def resign(self) -> None:
        """On a clean stop: let the lease go at once rather than after its TTL."""
        if self.epoch is not None:
            await ClusterLease.filter(name=self.name, token=self.token, epoch=self.epoch).update(expires_ms=0)
            self.epoch = None

    async def current(self) -> dict[str, Any]:
        row = await ClusterLease.filter(name=self.name).first()
        if row is None or row.token is None or row.expires_ms < now_ms():
            return {"leader": None, "epoch": int(row.epoch) if row else 0, "expires_ms": None}
        return {"leader": row.holder, "epoch": int(row.epoch), "expires_ms": int(row.expires_ms)}

    # ---- fencing -------------------------------------------------------------------------

    @asynccontextmanager
    async def fenced(self, epoch: int) -> AsyncIterator[Any]:
        async with in_transaction() as conn:
            row = await ClusterLease.filter(name=self.name).select_for_update().using_db(conn).first()
            if row is None or int(row.epoch) != epoch or row.token != self.token or row.expires_ms < now_ms():
                current = None if row is None else int(row.epoch)
                raise Fenced(message=f"stale leader epoch {epoch} (current {current})",
                             details={"epoch": epoch, "current_epoch": current})
            yield conn

    # ---- cluster crons -------------------------------------------------------------------

    async def claim_tick(self, name: str, tick: int, every: int) -> int | None:
        if not self.candidate:
            return None
        # A live leader claims at the tick; a dead one's lease runs out within one TTL. So wait
        # at most three TTLs (and never into the next tick) for the row or for the lease.
        deadline = tick * 1000 + min(int(every * 900), 3 * self.ttl_ms)
        poll = max(0.05, min(self.ttl_ms / 4000, every / 10))
        while True:
            if not self.is_leader():
                await self.step()
            if self.is_leader() and self.epoch is not None:
                epoch = self.epoch
                try:
                    async with self.fenced(epoch) as conn:
                        await ClusterCronTick.create(name=name, tick=tick, epoch=epoch, node_id=self.node_id,
                                                     ran_ms=now_ms(), using_db=conn)
                    return epoch
                except IntegrityError:
                    return None  # a previous leader ran this tick
                except Fenced:
                    self.epoch = None
                    continue
            if await ClusterCronTick.filter(name=name, tick=tick).exists() or now_ms() > deadline:
                return None
            await asyncio.sleep(poll)

    async def prune_ticks(self) -> None:
        await ClusterCronTick.filter(ran_ms__lt=now_ms() - TICK_KEEP_MS).delete()
