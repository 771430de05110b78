"""Live state: one dump per interface, folded into the client rows, published on WebSocket.

Counters are kept as totals across interface restarts: when a peer's raw counter goes down the
interface (or the daemon) was restarted, and the new raw value is all new traffic. Quotas and
expiry are enforced here too, since this is where traffic is counted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from ipv6wgm.api import iso, utcnow
from ipv6wgm.runtime import current
from ipv6wgm.ws import PRIVILEGED
from ipv6wgm_wireguard import service
from ipv6wgm_wireguard.jobs import backend, handshake_time
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

log = logging.getLogger(__name__)
FIELDS = ("last_handshake", "bytes_received", "bytes_sent", "raw_rx", "raw_tx", "endpoint_observed")


def fold(client: WireGuardClient, peer: Any) -> bool:
    """Apply one observed peer to its row; True if anything changed."""
    before = tuple(getattr(client, f) for f in FIELDS)
    rx, tx = int(peer.rx_bytes), int(peer.tx_bytes)
    client.bytes_received += rx - client.raw_rx if rx >= client.raw_rx else rx
    client.bytes_sent += tx - client.raw_tx if tx >= client.raw_tx else tx
    client.raw_rx, client.raw_tx = rx, tx
    seen = handshake_time(peer.last_handshake)
    if seen is not None:
        client.last_handshake = seen
    client.endpoint_observed = peer.endpoint
    return before != tuple(getattr(client, f) for f in FIELDS)


async def collect(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: read every running interface of this node once and update its clients."""
    rt = current()
    dp = backend()
    totals = {"servers": 0, "peers": 0, "updated": 0, "enforced": 0}
    summaries: list[dict[str, Any]] = []
    by_owner: dict[int, list[dict[str, Any]]] = defaultdict(list)
    now = utcnow()
    for server in await WireGuardServer.filter(node_id=rt.settings.node_id, is_active=True):
        if not await dp.interface_exists(server.interface):
            continue
        state = await dp.dump(server.interface)
        clients = {c.public_key: c for c in await WireGuardClient.filter(server_id=server.id)}
        changed = []
        for key, peer in state.peers.items():
            client = clients.get(key)
            if client is not None and fold(client, peer):
                changed.append(client)
        if changed:
            await WireGuardClient.bulk_update(changed, fields=list(FIELDS), batch_size=500)
        for client in clients.values():
            reason = service.off_reason(client, now)
            if reason in ("quota_exceeded", "expired") and client.public_key in state.peers:
                await dp.remove_peer(server.interface, client.public_key)
                totals["enforced"] += 1
                log.warning("client %s taken off %s: %s", client.name, server.interface, reason)
            if client.owner_id is not None:
                by_owner[client.owner_id].append(_client_event(client, now))
        totals["servers"] += 1
        totals["peers"] += len(state.peers)
        totals["updated"] += len(changed)
        summaries.append({
            "id": server.id, "name": server.name, "status": server.status, "clients_count": len(clients),
            "peers": len(state.peers),
            "bytes_received": sum(c.bytes_received for c in clients.values()),
            "bytes_sent": sum(c.bytes_sent for c in clients.values()),
        })
    if summaries:
        await rt.hub.publish("wireguard", "wireguard_status", {"servers": summaries}, owner_id=PRIVILEGED)
    for owner, items in by_owner.items():
        await rt.hub.publish("wireguard", "wireguard_status", {"clients": items}, owner_id=owner)
    return totals


def _client_event(client: WireGuardClient, now: Any) -> dict[str, Any]:
    return {"id": client.id, "name": client.name, "server_id": client.server_id,
            "status": service.client_status(client, now), "last_handshake": iso(client.last_handshake),
            "bytes_received": client.bytes_received, "bytes_sent": client.bytes_sent,
            "endpoint": client.endpoint_observed}


async def snapshot(principal: Any) -> dict[str, Any]:
    """Sent on subscribe: servers for operators, the caller's own clients for everyone else."""
    now = utcnow()
    if principal.can("wireguard.all"):
        servers = await WireGuardServer.all().order_by("id").limit(200)
        out = []
        for server in servers:
            clients = await WireGuardClient.filter(server_id=server.id).values_list(
                "bytes_received", "bytes_sent")
            out.append({"id": server.id, "name": server.name, "status": server.status,
                        "clients_count": len(clients), "bytes_received": sum(c[0] for c in clients),
                        "bytes_sent": sum(c[1] for c in clients)})
        return {"servers": out}
    clients = await WireGuardClient.filter(owner_id=principal.id).order_by("id").limit(500)
    return {"clients": [_client_event(c, now) for c in clients]}
