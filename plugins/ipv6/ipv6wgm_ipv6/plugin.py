"""Hook implementations of the ipv6 plugin: prefix pools, allocations, delegation.

Routes (``/api/v1/ipv6``): ``/pools`` (GET, POST), ``/pools/{id}`` (GET, PUT, DELETE),
``/pools/{id}/reservations`` (GET, POST), ``/pools/{id}/reservations/{rid}`` (DELETE),
``/allocations`` (GET with filters, POST), ``/allocations/{id}`` (GET, DELETE = release).

Services for other plugins (``current().services``), the only supported way in:

``services["ipv6.delegation"]``
    ``async delegate(*, pool_id: int, prefix_length: int | None, holder: str, owner_id: int | None,
    description: str = "") -> tuple[int, str]`` allocates the pool's next free prefix for an
    object of another plugin and returns ``(allocation_id, "2001:db8:0:1::/64")``. ``holder`` is an
    opaque tag of 1-128 characters such as ``"wireguard.client:42"``, stored on the allocation and
    filterable with ``GET /ipv6/allocations?holder=``. Idempotent per ``(pool_id, holder)``: while
    the holder has an active allocation in the pool, the same one is returned, so an
    at-least-once job may call it again. ``prefix_length`` may be None or must equal the pool's.
    Raises ``ipv6wgm.api.ApiError``: 404 pool not found, 409 pool exhausted or disabled,
    422 bad ``prefix_length`` or holder.

    ``async release(allocation_id: int) -> None`` releases it (idempotent; an unknown id is a
    no-op). The prefix goes to quarantine (``IPV6WGM_IPV6_QUARANTINE_SECONDS``) before reuse.
    This is the only way an allocation with a holder is released: ``DELETE /allocations/{id}``
    answers 409 naming the holder, so a prefix still routed to a client is never handed out twice.

``services["ipv6.announcements"]``
    ``async prefixes() -> list[str]``: the aggregates (pool prefixes) of active pools with
    ``announce=True``. When such a pool is created, changed or deleted, the plugin awaits
    ``services["bgp.refresh"]()`` if the BGP plugin registered it (and does nothing otherwise).

WebSocket channel ``ipv6`` (permission ``ipv6.allocations.read``, stream ``/ws/ipv6``): messages
of type ``ipv6_allocation`` with ``data = {"event": "allocated" | "released", <allocation>}``
(releases add ``"reason": "released" | "expired" | "account deleted"``), addressed to the allocation's owner (and
holders of ``ipv6.all``; allocations without owner reach only those).

Account lifecycle (``account_changed``): when a user is deleted, its allocations without a holder
are released (kept, ownerless, with ``keep_objects``); allocations with a holder are left to the
holder plugin.

Metrics (``collect_metrics``): ``ipv6.pool.utilization`` (percent), ``ipv6.pool.allocated`` and
``ipv6.pool.available`` (count), tagged ``pool``, ``pool_id``, ``prefix``.

Settings: ``IPV6WGM_IPV6_QUARANTINE_SECONDS`` (300), ``IPV6WGM_IPV6_SWEEP_SECONDS`` (30, the cron
that expires allocations and ends quarantines), ``IPV6WGM_IPV6_MAX_RESERVATIONS`` (64 per pool).
"""

from __future__ import annotations

from typing import Any

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    AccountEvent,
    BlueprintRegistrar,
    ChannelRegistrar,
    CronRegistrar,
    HealthRegistrar,
    MetricEmitter,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
    ServiceRegistrar,
)

info = PluginInfo(name="ipv6", version="0.1.0", description="IPv6 prefix pools, allocations and delegation")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_ipv6.models", migrations="ipv6wgm_ipv6.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_ipv6 import allocation_routes, routes

    register(routes.bp)
    register(allocation_routes.bp)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    from ipv6wgm_ipv6.service import sweep
    from ipv6wgm_ipv6.settings import get_settings

    register("sweep", sweep, every=get_settings().sweep_seconds, scope="cluster")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    register("ipv6", message_type="ipv6_allocation", permission="ipv6.allocations.read", stream_path="/ws/ipv6")


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("ipv6.pools.read", "See IPv6 prefix pools", roles=("manager", "user"))
    register("ipv6.pools.write", "Create, change and delete pools and reservations", roles=("manager",))
    register("ipv6.allocations.read", "See own IPv6 allocations", roles=("manager", "user"))
    register("ipv6.allocations.write", "Allocate and release own IPv6 prefixes", roles=("manager", "user"))
    register("ipv6.all", "See and release everyone's IPv6 allocations", roles=("manager",))


@hookimpl
def register_services(register: ServiceRegistrar) -> None:
    from ipv6wgm_ipv6.service import Announcements, Delegation

    register("delegation", Delegation())
    register("announcements", Announcements())


@hookimpl
def startup(runtime: Runtime) -> None:
    """The process state (per-pool locks): see ``state``."""
    from ipv6wgm_ipv6.state import IPv6State

    runtime.set_state(info.name, IPv6State())


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    await runtime.close_state(info.name)


@hookimpl
async def account_changed(event: AccountEvent) -> None:
    from ipv6wgm_ipv6.service import account_changed as handle

    await handle(event)


@hookimpl
async def collect_metrics(emit: MetricEmitter) -> None:
    from ipv6wgm_ipv6.service import collect_metrics as collect

    await collect(emit)


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    async def check() -> dict[str, Any]:
        from ipv6wgm_ipv6.models import Pool

        return {"status": "healthy", "pools": await Pool.all().count()}

    register("ipv6", check)
