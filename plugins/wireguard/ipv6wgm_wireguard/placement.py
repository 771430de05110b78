"""Which node hosts a server, and moving a server to another node (the cluster plugin's drain).

Without the cluster plugin a new server lands on the node the API runs on (or the one named in
the request). With it, ``services["cluster.placement"]`` picks the node by its strategy. The
cluster plugin lists, counts and moves servers through ``services["wireguard.placed"]``.
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise.functions import Count

from ipv6wgm.api import ApiError, not_found
from ipv6wgm.runtime import current
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer

log = logging.getLogger(__name__)
KIND = "wireguard.server"


async def node_for_new_server(requested: str | None) -> str:
    """The requested node, else the cluster's choice, else this node."""
    if requested:
        return requested
    placement = current().services.get("cluster.placement")
    if placement is not None:
        chosen = await placement.choose(KIND)
        if chosen:
            return str(chosen)
    return current().settings.node_id


class PlacedServers:
    """``services["wireguard.placed"]`` (the cluster plugin's ``PlacedObjects``)."""

    kind = KIND

    async def on_node(self, node_id: str) -> list[dict[str, Any]]:
        servers = await WireGuardServer.filter(node_id=node_id).order_by("id").values(
            "id", "name", "interface", "listen_port", "status", "is_active")
        counts = await _client_counts([s["id"] for s in servers])
        return [{**s, "peers": counts.get(s["id"], 0)} for s in servers]

    async def peers_by_node(self) -> dict[str, int]:
        nodes = dict(await WireGuardServer.all().values_list("id", "node_id"))
        out: dict[str, int] = {}
        for server_id, count in (await _client_counts(None)).items():
            node = nodes.get(server_id)
            if node is not None:
                out[node] = out.get(node, 0) + count
        return out

    async def move(self, object_id: int, node_id: str) -> dict[str, Any]:
        """The source node takes the interface down (it no longer hosts the server), then the
        target brings it up from the database: same keys, addresses, port and peers. A source
        without a live worker cannot answer; its reconcile removes the interface when it returns."""
        from ipv6wgm_wireguard.routes.common import call_node
        from ipv6wgm_wireguard.routes.servers import check_node_unique

        server = await WireGuardServer.filter(id=object_id).first()
        if server is None:
            raise not_found("server")
        source = server.node_id
        if source == node_id:
            return {"status": server.status, "released": False}
        await check_node_unique(node_id, interface=server.interface, port=server.listen_port, exclude=server.id)
        await WireGuardServer.filter(id=server.id).update(node_id=node_id)
        released = True
        try:
            await call_node("release_interface", server.id, server.interface, node=source)
        except ApiError as exc:
            released = False
            log.warning("node %s could not take %s down: %s", source, server.interface, exc.message)
        if server.is_active:
            await call_node("apply_server", server.id, node=node_id)
        await server.refresh_from_db()
        return {"status": server.status, "released": released}


async def _client_counts(server_ids: list[int] | None) -> dict[int, int]:
    qs = WireGuardClient.all() if server_ids is None else WireGuardClient.filter(server_id__in=server_ids)
    rows = await qs.group_by("server_id").annotate(n=Count("id")).values("server_id", "n")
    return {row["server_id"]: row["n"] for row in rows}
