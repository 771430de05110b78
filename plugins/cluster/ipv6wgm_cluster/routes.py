"""/cluster: status, nodes (list, pre-register, detail, delete, health check, drain, weight),
the load balancer and its strategy."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request
from tortoise.exceptions import IntegrityError

from ipv6wgm.api import Envelope, MessageEnvelope, conflict, ok
from ipv6wgm.security.rbac import require
from ipv6wgm_cluster import health, placement, service
from ipv6wgm_cluster.membership import ms_iso, status_of
from ipv6wgm_cluster.models import ClusterNode
from ipv6wgm_cluster.schemas import (
    DrainResult,
    HealthResult,
    LoadBalancerOut,
    NodeCreate,
    NodeCreated,
    NodeDetail,
    NodeOut,
    StatusOut,
    StrategyOut,
    StrategyQuery,
    WeightsUpdate,
    WeightUpdate,
)
from ipv6wgm_cluster.settings import cluster_settings

bp = Blueprint("cluster", __name__)


@bp.get("/status")
@require("cluster.read")
@document_response(Envelope[StatusOut])
async def cluster_status():
    """The leader and its epoch, every node with its measured status, what offline nodes host."""
    return ok(await service.status())


@bp.get("/nodes")
@require("cluster.read")
@document_response(Envelope[list[NodeOut]])
async def list_nodes():
    return ok(await service.nodes())


@bp.post("/nodes")
@require("cluster.write")
@validate_request(NodeCreate)
@document_response(Envelope[NodeCreated], 201)
async def add_node(data: NodeCreate):
    """Pre-register a node: ``pending`` until its first heartbeat."""
    if await ClusterNode.filter(node_id=data.id).exists():
        raise conflict(f"node {data.id!r} is already registered", field="id")
    try:
        await ClusterNode.create(node_id=data.id, host=data.host, port=data.port, capabilities=data.capabilities,
                                 metadata=data.metadata, weight=data.weight)
    except IntegrityError:
        raise conflict(f"node {data.id!r} registered concurrently", field="id") from None
    node = await service.node_detail(data.id)
    return ok({"message": "node added", "node": node}, "node added", status=201)


@bp.get("/nodes/<node_id>")
@require("cluster.read")
@document_response(Envelope[NodeDetail])
async def get_node(node_id: str):
    """A node with what is placed on it; ``objects_affected`` when it is offline."""
    return ok(await service.node_detail(node_id))


@bp.delete("/nodes/<node_id>")
@require("cluster.write")
@document_response(MessageEnvelope)
async def delete_node(node_id: str):
    """Forget a node; refused while objects are placed on it (drain it first)."""
    node = await service.get_node(node_id)
    placed = {kind: len(items) for kind, items in (await service.placed_on(node_id)).items() if items}
    if placed:
        raise conflict(f"node {node_id!r} still hosts objects; drain it first", placed=placed)
    await node.delete()
    return ok(None, "node deleted")


@bp.post("/nodes/<node_id>/health-check")
@require("cluster.write")
@document_response(Envelope[HealthResult])
async def health_check(node_id: str):
    """One GET to the registered node's /api/v1/status/health (no redirects, bounded timeout)."""
    node = await service.get_node(node_id)
    healthy, detail = await health.check(node)
    await node.refresh_from_db()
    return ok({"node_id": node_id, "is_healthy": healthy, "status": status_of(node, cluster_settings()),
               "last_checked": ms_iso(node.health_checked_ms), "detail": detail})


@bp.post("/nodes/<node_id>/drain")
@require("cluster.write")
@document_response(Envelope[DrainResult])
async def drain(node_id: str):
    """No new placements; servers and sessions move to healthy nodes (same keys and peers)."""
    return ok(await service.drain(node_id), "node drained")


@bp.post("/nodes/<node_id>/undrain")
@require("cluster.write")
@document_response(Envelope[DrainResult])
async def undrain(node_id: str):
    """New placements may land on the node again (nothing moves back by itself)."""
    return ok(await service.undrain(node_id), "node undrained")


@bp.put("/nodes/<node_id>/weight")
@require("cluster.write")
@validate_request(WeightUpdate)
@document_response(Envelope[NodeOut])
async def set_weight(node_id: str, data: WeightUpdate):
    node = await service.get_node(node_id)
    await ClusterNode.filter(id=node.id).update(weight=data.weight)
    return ok(await service.node_detail(node_id), "weight updated")


@bp.get("/load-balancer")
@require("cluster.read")
@document_response(Envelope[LoadBalancerOut])
async def load_balancer():
    return ok(await service.load_balancer())


@bp.put("/load-balancer/weights")
@require("cluster.write")
@validate_request(WeightsUpdate)
@document_response(Envelope[LoadBalancerOut])
async def set_weights(data: WeightsUpdate):
    """Several node weights at once; every node must be registered (else nothing changes)."""
    known = set(await ClusterNode.filter(node_id__in=list(data.node_weights)).values_list("node_id", flat=True))
    unknown = sorted(set(data.node_weights) - known)
    if unknown:
        raise conflict(f"unknown nodes: {', '.join(unknown)}", field="node_weights", unknown=unknown)
    for node_id, weight in data.node_weights.items():
        await ClusterNode.filter(node_id=node_id).update(weight=weight)
    return ok(await service.load_balancer(), "weights updated")


@bp.put("/load-balancer/strategy")
@require("cluster.write")
@validate_querystring(StrategyQuery)
@document_response(Envelope[StrategyOut])
async def set_strategy(query_args: StrategyQuery):
    await placement.set_strategy(query_args.strategy)
    return ok({"message": "strategy updated", "strategy": query_args.strategy}, "strategy updated")
