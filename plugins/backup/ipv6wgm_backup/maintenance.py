"""The write pause a restore holds: a row in ``backup_maintenance`` with an expiry.

Every API process asks ``write_guard`` (the core calls it before each write, see
``ipv6wgm.maintenance``). The answer is cached for ``CACHE_S`` per process, so a restore waits
that long after taking the pause before it touches a table. The row is refreshed while the
restore runs; a restore whose process was killed stops blocking writes ``lock_ttl`` seconds
after its last refresh. The process running the restore also knows it without the database
(SQLite: its one writer connection is busy with the restore's transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from ipv6wgm.api import RESOURCE_CONFLICT, utcnow
from ipv6wgm.jobs import JobFailed
from ipv6wgm.maintenance import WriteBlock
from ipv6wgm.runtime import current
from ipv6wgm_backup.models import Maintenance
from ipv6wgm_backup.settings import get_settings

CACHE_S = 1.0
LEASE = "restore"
REASON = "a backup is being restored"


@dataclass
class BackupState:
    """This process's view of the pause: the restore it runs itself, and the cached answer."""

    restoring: str | None = None
    paused_at: float = 0.0
    cached: WriteBlock | None = None
    cached_until: float = 0.0

    def close(self) -> None:
        self.restoring = None


def state() -> BackupState:
    return current().state("backup", BackupState)


def _retry_after() -> int:
    return max(1, min(30, get_settings().lock_ttl // 3))


async def active_lease() -> Maintenance | None:
    row = await Maintenance.filter(id=LEASE).first()
    return row if row is not None and row.expires_at > utcnow() else None


def _read_expiry() -> datetime | None:
    """The lease's expiry: inline through SQLite's read-only connection (the writer may be inside
    the restore's transaction), else None to say "ask Tortoise"."""
    reader = current().db_reader
    if reader is None:
        return None
    row = reader.execute("SELECT expires_at FROM backup_maintenance WHERE id = ?", (LEASE,)).fetchone()
    return datetime.fromisoformat(row[0]) if row else datetime.min.replace(tzinfo=utcnow().tzinfo)


async def write_guard() -> WriteBlock | None:
    """Service ``backup.write_guard``: a block while a restore runs anywhere in the cluster."""
    st = state()
    if st.restoring:
        return WriteBlock(REASON, _retry_after())
    now = time.monotonic()
    if now < st.cached_until:
        return st.cached
    expiry = _read_expiry()
    if expiry is None:
        row = await Maintenance.filter(id=LEASE).first()
        expiry = row.expires_at if row is not None else None
    st.cached = WriteBlock(REASON, _retry_after()) if expiry is not None and expiry > utcnow() else None
    st.cached_until = now + CACHE_S
    return st.cached


@contextlib.asynccontextmanager
async def paused(job_id: str) -> AsyncIterator[None]:
    """Hold the pause for the duration of the block (a 409 if another restore holds it). Touch
    no table before ``settled()``: until then another process may still answer from its cache."""
    ttl = get_settings().lock_ttl
    lease = await active_lease()
    if lease is not None and lease.job_id != job_id:
        raise JobFailed("pause", f"another restore is running (job {lease.job_id})", 409, RESOURCE_CONFLICT,
                        {"job_id": lease.job_id})
    st = state()
    st.restoring = job_id
    await Maintenance.update_or_create(id=LEASE, defaults={
        "job_id": job_id, "reason": REASON, "expires_at": utcnow() + timedelta(seconds=ttl)})

    async def refresh() -> None:
        while True:
            await asyncio.sleep(max(1.0, ttl / 3))
            await Maintenance.filter(id=LEASE, job_id=job_id).update(expires_at=utcnow() + timedelta(seconds=ttl))

    st.paused_at = time.monotonic()
    task = asyncio.create_task(refresh(), name=f"backup-lease:{job_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        st.restoring = None
        await Maintenance.filter(id=LEASE, job_id=job_id).delete()


async def settled() -> None:
    """Wait until every process's cached "no pause" answer has expired."""
    wait = state().paused_at + CACHE_S + 0.2 - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)
