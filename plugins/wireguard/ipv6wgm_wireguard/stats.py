"""Live state: one dump per interface, folded into the client rows, published on WebSocket.

Counters are kept as totals across interface restarts: when a peer's raw counter goes down the
interface (or the daemon) was restarted, and the new raw value is all new traffic. Quotas and
expiry are enforced here too, since this is where traffic is counted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from ipv6wgm.api import iso, utcnow
from ipv6wgm.runtime import current
from ipv6wgm.ws import PRIVILEGED
from ipv6wgm_wireguard import service, traffic
from ipv6wgm_wireguard.jobs import handshake_time
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.state import plugin_state

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


CHUNK = 500


async def collect(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: read every running interface of this node once and update the clients that moved.

    A peer whose counters, handshake and endpoint are what the previous collection saw is
    skipped before it is even decoded (``WireGuardBackend.activity``), so the steady-state cost
    is one dump plus work proportional to the peers with traffic.
    """
    rt = current()
    state = plugin_state()
    dp = state.backend
    totals = {"servers": 0, "peers": 0, "updated": 0, "enforced": 0}
    summaries: list[dict[str, Any]] = []
    by_owner: dict[int, list[dict[str, Any]]] = defaultdict(list)
    now = utcnow()
    servers = await WireGuardServer.filter(node_id=rt.settings.node_id, is_active=True)
    for gone in state.seen.keys() - {server.id for server in servers}:
        del state.seen[gone]
    for server in servers:
        seen = state.seen.setdefault(server.id, {})
        try:  # one dump; a missing interface is the reconcile's business, not ours
            activity = await dp.activity(server.interface, seen)
        except Exception as exc:  # noqa: BLE001
            log.debug("no live state for %s: %s", server.interface, exc)
            continue
        moved = activity.moved
        changed: list[WireGuardClient] = []
        deltas: dict[int, tuple[int, int]] = {}
        keys = list(moved)
        for start in range(0, len(keys), CHUNK):
            for client in await WireGuardClient.filter(server_id=server.id, public_key__in=keys[start:start + CHUNK]):
                peer = moved[client.public_key]
                rx, tx = client.bytes_received, client.bytes_sent
                if fold(client, peer.state):
                    changed.append(client)
                    deltas[client.id] = (client.bytes_received - rx, client.bytes_sent - tx)
                seen[peer.key] = peer.mark
        if changed:
            async with in_transaction():  # totals and history move together
                await WireGuardClient.bulk_update(changed, fields=list(FIELDS), batch_size=CHUNK)
                await traffic.add(deltas, now)
        for client in changed:
            if client.owner_id is not None:
                by_owner[client.owner_id].append(_client_event(client, now))
        totals["enforced"] += await _enforce(server, activity.has_peer, now)
        totals["servers"] += 1
        totals["peers"] += activity.count
        totals["updated"] += len(changed)
        summaries.append({"id": server.id, "name": server.name, "status": server.status,
                          "peers": activity.count, **await _sums(server.id)})
    if summaries:
        await rt.hub.publish("wireguard", "wireguard_status", {"servers": summaries}, owner_id=PRIVILEGED)
    for owner, items in by_owner.items():
        await rt.hub.publish("wireguard", "wireguard_status", {"clients": items}, owner_id=owner)
    return totals


async def _enforce(server: WireGuardServer, has_peer: Callable[[str], bool], now: Any) -> int:
    """Quota and expiry: only clients that have either are looked at."""
    enforced = 0
    limited = await WireGuardClient.filter(server_id=server.id, enabled=True).filter(
        Q(quota_bytes__isnull=False) | Q(expires_at__isnull=False))
    for client in limited:
        reason = service.off_reason(client, now)
        if reason in ("quota_exceeded", "expired") and has_peer(client.public_key):
            await plugin_state().backend.remove_peer(server.interface, client.public_key)
            log.warning("client %s taken off %s: %s", client.name, server.interface, reason)
            enforced += 1
    return enforced


async def _sums(server_id: int) -> dict[str, int]:
    rows = await (WireGuardClient.filter(server_id=server_id).group_by("server_id")
                  .annotate(n=Count("id"), rx=Sum("bytes_received"), tx=Sum("bytes_sent"))
                  .values("n", "rx", "tx"))
    row = rows[0] if rows else {"n": 0, "rx": 0, "tx": 0}
    return {"clients_count": int(row["n"] or 0), "bytes_received": int(row["rx"] or 0),
            "bytes_sent": int(row["tx"] or 0)}


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
        return {"servers": [{"id": s.id, "name": s.name, "status": s.status, **await _sums(s.id)}
                            for s in servers]}
    clients = await WireGuardClient.filter(owner_id=principal.id).order_by("id").limit(500)
    return {"clients": [_client_event(c, now) for c in clients]}
