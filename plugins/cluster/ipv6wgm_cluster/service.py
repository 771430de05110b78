"""What the routes answer: nodes with their measured status, the leader, drain and undrain."""

from __future__ import annotations

import logging
from typing import Any

from ipv6wgm.api import ApiError, not_found
from ipv6wgm.runtime import current
from ipv6wgm_cluster.leadership import Leadership, now_ms
from ipv6wgm_cluster.membership import ms_iso, status_of
from ipv6wgm_cluster.models import STRATEGIES, ClusterNode
from ipv6wgm_cluster.placement import Placement, config, load_by_node, providers
from ipv6wgm_cluster.settings import cluster_settings

log = logging.getLogger(__name__)


def leadership() -> Leadership:
    return current().services["cluster.leadership"]


async def get_node(node_id: str) -> ClusterNode:
    node = await ClusterNode.filter(node_id=node_id).first()
    if node is None:
        raise not_found("node")
    return node


def serialize(node: ClusterNode, *, leader: str | None, peers: dict[str, int]) -> dict[str, Any]:
    total = sum(peers.values())
    health = None
    if node.health_checked_ms is not None:
        health = {"status": node.health_status, "detail": node.health_detail,
                  "last_checked": ms_iso(node.health_checked_ms)}
    return {
        "id": node.node_id, "host": node.host, "port": node.port, "status": status_of(node, cluster_settings()),
        "last_heartbeat": ms_iso(node.heartbeat_ms),
        "load_factor": round(peers.get(node.node_id, 0) / total, 4) if total else 0.0,
        "capabilities": list(node.capabilities or []), "metadata": {**(node.metadata or {}), "version": node.version},
        "weight": node.weight, "drained": node.drained, "is_leader": node.node_id == leader,
        "peers": peers.get(node.node_id, 0), "health": health,
    }


async def nodes() -> list[dict[str, Any]]:
    leader = (await leadership().current())["leader"]
    peers = await load_by_node()
    return [serialize(n, leader=leader, peers=peers) for n in await ClusterNode.all().order_by("node_id")]


async def placed_on(node_id: str) -> dict[str, list[dict[str, Any]]]:
    return {p.kind: await p.on_node(node_id) for p in providers()}


async def node_detail(node_id: str) -> dict[str, Any]:
    node = await get_node(node_id)
    leader = (await leadership().current())["leader"]
    out = serialize(node, leader=leader, peers=await load_by_node())
    out["objects"] = await placed_on(node_id)
    out["objects_affected"] = out["status"] == "offline"
    return out


async def load_balancer() -> dict[str, Any]:
    weights = dict(await ClusterNode.all().order_by("node_id").values_list("node_id", "weight"))
    return {"strategy": (await config()).strategy, "node_weights": weights, "available_strategies": list(STRATEGIES)}


async def status() -> dict[str, Any]:
    runtime = current()
    lease = await leadership().current()
    listing = await nodes()
    services: dict[str, Any] = {}
    for capability in ("api", "gateway", "bird"):
        services[capability] = {"nodes": [n["id"] for n in listing if capability in n["capabilities"]],
                                "healthy": [n["id"] for n in listing if capability in n["capabilities"]
                                            and n["status"] == "healthy"]}
    offline = {}
    for n in listing:
        if n["status"] == "offline":
            objects = {kind: items for kind, items in (await placed_on(n["id"])).items() if items}
            if objects:
                offline[n["id"]] = [{"kind": k, **o} for k, items in objects.items() for o in items]
    return {
        "current_node_id": runtime.settings.node_id,
        "is_leader": lease["leader"] == runtime.settings.node_id,
        "leader": lease["leader"], "epoch": lease["epoch"],
        "mode": "cluster" if runtime.settings.redis_url else "embedded",
        "total_nodes": len(listing), "healthy_nodes": sum(n["status"] == "healthy" for n in listing),
        "nodes": listing, "services": services, "load_balancer": await load_balancer(),
        "offline_objects": offline,
    }


async def drain(node_id: str) -> dict[str, Any]:
    """Stop new placements on the node and move what it hosts to healthy nodes (each object to
    the node the strategy picks among the others)."""
    node = await get_node(node_id)
    await ClusterNode.filter(id=node.id).update(drained=True)
    placement = Placement()
    moved, failed = [], []
    for provider in providers():
        for obj in await provider.on_node(node_id):
            target = await placement.choose(provider.kind, exclude=node_id,
                                            capability=getattr(provider, "capability", "gateway"))
            if target is None:
                failed.append({"kind": provider.kind, "id": obj["id"], "error": "no healthy node to move to"})
                continue
            try:
                result = await provider.move(int(obj["id"]), target)
            except ApiError as exc:
                failed.append({"kind": provider.kind, "id": obj["id"], "target": target, "error": exc.message})
                continue
            moved.append({"kind": provider.kind, "id": obj["id"], "from": node_id, "to": target, **result})
    log.warning("drained node %s: %d moved, %d failed", node_id, len(moved), len(failed))
    return {"node_id": node_id, "drained": True, "moved": moved, "failed": failed}


async def undrain(node_id: str) -> dict[str, Any]:
    node = await get_node(node_id)
    await ClusterNode.filter(id=node.id).update(drained=False)
    return {"node_id": node_id, "drained": False, "moved": [], "failed": []}


async def failover(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cluster cron (leader only, with ``IPV6WGM_CLUSTER_AUTO_FAILOVER``): drain every node that
    has been offline for ``failover_grace`` seconds beyond its heartbeat TTL. The leader checks
    its epoch before each drain, so a leader that lost the lease meanwhile moves nothing."""
    from ipv6wgm.jobs import fenced

    settings = cluster_settings()
    silent_since = now_ms() - int((settings.heartbeat_ttl + settings.failover_grace) * 1000)
    drained = []
    for node in await ClusterNode.filter(drained=False, heartbeat_ms__lt=silent_since).order_by("node_id"):
        async with fenced(ctx):
            pass
        result = await drain(node.node_id)
        log.warning("automatic failover of offline node %s: %d moved, %d failed", node.node_id,
                    len(result["moved"]), len(result["failed"]))
        drained.append(node.node_id)
    return {"drained": drained}
