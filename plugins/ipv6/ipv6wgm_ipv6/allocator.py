"""The allocator: one slot per allocation, decided under the pool row's lock.

Why it is safe: every change to a pool's slots runs in one transaction that first locks the pool
row (``SELECT … FOR UPDATE`` on MariaDB; on SQLite, where that is a no-op, an in-process lock per
pool, kept in the plugin's process state, plus SQLite's own single-writer transaction); the
``(pool, slot)`` UNIQUE constraint is the last line of defence, and a transaction that loses a
race (IntegrityError, deadlock 1213, lock wait 1205, "database is locked") is retried from the
start.

Why it is fast: the pool row keeps ``next_hint``. A search starts there with one indexed query
("first taken slot ≥ hint"); if the hint is taken, one more indexed query finds the end of the
run of taken slots. Slots are only enumerated by the database's index, never by Python, and the
cost does not depend on the pool's size. Only after wrapping around (the pool's tail is full)
does the run-finding query have to walk a long run once, and the hint then moves past it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from ipv6wgm.api import ApiError, conflict, not_found, utcnow
from ipv6wgm_ipv6.models import ACTIVE, DISABLED, QUARANTINED, RELEASED, Allocation, Pool, Reservation
from ipv6wgm_ipv6.netmath import PoolGeometry, parse_network
from ipv6wgm_ipv6.settings import get_settings
from ipv6wgm_ipv6.state import plugin_state

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_TRIES = 8
RETRYABLE_MYSQL = {1205, 1213}  # lock wait timeout, deadlock
# The first taken slot >= start whose successor is free: walks the (pool_id, slot) unique index.
_END_OF_RUN = (
    "SELECT a.slot FROM ipv6_allocations a WHERE a.pool_id = ? AND a.slot >= ? "
    "AND NOT EXISTS (SELECT 1 FROM ipv6_allocations b WHERE b.pool_id = a.pool_id AND b.slot = a.slot + 1) "
    "ORDER BY a.slot LIMIT 1"
)
_END_OF_RUN_MYSQL = _END_OF_RUN.replace("?", "%s")


def geometry(pool: Pool) -> PoolGeometry:
    return PoolGeometry.of(pool.prefix, pool.prefix_length)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    cause = exc.args[0] if exc.args else None
    code = getattr(cause, "args", (None,))[0] if cause is not None else None
    return code in RETRYABLE_MYSQL or "database is locked" in str(exc)


async def with_locked_pool(pool_id: int, work: Callable[[Any, Pool], Awaitable[T]]) -> T:
    """Run ``work(conn, pool)`` in a transaction holding the pool's lock; retry lost races."""
    lock = plugin_state().pool_lock(pool_id)
    for attempt in range(MAX_TRIES):
        try:
            async with lock, in_transaction() as conn:
                pool = await Pool.select_for_update().using_db(conn).get_or_none(id=pool_id)
                if pool is None:
                    raise not_found("pool")
                return await work(conn, pool)
        except (IntegrityError, OperationalError) as exc:
            if not _retryable(exc) or attempt == MAX_TRIES - 1:
                if isinstance(exc, IntegrityError):
                    raise conflict("a concurrent change conflicted with this one; try again") from None
                raise
            log.info("pool %s: retrying after %s", pool_id, type(exc).__name__)
            await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))  # noqa: S311 - jitter
    raise AssertionError("unreachable")


# ---- slot search ----------------------------------------------------------------------------


async def _first_taken_at_or_after(conn: Any, pool_id: int, start: int) -> int | None:
    rows = await Allocation.filter(pool_id=pool_id, slot__gte=start).using_db(conn).order_by("slot") \
        .limit(1).values_list("slot", flat=True)
    return int(rows[0]) if rows else None


async def _end_of_run(conn: Any, pool_id: int, start: int) -> int:
    """First slot after the run of taken slots that begins at ``start`` (``start`` is taken)."""
    sql = _END_OF_RUN_MYSQL if conn.capabilities.dialect == "mysql" else _END_OF_RUN
    _, rows = await conn.execute_query(sql, [pool_id, start])
    return int(rows[0]["slot"] if isinstance(rows[0], dict) else rows[0][0]) + 1


def _skip_reserved(slot: int, ranges: list[tuple[int, int]]) -> int:
    for first, last in ranges:  # sorted, disjoint
        if first <= slot <= last:
            slot = last + 1
    return slot


