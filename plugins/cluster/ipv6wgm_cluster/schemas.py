"""Request and response models of /cluster (the spec's cluster section, plus drain and weights)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from ipv6wgm.api import StrictBody
from ipv6wgm.validation import ip_address, unsafe_char
from ipv6wgm_cluster.models import STRATEGIES

NODE_ID = r"^[A-Za-z0-9_.-]{1,64}$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
CAPABILITIES = ("api", "gateway", "bird", "database", "cache")
Strategy = Literal["round_robin", "least_connections", "weighted"]
assert set(STRATEGIES) == set(Strategy.__args__)  # type: ignore[attr-defined]


def _node_id(value: str) -> str:
    if not re.fullmatch(NODE_ID[1:-1], value):
        raise ValueError("node ids are 1-64 characters: letters, digits, '_', '.', '-'")
    return value


def _host(value: str) -> str:
    """A host name or an IP address (canonical, no zone id), nothing else: it becomes a URL's host."""
    if _HOSTNAME.fullmatch(value) and not re.fullmatch(r"[0-9.]+", value):  # dotted digits: an address
        return value.lower()
    try:
        return str(ip_address(value))
    except ValueError:
        raise ValueError("host must be a host name or an IP address (no port, no zone id)") from None


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 32:
        raise ValueError("metadata holds at most 32 keys")
    for key, item in value.items():
        if not isinstance(item, str | int | float | bool) or item is None:
            raise ValueError(f"metadata value of {key!r} must be text, a number or a boolean")
        for text in (key, item) if isinstance(item, str) else (key,):
            if len(text) > 255 or unsafe_char(text) is not None:
                raise ValueError(f"metadata {key[:32]!r}: at most 255 printable characters")
    return value


NodeId = Annotated[str, Field(pattern=NODE_ID), AfterValidator(_node_id)]
Host = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_host)]
Capability = Literal["api", "gateway", "bird", "database", "cache"]


class NodeCreate(StrictBody):
    """Pre-registration: the node is ``pending`` until its first heartbeat. ``status`` and
    ``load_factor`` are accepted for the spec's sake; both are measured, never set."""

    id: NodeId
    host: Host
    port: int = Field(8000, ge=1, le=65535)
    status: Literal["healthy", "unhealthy", "offline", "pending"] | None = None
    load_factor: float | None = Field(None, ge=0)
    capabilities: list[Capability] = Field(default_factory=list, max_length=len(CAPABILITIES))
    metadata: Annotated[dict[str, Any], AfterValidator(_metadata)] = Field(default_factory=dict)
    weight: int = Field(1, ge=0, le=100)


class WeightUpdate(StrictBody):
    weight: int = Field(ge=0, le=100, description="0: no new placements on the node")


class WeightsUpdate(StrictBody):
    node_weights: dict[Annotated[str, AfterValidator(_node_id)], Annotated[int, Field(ge=0, le=100)]] = Field(
        max_length=1000)


class StrategyQuery(BaseModel):
    strategy: Strategy


class NodeOut(BaseModel):
    id: str
    host: str
    port: int
    status: str
    last_heartbeat: str | None
    load_factor: float
    capabilities: list[str]
    metadata: dict[str, Any]
    weight: int
    drained: bool
    is_leader: bool
    peers: int
    health: dict[str, Any] | None


class NodeDetail(NodeOut):
    objects: dict[str, list[dict[str, Any]]] = Field(description="what is placed on the node, per kind")
    objects_affected: bool = Field(description="the node is offline: its objects are not served")


class NodeCreated(BaseModel):
    message: str
    node: NodeDetail


class StrategyOut(BaseModel):
    message: str
    strategy: str


class HealthResult(BaseModel):
    node_id: str
    is_healthy: bool
    status: str
    last_checked: str | None
    detail: str


class LoadBalancerOut(BaseModel):
    strategy: str
    node_weights: dict[str, int]
    available_strategies: list[str]


class StatusOut(BaseModel):
    current_node_id: str
    is_leader: bool
    leader: str | None
    epoch: int
    mode: str
    total_nodes: int
    healthy_nodes: int
    nodes: list[NodeOut]
    services: dict[str, Any]
    load_balancer: LoadBalancerOut
    offline_objects: dict[str, list[dict[str, Any]]]


class DrainResult(BaseModel):
    node_id: str
    drained: bool
    moved: list[dict[str, Any]]
    failed: list[dict[str, Any]]
