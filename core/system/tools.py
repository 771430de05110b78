"""Which data-plane tools a node lacks, as seen by the node itself.

The process that owns a node's data plane (its worker, or the server in the embedded mode)
records what it could not find each time a node-scoped cron runs; any API process reads every
node's record for ``/status/health/detailed``. With Redis the records are shared (one hash per
plugin, a field per node); without it there is one process and one node.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable

from ipv6wgm.runtime import current

RECORD_TTL_S = 3600  # a node that stopped reporting drops out of the report


def missing(tools: Iterable[str]) -> list[str]:
    """The tools (program names or paths) that cannot be executed from here."""
    return [tool for tool in tools if shutil.which(tool) is None]


def _key(plugin: str) -> str:
    return f"{current().settings.redis_prefix}:tools:{plugin}"


async def record(plugin: str, absent: list[str]) -> None:
    rt = current()
    local: dict[str, dict[str, list[str]]] = rt.extras.setdefault("missing_tools", {})
    local.setdefault(plugin, {})[rt.settings.node_id] = absent
    if rt.redis is not None and rt.redis.available:
        try:
            await rt.redis.client.hset(_key(plugin), rt.settings.node_id, json.dumps(absent))
            await rt.redis.client.expire(_key(plugin), RECORD_TTL_S)
        except Exception as exc:  # noqa: BLE001 - the next run records again
            rt.redis.mark_down(exc)


async def report(plugin: str) -> dict[str, list[str]]:
    """{node: missing tools} for every node that reported (only nodes that lack something)."""
    rt = current()
    nodes = dict(rt.extras.get("missing_tools", {}).get(plugin, {}))
    if rt.redis is not None and rt.redis.available:
        try:
            for node, value in (await rt.redis.client.hgetall(_key(plugin))).items():
                nodes[node.decode() if isinstance(node, bytes) else node] = json.loads(value)
        except Exception as exc:  # noqa: BLE001 - then what this process saw
            rt.redis.mark_down(exc)
    return {node: absent for node, absent in sorted(nodes.items()) if absent}
