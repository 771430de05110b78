"""Which node's BIRD runs a session, and moving a session (the cluster plugin's drain).

A session with ``node_id`` None runs on every node's BIRD (rows from before placement, and
every new session when the cluster plugin is not installed). With the cluster plugin a new
session is placed on the node named in the request or on the one its strategy picks among the
nodes that run BIRD. The cluster plugin lists and moves sessions through
``services["bgp.placed"]``.
"""

from __future__ import annotations

import logging
from typing import Any

from ipv6wgm.api import ApiError, not_found
from ipv6wgm.runtime import current
from ipv6wgm_bgp.models import BgpSession
from ipv6wgm_bgp.settings import bgp_settings

log = logging.getLogger(__name__)
KIND = "bgp.session"


async def node_for_new_session(requested: str | None) -> str | None:
    if requested:
        return requested
    chooser = current().services.get("cluster.placement")
    if chooser is None:
        return None
    return await chooser.choose(KIND, capability="bird")


class PlacedSessions:
    """``services["bgp.placed"]`` (the cluster plugin's ``PlacedObjects``)."""

    kind = KIND
    capability = "bird"

    async def on_node(self, node_id: str) -> list[dict[str, Any]]:
        return list(await BgpSession.filter(node_id=node_id).order_by("id").values(
            "id", "name", "neighbor", "status", "enabled"))

    async def peers_by_node(self) -> dict[str, int]:
        return {}  # sessions are not client peers

    async def move(self, object_id: int, node_id: str) -> dict[str, Any]:
        """The source BIRD drops the protocol (its tree no longer has it), the target's adds it;
        same neighbor, AS, password and policy, from the database."""
        row = await BgpSession.filter(id=object_id).first()
        if row is None:
            raise not_found("BGP session")
        source = row.node_id
        if source == node_id:
            return {"status": row.status, "released": False}
        await BgpSession.filter(id=row.id).update(node_id=node_id)
        jobs, wait = current().jobs, bgp_settings().apply_timeout
        released = True
        try:
            await jobs.call_api("bgp.apply", node=source, wait_s=wait)
        except ApiError as exc:
            released = False
            log.warning("node %s could not drop BGP session %s: %s", source, row.name, exc.message)
        await jobs.call_api("bgp.apply", node=node_id, wait_s=wait)
        return {"status": row.status, "released": released}
