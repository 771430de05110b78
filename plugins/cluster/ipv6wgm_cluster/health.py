"""Active health checks: one HTTP GET to a registered node's ``/api/v1/status/health``.

Only ever sent to a node in the table (never to an address from the request), never following
a redirect, bounded by ``IPV6WGM_CLUSTER_HEALTH_TIMEOUT`` for the whole exchange. The result is
kept on the node (``health_status``) and counts in its status for ``health_hold`` seconds.

A gateway node without an API (a worker alone: nothing listens on its host and port) is checked
by its worker's liveness key in Redis instead, the one the job runner trusts before it sends
the node a job; without Redis, by the age of its heartbeat.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx

from ipv6wgm.jobs import health_key
from ipv6wgm.runtime import current
from ipv6wgm_cluster.leadership import now_ms
from ipv6wgm_cluster.membership import status_of
from ipv6wgm_cluster.models import ClusterNode
from ipv6wgm_cluster.settings import cluster_settings


def health_url(host: str, port: int) -> str:
    try:
        literal = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        literal = host
    return f"http://{literal}:{port}/api/v1/status/health"


async def _worker_alive(node: ClusterNode) -> tuple[bool, str]:
    runtime = current()
    if runtime.redis is None:
        healthy = status_of(node, cluster_settings()) != "offline"
        return healthy, "no API on the node: heartbeat " + ("fresh" if healthy else "too old")
    try:
        alive = bool(await runtime.redis.client.exists(health_key(runtime.settings.redis_prefix, node.node_id)))
    except Exception as exc:  # noqa: BLE001 - Redis away: we cannot tell
        return False, f"no API on the node; worker liveness unknown (Redis: {type(exc).__name__})"
    return alive, "no API on the node: its worker is " + ("live" if alive else "not live")


async def check(node: ClusterNode) -> tuple[bool, str]:
    """(healthy, detail) for one node; stored on its row."""
    if node.heartbeat_ms is not None and "api" not in (node.capabilities or []):
        healthy, detail = await _worker_alive(node)
        await _record(node, healthy, detail)
        return healthy, detail
    timeout = cluster_settings().health_timeout
    url = health_url(node.host, node.port)
    try:
        async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as client:
            response = await asyncio.wait_for(client.get(url), timeout)
        healthy = response.status_code == 200
        detail = f"HTTP {response.status_code}"
    except TimeoutError:
        healthy, detail = False, f"no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        healthy, detail = False, f"{type(exc).__name__}: {exc}"[:255]
    await _record(node, healthy, detail)
    return healthy, detail


async def _record(node: ClusterNode, healthy: bool, detail: str) -> None:
    await ClusterNode.filter(id=node.id).update(health_status="healthy" if healthy else "unhealthy",
                                                health_detail=detail[:255], health_checked_ms=now_ms())
