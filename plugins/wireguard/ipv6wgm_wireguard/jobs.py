"""Jobs that make a node's data plane match the database, and read it back.

All idempotent (arq delivers at least once): each applies the desired state as it is *now* in
the database rather than replaying the API call that queued it. They run on the node that
hosts the server (``node_id``), in-process in the embedded mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ipv6wgm.api import utcnow
from ipv6wgm.jobs import JobFailed
from ipv6wgm.paging import Eq, fetch_rows
from ipv6wgm.runtime import current
from ipv6wgm.system import tools
from ipv6wgm_wireguard import service
from ipv6wgm_wireguard.dataplane import WireGuardBackend, kernel_wireguard_available, links
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.state import plugin_state

log = logging.getLogger(__name__)


def backend() -> WireGuardBackend:
    """This process's backend (kept in the plugin's state)."""
    return plugin_state().backend


@dataclass(slots=True)
class DesiredPeer:
    """The columns a peer on the data plane depends on, without building ORM objects (a
    reconcile reads every client of an interface, thousands of them)."""

    id: int
    public_key: str
    ipv4_address: str | None
    ipv6_address: str | None
    delegated_prefix: str | None
    preshared_key_enc: str | None
    enabled: bool
    disabled_by: str | None
    quota_bytes: int | None
    bytes_received: int
    bytes_sent: int
    expires_at: datetime | None
    owner_active: bool | None  # None: no owner


# the owner's is_active comes through a LEFT JOIN in the same query
_DESIRED_COLUMNS = (*DesiredPeer.__slots__[:-1], "owner__is_active")  # type: ignore[attr-defined]


async def server_clients(server_id: int) -> tuple[list[DesiredPeer], list[str]]:
    """One query: the clients that must be peers now, and the delegated prefixes of those that
    must not (their routes are taken off with them)."""
    now = utcnow()
    on: list[DesiredPeer] = []
    off_prefixes: list[str] = []
    for row in await WireGuardClient.filter(server_id=server_id).values_list(*_DESIRED_COLUMNS):
        peer = DesiredPeer(*row)
        if service.off_reason(peer, now, peer.owner_active is None or bool(peer.owner_active)) is None:
            on.append(peer)
        elif peer.delegated_prefix:
            off_prefixes.append(peer.delegated_prefix)
    return on, off_prefixes


async def desired_clients(server_id: int) -> list[DesiredPeer]:
    return (await server_clients(server_id))[0]


async def _mark(server: WireGuardServer, status: str, detail: str | None = None) -> None:
    now = utcnow()
    changes: dict[str, Any] = {"status": status, "status_detail": detail}
    if status == "running" and server.status != "running":
        changes["started_at"] = now
    if status == "stopped" and server.status != "stopped":
        changes["stopped_at"] = now
    await WireGuardServer.filter(id=server.id).update(**changes)
    for key, value in changes.items():
        setattr(server, key, value)


async def apply_server(ctx: dict[str, Any], server_id: int, drop_routes: list[str] | None = None) -> dict[str, Any]:
    """Bring the interface to the desired state: created, configured, every peer synced (or gone).

    Routes of delegated prefixes follow their peers; ``drop_routes`` names prefixes of clients
    that no longer exist (deleted with their owner), which the database cannot name any more.
    """
    state = plugin_state()
    async with state.apply_lock(server_id):
        server = await WireGuardServer.filter(id=server_id).first()
        if server is None:
            return {"status": "absent"}
        dp = state.backend
        step = "delete interface" if not server.is_active else "create interface"
        try:
            if not server.is_active:
                await dp.delete_interface(server.interface)
                await _mark(server, "stopped")
                return {"status": "stopped"}
            await dp.ensure_interface(service.interface_spec(server))
            if not server.endpoint:
                await refresh_detected_endpoint(server)
            step = "sync peers"
            clients, off_prefixes = await server_clients(server_id)
            specs = state.peer_specs
            result = await dp.sync_peers(server.interface, [specs.get(c) for c in clients])
            step = "routes"
            wanted = {c.delegated_prefix for c in clients if c.delegated_prefix}
            stale = (set(off_prefixes) | set(drop_routes or ())) - wanted
            if wanted or stale:
                present = set(await dp.list_routes(server.interface))
                for prefix in wanted - present:
                    await dp.add_route(server.interface, prefix)
                for prefix in stale & present:
                    await dp.remove_route(server.interface, prefix)
        except Exception as exc:  # noqa: BLE001 - recorded, then reported to the caller
            await _mark(server, "error", f"{step}: {exc}"[:512])
            raise JobFailed(step, str(exc) or type(exc).__name__) from exc
        await _mark(server, "running")
        return {"status": "running", "added": result.added, "removed": result.removed, "updated": result.updated}


def missing_tools() -> list[str]:
    """What this node lacks to run WireGuard with the configured backend (for the health check)."""
    settings = plugin_state().settings
    kind = settings.backend
    if kind == "auto":
        kind = "kernel" if kernel_wireguard_available() else "userspace"
    if kind == "kernel":
        return [] if kernel_wireguard_available() else ["wireguard kernel module"]
    return tools.missing([settings.wireguard_go])


async def refresh_detected_endpoint(server: WireGuardServer) -> None:
    """Where peers reach a server without an endpoint: this node's primary address (found here,
    on the node, in the data-plane namespace), kept up to date at every apply."""
    found = await links.primary_address(netns=plugin_state().netns)
    address, source = found if found else (None, None)
    if (address, source) != (server.endpoint_detected, server.endpoint_detected_from):
        await WireGuardServer.filter(id=server.id).update(endpoint_detected=address, endpoint_detected_from=source)
        server.endpoint_detected, server.endpoint_detected_from = address, source


async def detect_endpoint(ctx: dict[str, Any], server_id: int) -> dict[str, Any]:
    """For a server created without an endpoint (and not started): record the node's address."""
    server = await WireGuardServer.filter(id=server_id).first()
    if server is None:
        return {"status": "absent"}
    await refresh_detected_endpoint(server)
    return {"address": server.endpoint_detected, "from": server.endpoint_detected_from}


