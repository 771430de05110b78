"""WireGuard plugin: hook implementations.

Servers are operator objects (``wireguard.servers.*``: managers and admins; exporting their
secrets needs ``wireguard.servers.secrets``, admins only by default). Clients belong to users:
``wireguard.clients.self`` lets an owner manage its own, ``wireguard.clients.write`` is the
operator's (limits, owner, prefixes, lifting an operator's disable), ``wireguard.all`` sees all.
Access ends with the account (``account_changed``).
Prefix delegation uses the IPv6 plugin's ``ipv6.delegation`` service when it is installed.
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
    JobRegistrar,
    MetricEmitter,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
)
from ipv6wgm_wireguard.settings import wg_settings

info = PluginInfo(name="wireguard", version="0.1.0",
                  description="WireGuard servers and clients applied incrementally to the data plane")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_wireguard.models", migrations="ipv6wgm_wireguard.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_wireguard.routes.clients import bp as clients_bp
    from ipv6wgm_wireguard.routes.servers import bp as servers_bp

    register(servers_bp)
    register(clients_bp)


@hookimpl
def register_jobs(register: JobRegistrar) -> None:
    from ipv6wgm_wireguard import jobs

    timeout = wg_settings().apply_timeout * 4
    register("apply_server", jobs.apply_server, timeout=timeout, max_tries=1)
    register("apply_peer", jobs.apply_peer, timeout=timeout)
    register("remove_peer", jobs.remove_peer, timeout=timeout)
    register("live_peers", jobs.live_peers, timeout=timeout, max_tries=1)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    from ipv6wgm_wireguard import jobs, stats

    settings = wg_settings()
    register("reconcile", jobs.reconcile, every=settings.reconcile_interval, scope="node", run_at_startup=True)
    register("collect_stats", stats.collect, every=settings.stats_interval, scope="node")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    from ipv6wgm_wireguard.stats import snapshot

    register("wireguard", message_type="wireguard_status", permission="wireguard.clients.read",
             stream_path="/ws/wireguard/status", snapshot=snapshot)


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("wireguard.servers.read", "List and read WireGuard servers and their live peers", roles=("manager",))
    register("wireguard.servers.write", "Create, change, start, stop and import servers; export them without "
             "secrets", roles=("manager",))
    register("wireguard.servers.secrets", "Export servers with their private and preshared keys (audited)",
             roles=())
    register("wireguard.clients.read", "Read own clients, configs and QR codes", roles=("manager", "user"))
    register("wireguard.clients.self", "Create own clients; change their name, description, DNS, allowed IPs "
             "and keepalive; disable them and re-enable what the owner disabled", roles=("manager", "user"))
    register("wireguard.clients.write", "Operate clients: limits (quota, expiry), owner, IPv6 pool and prefix, "
             "lifting an operator's disable", roles=("manager",))
    register("wireguard.all", "See and manage every user's clients and server-wide status", roles=("manager",))


@hookimpl
def startup(runtime: Runtime) -> None:
    """The process state (backend, locks, caches): see ``state``."""
    from ipv6wgm_wireguard.state import WireGuardState

    runtime.set_state(info.name, WireGuardState.build(runtime))


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    """Closes the backend; interfaces and wireguard-go daemons keep running (see ``state``)."""
    await runtime.close_state(info.name)


@hookimpl
async def account_changed(event: AccountEvent) -> None:
    from ipv6wgm_wireguard.accounts import account_changed as handle

    await handle(event)


@hookimpl
async def collect_metrics(emit: MetricEmitter) -> None:
    from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

    for server in await WireGuardServer.all():
        rows = await WireGuardClient.filter(server_id=server.id).values_list("bytes_received", "bytes_sent")
        tags = {"server": server.name, "interface": server.interface, "node": server.node_id}
        emit("wireguard.clients", len(rows), tags=tags, unit="count")
        emit("wireguard.bytes_received", sum(r[0] for r in rows), tags=tags, unit="bytes")
        emit("wireguard.bytes_sent", sum(r[1] for r in rows), tags=tags, unit="bytes")
        emit("wireguard.running", 1 if server.status == "running" else 0, tags=tags, unit="bool")


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    async def check() -> dict[str, Any]:
        from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

        servers = await WireGuardServer.all().values_list("status", "is_active")
        broken = sum(1 for status, active in servers if active and status != "running")
        return {"status": "healthy" if not broken else "degraded", "servers": len(servers),
                "running": sum(1 for status, _ in servers if status == "running"), "failing": broken,
                "clients": await WireGuardClient.all().count()}

    register("wireguard", check)
