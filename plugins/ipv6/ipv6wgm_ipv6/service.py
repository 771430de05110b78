"""What the routes, the sweeper and other plugins share: serialization, events, BGP hand-off,
and the two service objects registered for other plugins (see ``plugin.py`` for the contract).
"""

from __future__ import annotations

import logging
from typing import Any

from ipv6wgm.api import ApiError, invalid, iso, utcnow
from ipv6wgm.runtime import current
from ipv6wgm_ipv6 import allocator, validation
from ipv6wgm_ipv6.models import ACTIVE, QUARANTINED, Allocation, Pool, Reservation
from ipv6wgm_ipv6.netmath import PoolGeometry, PrefixError, utilization

log = logging.getLogger(__name__)
CHANNEL = "ipv6"
MESSAGE_TYPE = "ipv6_allocation"


# ---- serialization --------------------------------------------------------------------------


def pool_out(pool: Pool) -> dict[str, Any]:
    total = PoolGeometry.of(pool.prefix, pool.prefix_length).total
    allocated, reserved, quarantined = pool.allocated_count, pool.reserved_count, pool.quarantined_count
    available = max(0, total - allocated - reserved - quarantined)
    return {
        "id": pool.id, "name": pool.name, "prefix": pool.prefix, "prefix_length": pool.prefix_length,
        "description": pool.description, "status": pool.status, "announce": pool.announce,
        "total_prefixes": total, "allocated_prefixes": allocated, "reserved_prefixes": reserved,
        "quarantined_prefixes": quarantined, "available_prefixes": available,
        "utilization": utilization(total, total - available),
        "created_at": iso(pool.created_at), "updated_at": iso(pool.updated_at),
    }


def allocation_out(a: Allocation) -> dict[str, Any]:
    return {
        "id": a.id, "pool_id": a.pool_id, "client_name": a.client_name, "allocated_prefix": a.prefix,
        "prefix_length": int(a.prefix.rsplit("/", 1)[1]), "description": a.description, "holder": a.holder,
        "owner_id": a.owner_id, "status": a.status, "allocated_at": iso(a.allocated_at),
        "released_at": iso(a.released_at), "quarantine_until": iso(a.quarantine_until),
        "expires_at": iso(a.expires_at),
    }


def reservation_out(r: Reservation) -> dict[str, Any]:
    return {"id": r.id, "pool_id": r.pool_id, "prefix": r.prefix,
            "reserved_prefixes": int(r.last_slot) - int(r.first_slot) + 1,
            "description": r.description, "created_at": iso(r.created_at)}


def prefix_conflict(exc: PrefixError) -> ApiError:
    """Schema-valid input the pool's arithmetic refuses (host bits, length, outside the pool)."""
    return ApiError(409, "RESOURCE_CONFLICT", exc.message, {"field": exc.field, "message": exc.message})


# ---- events and hand-offs -------------------------------------------------------------------


async def publish(event: str, allocation: Allocation, **extra: Any) -> None:
    """``ipv6_allocation`` on channel ``ipv6``: reaches the owner and holders of ``ipv6.all``."""
    from ipv6wgm.ws import PRIVILEGED

    data = {"event": event, **allocation_out(allocation), **extra}
    owner = allocation.owner_id if allocation.owner_id is not None else PRIVILEGED
    try:
        await current().hub.publish(CHANNEL, MESSAGE_TYPE, data, owner_id=owner)
    except Exception:  # an event lost must not undo a committed allocation
        log.exception("could not publish %s event for allocation %s", event, allocation.id)


async def refresh_bgp() -> None:
    """Tell the BGP plugin the announced aggregates changed, if it is installed."""
    refresh = current().services.get("bgp.refresh")
    if refresh is None:
        return
    try:
        await refresh()
    except Exception:  # BGP trouble is the BGP plugin's to report; the pool change stands
        log.exception("bgp.refresh failed after an announced pool changed")


# ---- operations shared by routes, services and the sweeper --------------------------------


async def allocate(pool_id: int, **kwargs: Any) -> Allocation:
    allocation, created = await allocator.allocate(pool_id, **kwargs)
    if created:
        await publish("allocated", allocation)
    return allocation


async def release(allocation_id: int, reason: str = "released", *, by_holder: bool = False) -> Allocation | None:
    allocation, changed = await allocator.release(allocation_id, by_holder=by_holder)
    if allocation is not None and changed:
        await publish("released", allocation, reason=reason)
    return allocation


