"""Active health checks: one HTTP GET to a registered node's ``/api/v1/status/health``.

Only ever sent to a node in the table (never to an address from the request), never following
a redirect, bounded by ``IPV6WGM_CLUSTER_HEALTH_TIMEOUT`` for the whole exchange. The result is
kept on the node (``health_status``) and counts in its status for ``health_hold`` seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx

from ipv6wgm_cluster.leadership import now_ms
from ipv6wgm_cluster.models import ClusterNode
from ipv6wgm_cluster.settings import cluster_settings


def health_url(host: str, port: int) -> str:
    try:
        literal = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        literal = host
    return f"http://{literal}:{port}/api/v1/status/health"


async def check(node: ClusterNode) -> tuple[bool, str]:
    """(healthy, detail) for one node; stored on its row."""
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
    await ClusterNode.filter(id=node.id).update(health_status="healthy" if healthy else "unhealthy",
                                                health_detail=detail[:255], health_checked_ms=now_ms())
    return healthy, detail
