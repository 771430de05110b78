"""Placement: which node a new object lands on, and the objects other plugins place on nodes.

Plugins that place objects on nodes (WireGuard servers, BGP sessions) offer a service named
``placed`` (``services["wireguard.placed"]``…) with the ``PlacedObjects`` shape below; the
cluster plugin finds them by that name, so it needs none of them and they need not it. They
ask ``services["cluster.placement"].choose(kind)`` for the node of a new object and fall back to
their own node when the service is absent or answers None.

Candidates are gateway nodes that are healthy, not drained and of weight > 0. Strategies:
- ``round_robin``: a shared counter walks the candidates in node-id order;
- ``least_connections``: the candidate with the fewest peers (ties: node id);
- ``weighted``: smooth weighted round robin (nginx's) over the node weights, on the same
  shared counter, so any ``sum(weights)`` consecutive placements split exactly by weight.
"""

from __future__ import annotations

from typing import Any, Protocol

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from ipv6wgm.runtime import current
from ipv6wgm_cluster.membership import status_of
from ipv6wgm_cluster.models import STRATEGIES, ClusterConfig, ClusterNode
from ipv6wgm_cluster.settings import cluster_settings

CONFIG_ID = 1


class PlacedObjects(Protocol):
    """What a plugin offers as ``services["<plugin>.placed"]``; ``capability`` (optional
    attribute, default ``gateway``) is what a node needs to host one (``bird`` for sessions)."""

    kind: str

    async def on_node(self, node_id: str) -> list[dict[str, Any]]:
        """The objects placed on ``node_id`` (id, name and what an operator needs to see)."""

    async def peers_by_node(self) -> dict[str, int]:
        """Load per node (WireGuard: clients of its servers)."""

    async def move(self, object_id: int, node_id: str) -> dict[str, Any]:
        """Move one object to ``node_id``: the source node takes it down, the target brings it
        up with the same keys, addresses and peers."""


def providers() -> list[PlacedObjects]:
    return [svc for key, svc in current().services.items() if key.endswith(".placed")]


async def config() -> ClusterConfig:
    row = await ClusterConfig.filter(id=CONFIG_ID).first()
    if row is None:
        from tortoise.exceptions import IntegrityError

        try:
            row = await ClusterConfig.create(id=CONFIG_ID)
        except IntegrityError:
            row = await ClusterConfig.get(id=CONFIG_ID)
    return row


async def set_strategy(strategy: str) -> None:
    assert strategy in STRATEGIES
    await config()
    await ClusterConfig.filter(id=CONFIG_ID).update(strategy=strategy)


async def candidates(exclude: str | None = None, capability: str = "gateway") -> list[ClusterNode]:
    settings = cluster_settings()
    nodes = await ClusterNode.filter(drained=False, weight__gt=0).order_by("node_id")
    return [n for n in nodes if capability in (n.capabilities or []) and n.node_id != exclude
            and status_of(n, settings) == "healthy"]


async def load_by_node() -> dict[str, int]:
    total: dict[str, int] = {}
    for provider in providers():
        for node, count in (await provider.peers_by_node()).items():
            total[node] = total.get(node, 0) + count
    return total


def smooth_weighted(weights: list[tuple[str, int]]) -> list[str]:
    """One cycle of nginx's smooth weighted round robin: each node appears ``weight`` times,
    spread out (a=5, b=1, c=1 gives a a b a c a a)."""
    current_w = {name: 0 for name, _ in weights}
    total = sum(w for _, w in weights)
    out = []
    for _ in range(total):
        for name, weight in weights:
            current_w[name] += weight
        best = max(weights, key=lambda item: (current_w[item[0]], item[1]))[0]
        current_w[best] -= total
        out.append(best)
    return out


async def _next_count() -> int:
    await config()
    async with in_transaction() as conn:
        row = await ClusterConfig.filter(id=CONFIG_ID).select_for_update().using_db(conn).first()
        await ClusterConfig.filter(id=CONFIG_ID).using_db(conn).update(rr_counter=F("rr_counter") + 1)
        return int(row.rr_counter) if row else 0


class Placement:
    """``services["cluster.placement"]``."""

    async def choose(self, kind: str, *, exclude: str | None = None, capability: str = "gateway") -> str | None:
        """The node for a new object of ``kind`` among healthy nodes with ``capability`` (None:
        no candidate; the caller keeps its own choice)."""
        nodes = await candidates(exclude, capability)
        if not nodes:
            return None
        strategy = (await config()).strategy
        if strategy == "least_connections":
            load = await load_by_node()
            return min(nodes, key=lambda n: (load.get(n.node_id, 0), n.node_id)).node_id
        count = await _next_count()
        if strategy == "weighted":
            cycle = smooth_weighted([(n.node_id, int(n.weight)) for n in nodes])
            return cycle[count % len(cycle)]
        return nodes[count % len(nodes)].node_id
