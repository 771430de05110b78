"""The leader lease and its fencing on the real databases (MariaDB and SQLite), in-process: two
contenders for one lease row, one of which pauses past its lease and wakes up believing it leads."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from ipv6wgm.bootstrap import session
from ipv6wgm.jobs import JobFailed, fenced
from ipv6wgm.settings import load_settings
from ipv6wgm.testing import mysql_database
from ipv6wgm_cluster.leadership import Fenced, Leadership
from ipv6wgm_cluster.models import ClusterCronTick, ClusterNode

TTL = 0.4


@contextlib.asynccontextmanager
async def database(kind: str, tmp_path: Path) -> AsyncIterator[None]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(mysql_database()) if kind == "mysql" else None
        try:
            async with session(load_settings(data_dir=tmp_path, database_url=url), migrate=True):
                yield
        finally:
            EXECUTOR_CACHE.clear()  # cached INSERT text is per connection name, not per dialect


@pytest.mark.parametrize("kind", ["mysql", "sqlite"])
async def test_a_stale_leader_is_refused_by_the_fencing_check(kind: str, tmp_path: Path) -> None:
    name = f"t-{secrets.token_hex(3)}"
    async with database(kind, tmp_path):
        first = Leadership("clA", ttl=TTL, candidate=True, name=name)
        second = Leadership("clB", ttl=TTL, candidate=True, name=name)
        await first.ensure_row()
        await second.ensure_row()
        assert await first.step() is True and first.is_leader()
        assert await second.step() is False and not second.is_leader()
        stale_epoch = first.epoch
        assert stale_epoch is not None
        async with first.fenced(stale_epoch) as conn:  # a leader's write goes through
            await ClusterNode.create(node_id="fenced-ok", host="127.0.0.1", port=1, using_db=conn)

        await asyncio.sleep(TTL * 1.5)  # first pauses past its lease (no renewal)
        assert await second.step() is True and second.epoch == stale_epoch + 1
        with pytest.raises(Fenced) as refused:
            async with first.fenced(stale_epoch) as conn:
                await ClusterNode.create(node_id="fenced-stale", host="127.0.0.1", port=1, using_db=conn)
        assert refused.value.step == "fencing" and refused.value.details["current_epoch"] == stale_epoch + 1
        assert isinstance(refused.value, JobFailed)
        assert not await ClusterNode.filter(node_id="fenced-stale").exists()
        assert await ClusterNode.filter(node_id="fenced-ok").exists()
        # on waking, its renewal fails and it steps down; the new leader keeps the lease
        assert await first.step() is False and first.epoch is None
        assert (await second.current())["leader"] == "clB"

        # the core's fenced(ctx) uses the same check through the ctx's epoch
        class Services(dict):
            pass

        class Rt:
            services = Services({"cluster.leadership": first})

        with pytest.raises(Fenced):
            async with fenced({"runtime": Rt(), "leader_epoch": stale_epoch}):
                pass

        # a tick is claimed once: by the leader, never by the other, never twice
        tick = int(time.time()) - 30  # past ticks: nobody waits for a lease to expire
        assert await second.claim_tick("sweep", tick, 3) == second.epoch
        assert await second.claim_tick("sweep", tick, 3) is None
        assert await second.step() is True
        assert await first.claim_tick("sweep", tick + 3, 3) is None  # B holds the lease: A cannot run it
        assert await ClusterCronTick.filter(name="sweep").count() == 1
        await second.resign()
        assert await first.claim_tick("sweep", tick + 6, 3) is not None  # resigned: A takes over at once
