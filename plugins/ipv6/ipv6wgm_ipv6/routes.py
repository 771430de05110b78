"""/ipv6/pools and their reservations: who may hand out which prefixes.

Pools are shared infrastructure: managers write them, users may read them (to choose one).
Changes to an announced pool are passed to the BGP plugin (``bgp.refresh``) after they commit.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request
from tortoise.exceptions import IntegrityError

from ipv6wgm.api import Envelope, MessageEnvelope, conflict, not_found, ok, paginate
from ipv6wgm.security.rbac import require
from ipv6wgm_ipv6 import allocator, service
from ipv6wgm_ipv6.models import ACTIVE, Pool, Reservation
from ipv6wgm_ipv6.netmath import PoolGeometry, PrefixError
from ipv6wgm_ipv6.schemas import (
    PoolCreate,
    PoolList,
    PoolOut,
    PoolQuery,
    PoolUpdate,
    ReservationCreate,
    ReservationList,
    ReservationOut,
)

bp = Blueprint("ipv6", __name__)


def _geometry(prefix: str, prefix_length: int) -> PoolGeometry:
    try:
        return PoolGeometry.of(prefix, prefix_length)
    except PrefixError as exc:
        raise service.prefix_conflict(exc) from None


async def _check_overlap(geo: PoolGeometry, exclude: int | None = None) -> None:
    """Pools never overlap, so one prefix can never be handed out by two pools."""
    qs = Pool.all() if exclude is None else Pool.exclude(id=exclude)
    for pool_id, name, prefix in await qs.values_list("id", "name", "prefix"):
        if _network(prefix).overlaps(geo.network):
            raise conflict(f"{geo.network} overlaps pool {name!r} ({prefix})", field="prefix", pool_id=pool_id)


def _network(prefix: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network(prefix)


@bp.get("/pools")
@require("ipv6.pools.read")
@validate_querystring(PoolQuery)
@document_response(Envelope[PoolList])
async def list_pools(query_args: PoolQuery):
    """Pools with their counts in allocation units (exact integers, computed, never enumerated)."""
    qs = Pool.all().order_by("id")
    if query_args.status:
        qs = qs.filter(status=query_args.status)
    rows, page = await paginate(qs, query_args)
    return ok({"pools": [service.pool_out(p) for p in rows], "pagination": page})


@bp.post("/pools")
@require("ipv6.pools.write")
@validate_request(PoolCreate)
@document_response(Envelope[PoolOut], 201)
async def create_pool(data: PoolCreate):
    """Create a pool. 409 if the name is taken, the prefix overlaps another pool, has host bits
    set, or ``prefix_length`` is outside pool length..128 (or gives more than 2^62 units)."""
    geo = _geometry(data.prefix, data.prefix_length)
    if await Pool.filter(name=data.name).exists():
        raise conflict(f"a pool named {data.name!r} exists", field="name")
    await _check_overlap(geo)
    try:
        pool = await Pool.create(name=data.name, prefix=str(geo.network), prefix_length=data.prefix_length,
                                 description=data.description, status=data.status, announce=data.announce)
    except IntegrityError:
        raise conflict(f"a pool named {data.name!r} exists", field="name") from None
    if pool.announce:
        await service.refresh_bgp()
    return ok(service.pool_out(pool), "IPv6 prefix pool created", 201)


async def _pool(pool_id: int) -> Pool:
    pool = await Pool.filter(id=pool_id).first()
    if pool is None:
        raise not_found("pool")
    return pool


@bp.get("/pools/<int:pool_id>")
@require("ipv6.pools.read")
@document_response(Envelope[PoolOut])
async def get_pool(pool_id: int):
    """One pool with its counts and utilization."""
    return ok(service.pool_out(await _pool(pool_id)))


@bp.put("/pools/<int:pool_id>")
@require("ipv6.pools.write")
@validate_request(PoolUpdate)
@document_response(Envelope[PoolOut])
async def update_pool(pool_id: int, data: PoolUpdate):
    """Change name, description, status or announce; the prefix and its cut only while the pool
    holds no allocations, quarantined prefixes or reservations (else 409)."""
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    current_pool = await _pool(pool_id)
    geo = None
    if "prefix" in changes or "prefix_length" in changes:
        geo = _geometry(changes.get("prefix", current_pool.prefix),
                        changes.get("prefix_length", current_pool.prefix_length))
        await _check_overlap(geo, exclude=pool_id)
    if "name" in changes and await Pool.filter(name=changes["name"]).exclude(id=pool_id).exists():
        raise conflict(f"a pool named {changes['name']!r} exists", field="name")

    async def work(conn: Any, pool: Pool) -> tuple[Pool, bool]:
        before = (pool.announce, pool.status, pool.prefix)
        if geo is not None:
            if geo.network != _network(pool.prefix) or changes.get("prefix_length", pool.prefix_length) \
                    != pool.prefix_length:
                await allocator.purge_quarantine(conn, pool)
                if pool.allocated_count or pool.quarantined_count or pool.reserved_count:
                    raise conflict("the prefix of a pool can change only while it holds no allocations, "
                                   "quarantined prefixes or reservations", field="prefix")
            changes["prefix"] = str(geo.network)
            pool.next_hint = 0
        for key, value in changes.items():
            setattr(pool, key, value)
        await pool.save(using_db=conn)
        after = (pool.announce, pool.status, pool.prefix)
        return pool, before != after and (before[0] or after[0])

    try:
        pool, announce_changed = await allocator.with_locked_pool(pool_id, work)
    except IntegrityError:
        raise conflict("a pool with this name exists", field="name") from None
    if announce_changed:
        await service.refresh_bgp()
    return ok(service.pool_out(pool), "IPv6 prefix pool updated")


@bp.delete("/pools/<int:pool_id>")
@require("ipv6.pools.write")
@document_response(MessageEnvelope)
async def delete_pool(pool_id: int):
    """Delete a pool with its reservations and quarantined prefixes; 409 while any allocation
    is active (release them first)."""

    async def work(conn: Any, pool: Pool) -> bool:
        if pool.allocated_count:
            raise conflict(f"pool {pool.name!r} still has {pool.allocated_count} active allocation(s)",
                           allocated_prefixes=pool.allocated_count)
        announced = pool.announce and pool.status == ACTIVE
        await pool.delete(using_db=conn)
        return announced

    if await allocator.with_locked_pool(pool_id, work):
        await service.refresh_bgp()
    return ok(None, "IPv6 prefix pool deleted")


# ---- reservations ---------------------------------------------------------------------------


@bp.get("/pools/<int:pool_id>/reservations")
@require("ipv6.pools.read")
@document_response(Envelope[ReservationList])
async def list_reservations(pool_id: int):
    """Ranges of the pool that are never handed out."""
    await _pool(pool_id)
    rows = await Reservation.filter(pool_id=pool_id).order_by("first_slot")
    return ok({"reservations": [service.reservation_out(r) for r in rows]})


@bp.post("/pools/<int:pool_id>/reservations")
@require("ipv6.pools.write")
@validate_request(ReservationCreate)
@document_response(Envelope[ReservationOut], 201)
async def create_reservation(pool_id: int, data: ReservationCreate):
    """Reserve a prefix inside the pool (e.g. its first /64 for infrastructure). Every
    allocation unit it touches is reserved; 409 if one is allocated, quarantined or reserved."""
    try:
        reservation = await allocator.reserve(pool_id, data.prefix, data.description)
    except PrefixError as exc:
        raise service.prefix_conflict(exc) from None
    return ok(service.reservation_out(reservation), "reservation created", 201)


@bp.delete("/pools/<int:pool_id>/reservations/<int:reservation_id>")
@require("ipv6.pools.write")
@document_response(MessageEnvelope)
async def delete_reservation(pool_id: int, reservation_id: int):
    """Return a reserved range to the pool."""
    await allocator.unreserve(pool_id, reservation_id)
    return ok(None, "reservation deleted")
