"""Cluster metrics, emitted by the leader only (every node samples; one copy is enough)."""

from __future__ import annotations

from ipv6wgm.plugins import MetricEmitter
from ipv6wgm_cluster.membership import status_of
from ipv6wgm_cluster.models import ClusterNode
from ipv6wgm_cluster.placement import providers
from ipv6wgm_cluster.settings import cluster_settings
from ipv6wgm_cluster.state import plugin_state


async def collect(emit: MetricEmitter) -> None:
    leadership = plugin_state().leadership
    if not leadership.is_leader():
        return
    settings = cluster_settings()
    emit("cluster.leader.epoch", float(leadership.epoch or 0))
    for node in await ClusterNode.all():
        status = status_of(node, settings)
        emit("cluster.node.up", 1.0 if status == "healthy" else 0.0, tags={"node": node.node_id})
        affected = 0
        if status == "offline":
            for provider in providers():
                affected += len(await provider.on_node(node.node_id))
        emit("cluster.node.objects_offline", float(affected), tags={"node": node.node_id})
