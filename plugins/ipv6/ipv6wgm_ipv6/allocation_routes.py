"""/ipv6/allocations: hand out, look up and release prefixes.

Per-object authorization: an allocation belongs to whoever created it (``owner_id``); a
``user`` sees only its own and gets 404 for others, holders of ``ipv6.all`` see all.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request

from ipv6wgm.api import Envelope, conflict, not_found, ok, paginate, utcnow
from ipv6wgm.security.rbac import current_principal, get_owned, require, scope_owned
from ipv6wgm_ipv6 import service
from ipv6wgm_ipv6.models import Allocation, Pool
from ipv6wgm_ipv6.netmath import PrefixError
from ipv6wgm_ipv6.schemas import AllocationCreate, AllocationList, AllocationOut, AllocationQuery

bp = Blueprint("ipv6_allocations", __name__)
ALL = "ipv6.all"
MAX_LIFETIME = timedelta(days=100 * 366)


@bp.get("/allocations")
@require("ipv6.allocations.read")
@validate_querystring(AllocationQuery)
@document_response(Envelope[AllocationList])
async def list_allocations(query_args: AllocationQuery):
    """Allocations the caller may see, filtered by pool, status, holder or client name."""
    qs = scope_owned(Allocation.all().order_by("id"), current_principal(), ALL)
    for key in ("pool_id", "status", "holder", "client_name"):
        value = getattr(query_args, key)
        if value is not None:
            qs = qs.filter(**{key: value})
    rows, page = await paginate(qs, query_args)
    return ok({"allocations": [service.allocation_out(a) for a in rows], "pagination": page})


@bp.post("/allocations")
@require("ipv6.allocations.write")
@validate_request(AllocationCreate)
@document_response(Envelope[AllocationOut], 201)
async def create_allocation(data: AllocationCreate):
    """Allocate the pool's next free prefix, or exactly ``prefix`` if given.

    409: pool disabled or exhausted; requested prefix taken, reserved, in quarantine, outside the
    pool, not of the pool's length or with host bits set; ``prefix_length`` not the pool's;
    ``expires_at`` not in the future.
    """
    pool = await Pool.filter(id=data.pool_id).first()
    if pool is None:
        raise not_found("pool")
    if data.prefix_length is not None and data.prefix_length != pool.prefix_length:
        message = f"pool {pool.name!r} hands out /{pool.prefix_length} prefixes, not /{data.prefix_length}"
        raise conflict(message, field="prefix_length")
    expires_at = None
    if data.expires_at is not None:
        try:
            expires_at = data.expires_at.astimezone(UTC)
            valid = utcnow() < expires_at < utcnow() + MAX_LIFETIME
        except (OverflowError, ValueError):
            valid = False
        if not valid:
            raise conflict("expires_at must be in the future (and within 100 years)", field="expires_at")
    try:
        allocation = await service.allocate(
            pool.id, client_name=data.client_name, description=data.description, owner_id=current_principal().id,
            prefix=data.prefix, expires_at=expires_at,
        )
    except PrefixError as exc:
        raise service.prefix_conflict(exc) from None
    return ok(service.allocation_out(allocation), "IPv6 prefix allocated", 201)


@bp.get("/allocations/<int:allocation_id>")
@require("ipv6.allocations.read")
@document_response(Envelope[AllocationOut])
async def get_allocation(allocation_id: int):
    """One allocation the caller may see (404 otherwise)."""
    allocation = await get_owned(Allocation.all(), allocation_id, current_principal(), ALL, "allocation")
    return ok(service.allocation_out(allocation))


@bp.delete("/allocations/<int:allocation_id>")
@require("ipv6.allocations.write")
@document_response(Envelope[AllocationOut])
async def release_allocation(allocation_id: int):
    """Release: the prefix goes to quarantine before it can be handed out again. Releasing an
    allocation already in quarantine answers it unchanged (idempotent). An allocation another
    plugin holds (``holder``, e.g. a WireGuard client's routed prefix) answers 409 naming the
    holder: it is released with its holder (delete the client)."""
    await get_owned(Allocation.all(), allocation_id, current_principal(), ALL, "allocation")
    allocation = await service.release(allocation_id)
    if allocation is None:
        raise not_found("allocation")
    return ok(service.allocation_out(allocation), "IPv6 prefix released")