# What apply_peer reads of a client (with its owner's activation) and of its server: two
# statements by the paging fast path (inline on SQLite) instead of ORM objects through the
# database thread, because every client created or changed queues this job right away.
_PEER_COLUMNS = ("server_id", *DesiredPeer.__slots__[1:-1], service.OWNER_ACTIVE)  # type: ignore[attr-defined]
_SERVER_COLUMNS = ("interface", "is_active", "status", "node_id")


async def apply_peer(ctx: dict[str, Any], client_id: int) -> dict[str, Any]:
    """Touch one peer only (add, update or remove it); never the interface or other peers."""
    clients = await fetch_rows(WireGuardClient, _PEER_COLUMNS, where=[Eq("id", client_id)], limit=1)
    if not clients:
        return {"status": "absent"}
    client = clients[0]
    servers = await fetch_rows(WireGuardServer, _SERVER_COLUMNS, where=[Eq("id", client.server_id)], limit=1)
    if not servers or not servers[0].is_active or servers[0].status != "running":
        return {"status": "server not running"}
    server = servers[0]
    if server.node_id != current().settings.node_id:
        return {"status": "server moved to another node"}  # queued before a move; the new node applies it
    state = plugin_state()
    dp = state.backend
    if service.off_reason(client, owner_active=client.owner_active is not False) is None:
        await dp.set_peer(server.interface, state.peer_specs.get(client))
        if client.delegated_prefix:
            await dp.add_route(server.interface, client.delegated_prefix)
        return {"status": "applied"}
    await dp.remove_peer(server.interface, client.public_key)
    if client.delegated_prefix:
        await dp.remove_route(server.interface, client.delegated_prefix)
    return {"status": "removed"}


async def remove_peer(ctx: dict[str, Any], server_id: int, public_key: str, routes: list[str]) -> dict[str, Any]:
    """After a client row is gone: take its peer (and routed prefixes) off the interface."""
    server = await WireGuardServer.filter(id=server_id).first()
    if server is None or not server.is_active:
        return {"status": "server not running"}
    dp = backend()
    if await dp.interface_exists(server.interface):
        await dp.remove_peer(server.interface, public_key)
        for route in routes:
            await dp.remove_route(server.interface, route)
    return {"status": "removed"}


async def release_interface(ctx: dict[str, Any], server_id: int, interface: str) -> dict[str, Any]:
    """After the server moved to another node: take its interface down here (idempotent; a
    no-op if the server is hosted here after all)."""
    server = await WireGuardServer.filter(id=server_id).first()
    if server is not None and server.node_id == current().settings.node_id:
        return {"status": "hosted here"}
    async with plugin_state().apply_lock(server_id):
        try:
            if await backend().interface_exists(interface):
                await backend().delete_interface(interface)
        except Exception as exc:  # noqa: BLE001 - reported to the caller with the step
            raise JobFailed("delete interface", str(exc) or type(exc).__name__) from exc
    return {"status": "released"}


async def _release_moved(ctx: dict[str, Any], node: str) -> int:
    """Interfaces of servers that moved to another node while this one was away (a drain of an
    offline node): taken down here, so the same keys never serve from two nodes."""
    local = set(await WireGuardServer.filter(node_id=node).values_list("interface", flat=True))
    released = 0
    for server_id, interface in await WireGuardServer.exclude(node_id=node).values_list("id", "interface"):
        if interface not in local and await backend().interface_exists(interface):
            log.warning("server %s moved to another node: taking %s down here", server_id, interface)
            await release_interface(ctx, server_id, interface)
            released += 1
    return released


async def reconcile(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: repair drift on this node (peers added/removed by hand, interfaces deleted by hand)."""
    await tools.record("wireguard", missing_tools())
    node = current().settings.node_id
    repaired = await _release_moved(ctx, node)
    for server in await WireGuardServer.filter(node_id=node):
        if not server.is_active and server.status == "stopped":
            if await backend().interface_exists(server.interface):
                await apply_server(ctx, server.id)
                repaired += 1
            continue
        try:
            result = await apply_server(ctx, server.id)
            repaired += int(result.get("added", 0)) + int(result.get("removed", 0)) + int(result.get("updated", 0))
        except JobFailed as exc:
            log.warning("reconcile of %s failed: %s", server.interface, exc)
    return {"repaired": repaired}


async def live_peers(ctx: dict[str, Any], server_id: int) -> dict[str, Any]:
    """One dump of the interface, for GET /servers/{id}/peers."""
    server = await WireGuardServer.filter(id=server_id).first()
    if server is None:
        return {"peers": []}
    try:
        if not await backend().interface_exists(server.interface):
            return {"interface": server.interface, "listen_port": None, "public_key": None, "peers": []}
        state = await backend().dump(server.interface)
    except Exception as exc:  # noqa: BLE001 - reported to the caller with the step
        raise JobFailed("read interface", str(exc) or type(exc).__name__) from exc
    return {
        "interface": server.interface, "listen_port": state.listen_port, "public_key": state.public_key,
        "peers": [{"public_key": p.public_key, "endpoint": p.endpoint, "allowed_ips": p.allowed_ips,
                   "last_handshake": p.last_handshake, "rx_bytes": p.rx_bytes, "tx_bytes": p.tx_bytes,
                   "persistent_keepalive": p.persistent_keepalive} for p in state.peers.values()],
    }


def handshake_time(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None