async def _free_slot_in(conn: Any, pool_id: int, start: int, end: int, ranges: list[tuple[int, int]]) -> int | None:
    """Smallest free, unreserved slot in ``[start, end)``; a bounded number of indexed queries."""
    slot = start
    while True:
        slot = _skip_reserved(slot, ranges)
        if slot >= end:
            return None
        taken = await _first_taken_at_or_after(conn, pool_id, slot)
        if taken is None or taken > slot:
            return slot
        slot = await _end_of_run(conn, pool_id, slot)


async def _reserved_ranges(conn: Any, pool_id: int) -> list[tuple[int, int]]:
    rows = await Reservation.filter(pool_id=pool_id).using_db(conn).order_by("first_slot") \
        .values_list("first_slot", "last_slot")
    return [(int(a), int(b)) for a, b in rows]


async def purge_quarantine(conn: Any, pool: Pool, now: datetime | None = None) -> int:
    """Free the slots whose quarantine is over (pool locked); returns how many."""
    if not pool.quarantined_count:
        return 0
    purged = await Allocation.filter(
        pool_id=pool.id, status=QUARANTINED, quarantine_until__lte=now or utcnow()
    ).using_db(conn).delete()
    if purged:
        pool.quarantined_count = max(0, pool.quarantined_count - purged)
        await pool.save(using_db=conn, update_fields=["quarantined_count", "updated_at"])
    return purged


# ---- allocation and release ----------------------------------------------------------------


async def allocate(
    pool_id: int, *, client_name: str, description: str = "", holder: str | None = None,
    owner_id: int | None = None, prefix: str | None = None, expires_at: datetime | None = None,
    reuse_holder: bool = False,
) -> tuple[Allocation, bool]:
    """Hand out the next free slot (or the requested ``prefix``) of a pool; ``(allocation, created)``.

    With ``reuse_holder`` an active allocation of the same holder in this pool is returned
    instead (decided under the lock, so retried delegations never take two prefixes).
    Raises ``ApiError`` 404 (no pool) or 409 (disabled, exhausted, taken, reserved,
    quarantined) and ``PrefixError`` for a requested prefix that does not fit the pool.
    """

    async def work(conn: Any, pool: Pool) -> tuple[Allocation, bool]:
        if reuse_holder and holder:
            existing = await Allocation.filter(pool_id=pool.id, holder=holder, status=ACTIVE).using_db(conn) \
                .order_by("id").first()
            if existing is not None:
                return existing, False
        if pool.status == DISABLED:
            raise conflict(f"pool {pool.name!r} is disabled", pool_id=pool.id)
        geo = geometry(pool)
        await purge_quarantine(conn, pool)
        ranges = await _reserved_ranges(conn, pool.id)
        if prefix is not None:
            slot = geo.slot_of(prefix)
            await _check_requested(conn, pool, slot, ranges, geo)
        else:
            slot = await _next_free(conn, pool, ranges, geo.total)
        allocation = await Allocation.create(
            pool_id=pool.id, slot=slot, prefix=geo.prefix_of(slot), client_name=client_name,
            description=description, holder=holder, owner_id=owner_id, status=ACTIVE, expires_at=expires_at,
            using_db=conn,
        )
        if prefix is None:
            pool.next_hint = slot + 1 if slot + 1 < geo.total else 0
        pool.allocated_count += 1
        await pool.save(using_db=conn, update_fields=["next_hint", "allocated_count", "updated_at"])
        return allocation, True

    return await with_locked_pool(pool_id, work)


async def _next_free(conn: Any, pool: Pool, ranges: list[tuple[int, int]], total: int) -> int:
    hint = min(max(int(pool.next_hint), 0), total - 1)
    used = pool.allocated_count + pool.quarantined_count + pool.reserved_count
    slot = None
    if used < total:
        slot = await _free_slot_in(conn, pool.id, hint, total, ranges)
        if slot is None and hint:
            slot = await _free_slot_in(conn, pool.id, 0, hint, ranges)
    if slot is None:
        raise conflict(
            f"pool {pool.name!r} is exhausted: all {total} /{pool.prefix_length} prefixes are allocated, "
            "reserved or in quarantine", pool_id=pool.id, total_prefixes=total,
        )
    return slot