async def sweep(ctx: dict[str, Any] | None = None) -> dict[str, int]:
    """Cron ``ipv6.sweep``: release expired allocations, free finished quarantines (idempotent)."""
    now = utcnow()
    # Only API allocations expire; an allocation with a holder is its holder's to release.
    expired = await Allocation.filter(status=ACTIVE, expires_at__lte=now, holder__isnull=True).order_by("id") \
        .limit(500).values_list("id", flat=True)
    for allocation_id in expired:
        await release(int(allocation_id), reason="expired")
    pools = await Allocation.filter(status=QUARANTINED, quarantine_until__lte=now).distinct() \
        .values_list("pool_id", flat=True)
    freed = 0
    for pool_id in pools:
        async def purge(conn: Any, pool: Pool) -> int:
            return await allocator.purge_quarantine(conn, pool, now)

        try:
            freed += await allocator.with_locked_pool(int(pool_id), purge)
        except ApiError:
            continue  # the pool was deleted meanwhile
    return {"expired": len(expired), "freed": freed}


async def account_changed(event: Any) -> int:
    """``account_changed``: a deleted user's own prefixes go back to the pool (quarantine as
    usual); returns how many were released.

    Only allocations without a holder are this plugin's to release: one with a holder (a prefix
    routed to a WireGuard client) goes when its holder lets it go, which the holder plugin decides
    in its own ``account_changed``. With ``keep_objects`` nothing is released and the user row's
    deletion sets ``owner`` to NULL (foreign key ON DELETE SET NULL). Deactivation changes
    nothing here: an allocation without a holder is on no data plane.
    """
    if event.kind != "deleted" or event.keep_objects:
        return 0
    owned = await Allocation.filter(owner_id=event.user_id, holder__isnull=True, status=ACTIVE) \
        .order_by("id").values_list("id", flat=True)
    for allocation_id in owned:
        await release(int(allocation_id), reason="account deleted")
    return len(owned)


# ---- services for other plugins -------------------------------------------------------------


def _checked(field: str, check: Any, value: Any) -> Any:
    """A service argument through the same validation as the API's (422 naming the field)."""
    try:
        return check(value)
    except ValueError as exc:
        raise invalid(field, str(exc)) from None


class Delegation:
    """``current().services["ipv6.delegation"]``: prefixes for other plugins' objects."""

    async def delegate(self, *, pool_id: int, prefix_length: int | None, holder: str, owner_id: int | None,
                       description: str = "") -> tuple[int, str]:
        _checked("holder", validation.holder, holder)
        description = _checked("description", validation.description, description[:validation.MAX_DESCRIPTION])
        pool = await Pool.filter(id=pool_id).first()
        if pool is None:
            raise ApiError(404, "RESOURCE_NOT_FOUND", "pool not found")
        if prefix_length is not None and prefix_length != pool.prefix_length:
            raise ApiError(422, "VALIDATION_ERROR", "validation failed", {
                "field": "prefix_length",
                "message": f"pool {pool.name!r} hands out /{pool.prefix_length} prefixes, not /{prefix_length}"})
        allocation = await allocate(pool_id, client_name=holder, description=description, holder=holder,
                                    owner_id=owner_id, reuse_holder=True)  # retries get the same prefix
        return allocation.id, allocation.prefix

    async def release(self, allocation_id: int) -> None:
        """The holder's release: the only way an allocation with a holder goes back to the pool."""
        await release(allocation_id, by_holder=True)


class Announcements:
    """``current().services["ipv6.announcements"]``: aggregates the BGP plugin should announce."""

    async def prefixes(self) -> list[str]:
        rows = await Pool.filter(announce=True, status=ACTIVE).order_by("id").values_list("prefix", flat=True)
        return [str(p) for p in rows]


async def collect_metrics(emit: Any) -> None:
    for pool in await Pool.all().order_by("id").limit(1000):
        data = pool_out(pool)
        tags = {"pool": pool.name, "pool_id": str(pool.id), "prefix": pool.prefix}
        emit("ipv6.pool.utilization", data["utilization"], tags=tags, unit="percent")
        emit("ipv6.pool.allocated", data["allocated_prefixes"], tags=tags, unit="count")
        emit("ipv6.pool.available", data["available_prefixes"], tags=tags, unit="count")
