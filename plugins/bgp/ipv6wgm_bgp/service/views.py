"""Rows → API/WebSocket dictionaries (one place, so REST and the stream agree)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ipv6wgm.api import iso, utcnow
from ipv6wgm_bgp.models import BgpAnnouncement, BgpSession


def aware(value: datetime | None) -> datetime | None:
    """Some backends hand datetimes back naive; they are stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def uptime(row: BgpSession, now: datetime | None = None) -> int:
    """Seconds since the session came up, computed at read time so it grows between polls."""
    since = aware(row.established_since)
    if row.status != "established" or since is None:
        return 0
    return max(0, int(((now or utcnow()) - since).total_seconds()))


def session_out(row: BgpSession, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "neighbor": row.neighbor, "remote_as": int(row.remote_as),
        "local_as": int(row.local_as), "status": row.status, "uptime": uptime(row, now),
        "routes_received": int(row.routes_received), "routes_advertised": int(row.routes_advertised),
        "last_update": iso(row.last_update), "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "description": row.description, "source_address": row.source_address, "hold_time": row.hold_time,
        "multihop": row.multihop, "import_limit": int(row.import_limit) if row.import_limit is not None else None,
        "import_policy": row.import_policy, "enabled": bool(row.enabled), "node_id": row.node_id,
        "has_password": bool(row.password_enc),
        "last_error": row.last_error, "started_at": iso(row.started_at), "stopped_at": iso(row.stopped_at),
    }


def status_item(row: BgpSession, now: datetime | None = None) -> dict[str, Any]:
    """One entry of the ``bgp_status`` message (the spec's shape)."""
    return {"id": row.id, "name": row.name, "status": row.status, "uptime": uptime(row, now),
            "routes_received": int(row.routes_received), "routes_advertised": int(row.routes_advertised)}


def announcement_out(row: BgpAnnouncement) -> dict[str, Any]:
    communities = list(row.communities or [])
    large = list(row.large_communities or [])
    return {
        "id": row.id, "prefix": row.prefix, "next_hop": row.next_hop, "as_path": row.as_path or "",
        "community": " ".join(communities + large) or None, "communities": communities,
        "large_communities": large, "description": row.description, "enabled": bool(row.enabled),
        "status": "active" if row.enabled else "disabled",
        "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
    }


async def status_snapshot(limit: int = 1000) -> dict[str, Any]:
    now = utcnow()
    rows = await BgpSession.all().order_by("id").limit(limit)
    return {"sessions": [status_item(r, now) for r in rows]}