async def _check_requested(conn: Any, pool: Pool, slot: int, ranges: list[tuple[int, int]],
                           geo: PoolGeometry) -> None:
    prefix = geo.prefix_of(slot)
    if any(first <= slot <= last for first, last in ranges):
        raise conflict(f"{prefix} is reserved", field="prefix")
    existing = await Allocation.filter(pool_id=pool.id, slot=slot).using_db(conn).first()
    if existing is not None:
        what = "in quarantine after a release" if existing.status == QUARANTINED else "already allocated"
        raise conflict(f"{prefix} is {what}", field="prefix")


async def release(allocation_id: int, *, by_holder: bool = False) -> tuple[Allocation | None, bool]:
    """Move an active allocation to quarantine (or free it at once with no quarantine).

    Idempotent: returns ``(allocation as it is now, whether this call released it)``; an
    allocation already in quarantine comes back unchanged, a missing one as ``None``.

    One prefix, one holder: an allocation another plugin holds (``holder`` set, e.g. a prefix
    routed to a WireGuard client) is released only by that holder (``by_holder``, through the
    ``ipv6.delegation`` service); anyone else gets 409 naming the holder and nothing changes.
    Otherwise the prefix could go to a second user while it is still routed to the first.
    """
    found = await Allocation.filter(id=allocation_id).values_list("pool_id", flat=True)
    if not found:
        return None, False
    quarantine = get_settings().quarantine_seconds

    async def work(conn: Any, pool: Pool) -> tuple[Allocation | None, bool]:
        allocation = await Allocation.filter(id=allocation_id).using_db(conn).first()
        if allocation is None or allocation.status != ACTIVE:
            return allocation, False
        if allocation.holder and not by_holder:
            raise conflict(f"allocation {allocation.id} is held by {allocation.holder}; it is released when its "
                           "holder lets it go", holder=allocation.holder, allocation_id=allocation.id)
        now = utcnow()
        allocation.status, allocation.released_at = QUARANTINED, now
        allocation.quarantine_until = now + timedelta(seconds=quarantine)
        pool.allocated_count = max(0, pool.allocated_count - 1)
        if quarantine:
            await allocation.save(using_db=conn, update_fields=["status", "released_at", "quarantine_until"])
            pool.quarantined_count += 1
        else:
            await Allocation.filter(id=allocation.id).using_db(conn).delete()
            allocation.status = RELEASED
        await pool.save(using_db=conn, update_fields=["allocated_count", "quarantined_count", "updated_at"])
        return allocation, True

    try:
        return await with_locked_pool(int(found[0]), work)
    except ApiError as exc:
        if exc.status == 404:  # the pool went away meanwhile, and its allocations with it
            return None, False
        raise


# ---- reservations ---------------------------------------------------------------------------


async def reserve(pool_id: int, prefix: str, description: str) -> Reservation:
    """Reserve every slot a prefix covers; refused (409) if any is allocated or reserved."""

    async def work(conn: Any, pool: Pool) -> Reservation:
        geo = geometry(pool)
        first, last = geo.slot_range(prefix)
        ranges = await _reserved_ranges(conn, pool.id)
        if len(ranges) >= get_settings().max_reservations:
            raise conflict(f"a pool holds at most {get_settings().max_reservations} reservations")
        if any(a <= last and first <= b for a, b in ranges):
            raise conflict("the range overlaps an existing reservation", field="prefix")
        await purge_quarantine(conn, pool)
        if await Allocation.filter(pool_id=pool.id, slot__gte=first, slot__lte=last).using_db(conn).exists():
            raise conflict("the range contains allocated or quarantined prefixes", field="prefix")
        normalized = str(parse_network(prefix))
        reservation = await Reservation.create(pool_id=pool.id, prefix=normalized, first_slot=first,
                                               last_slot=last, description=description, using_db=conn)
        pool.reserved_count += last - first + 1
        await pool.save(using_db=conn, update_fields=["reserved_count", "updated_at"])
        return reservation

    return await with_locked_pool(pool_id, work)


async def unreserve(pool_id: int, reservation_id: int) -> None:
    async def work(conn: Any, pool: Pool) -> None:
        reservation = await Reservation.filter(id=reservation_id, pool_id=pool.id).using_db(conn).first()
        if reservation is None:
            raise not_found("reservation")
        await reservation.delete(using_db=conn)
        pool.reserved_count = max(0, pool.reserved_count - (reservation.last_slot - reservation.first_slot + 1))
        await pool.save(using_db=conn, update_fields=["reserved_count", "updated_at"])

    await with_locked_pool(pool_id, work)
