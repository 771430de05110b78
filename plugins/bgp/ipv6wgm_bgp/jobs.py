"""Jobs that run where BIRD runs (the owning process): check, apply, observe.

They fail with the core's ``JobFailed`` (BIRD's own exceptions stay in this process), which
crosses arq's pickle boundary and carries what the API answers: a config BIRD refuses is the
client's 422 with BIRD's message, rows that clash 409, a BIRD that is down 503. Every job is
idempotent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from ipv6wgm.api import VALIDATION_ERROR, ApiError, conflict, invalid, utcnow
from ipv6wgm.jobs import JobFailed
from ipv6wgm.runtime import current
from ipv6wgm.system import tools
from ipv6wgm_bgp.bird import BirdConfigError, BirdError, protocol_name, received_routes, session_states
from ipv6wgm_bgp.models import BgpNode, BgpSession
from ipv6wgm_bgp.service import owner
from ipv6wgm_bgp.service.desired import on_node, render_desired
from ipv6wgm_bgp.service.views import aware, status_item
from ipv6wgm_bgp.settings import bgp_settings

log = logging.getLogger(__name__)

CHANNEL, MESSAGE_TYPE = "bgp", "bgp_status"
_CONFLICT_MARKERS = ("is used by", "collides with", "announced twice")
_BIRD_FAILURES = (BirdError, owner.BirdUnavailable, OSError, ValueError)


def value_error(exc: ValueError) -> ApiError:
    """The renderer's "field: why" → 409 for clashes between rows, 422 for a bad value."""
    text = str(exc)
    field, _, why = text.partition(": ")
    if not why:
        field, why = "body", text
    if any(m in why for m in _CONFLICT_MARKERS):
        return conflict(why, field=field)
    return invalid(field, why)


def failed(step: str, exc: BaseException) -> JobFailed:
    """BIRD's or the renderer's exception as the job failure the API answers with."""
    if isinstance(exc, BirdConfigError):
        return JobFailed(step, "BIRD rejected the configuration", 422, VALIDATION_ERROR,
                         {"field": "config", "message": exc.message[:2000], "bird_code": exc.code})
    if isinstance(exc, ValueError):
        err = value_error(exc)
        return JobFailed(step, err.message, err.status, err.code, err.details)
    return JobFailed(step, f"BIRD unavailable: {str(exc) or type(exc).__name__}")


async def check(ctx: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """``configure check`` of a candidate tree; nothing running changes."""
    try:
        await owner.supervisor().check(files)
    except _BIRD_FAILURES as e:
        raise failed("configure check", e) from e
    return {"ok": True}


async def apply_files(ctx: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """Apply a tree the API rendered from its not yet committed transaction (checked first:
    a refused tree changes nothing)."""
    try:
        result = await owner.supervisor().apply(files)
    except _BIRD_FAILURES as e:
        raise failed("configure", e) from e
    return {"ok": True, "changed": result.changed, "generation": result.generation}


async def apply(ctx: dict[str, Any]) -> dict[str, Any]:
    """Render every row and make it BIRD's running config (a no-op when nothing changed)."""
    try:
        files = await render_desired(strict=False)
        result = await owner.supervisor().apply(files)
    except _BIRD_FAILURES as e:
        raise failed("configure", e) from e
    return {"ok": True, "changed": result.changed, "generation": result.generation}


async def reconcile(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: re-apply, so a lost job or a BIRD restarted by hand converges again."""
    if owner.start_error() is not None or not _owns():
        return {"ok": False, "skipped": "this process does not run BIRD"}
    return await apply(ctx)


def _owns() -> bool:
    try:
        owner.supervisor()
    except owner.BirdUnavailable:
        return False
    return True


def _epoch(value: datetime | None) -> int | None:
    value = aware(value)
    return int(value.timestamp()) if value is not None else None


async def heartbeat(ok: bool, error: str | None) -> None:
    node = current().settings.node_id
    fields = {"bird_ok": ok, "error": error[:500] if error else None, "last_seen": utcnow()}
    if not await BgpNode.filter(node_id=node).update(**fields):
        try:
            await BgpNode.create(node_id=node, **fields)
        except IntegrityError:  # created concurrently: fine, update it
            await BgpNode.filter(node_id=node).update(**fields)


async def collect_state(ctx: dict[str, Any]) -> dict[str, Any]:
    """Read ``show protocols all`` once; write what changed; publish ``bgp_status``."""
    settings = bgp_settings()
    await tools.record("bgp", [] if settings.socket else tools.missing([settings.bird_binary]))
    if not _owns():
        if owner.start_error() is not None:  # reported by the heartbeat row and the health check
            await heartbeat(False, owner.start_error())
        return {"ok": False, "skipped": owner.start_error() or "this process does not run BIRD"}
    try:
        states = await session_states(owner.supervisor().control)
    except (BirdError, OSError) as e:
        await heartbeat(False, str(e) or type(e).__name__)
        raise failed("read state", e) from e
    await heartbeat(True, None)
    now = utcnow()
    rows = await BgpSession.filter(on_node(current().settings.node_id)).order_by("id")
    established = 0
    for row in rows:
        st = states.get(protocol_name(row.name))
        if st is not None and not row.enabled and st.proto_state != "up":
            st = None  # stopped by us: BIRD may still be tearing it down, report it as idle now
        if st is None:  # not (yet) in BIRD's config, or stopped
            new: dict[str, Any] = {"status": "idle", "established_since": None, "routes_received": 0,
                                   "routes_advertised": 0}
        else:
            since = (datetime.fromtimestamp(st.since_epoch, UTC)
                     if st.state == "established" and st.since_epoch is not None else None)
            new = {"status": st.state, "established_since": since, "routes_received": st.routes_imported,
                   "routes_advertised": st.routes_exported,
                   "last_error": st.last_error[:255] if st.last_error else None}
        established += new["status"] == "established"
        changed = {k: v for k, v in new.items()
                   if (_epoch(getattr(row, k)) != _epoch(v) if k == "established_since" else getattr(row, k) != v)}
        if changed:
            await BgpSession.filter(id=row.id).update(**changed)
            for k, v in changed.items():
                setattr(row, k, v)
    if rows:
        await BgpSession.filter(id__in=[r.id for r in rows]).update(last_update=now)
    try:
        await current().hub.publish(CHANNEL, MESSAGE_TYPE, {"sessions": [status_item(r, now) for r in rows[:1000]]})
    except Exception:  # noqa: BLE001 - observation is stored; a lost message is not fatal
        log.exception("could not publish bgp_status")
    return {"ok": True, "sessions": len(rows), "established": established}


async def routes(ctx: dict[str, Any], session_id: int) -> dict[str, Any]:
    """Routes received from one session (``show route all where proto = …``)."""
    row = await BgpSession.filter(id=session_id).first()
    if row is None:
        return {"ok": True, "routes": []}
    try:
        found = await received_routes(owner.supervisor().control, protocol_name(row.name))
    except (BirdError, owner.BirdUnavailable, OSError) as e:
        raise failed("read routes", e) from e
    return {"ok": True, "routes": [
        {"prefix": r.prefix, "next_hop": r.next_hop, "as_path": list(r.as_path), "communities": list(r.communities),
         "large_communities": list(r.large_communities), "primary": r.primary, "origin": r.origin,
         "local_pref": r.local_pref} for r in found[:10000]]}


async def refresh() -> None:
    """``services["bgp.refresh"]``: the IPv6 plugin's announced pools changed; re-apply soon."""
    try:
        await current().jobs.enqueue("bgp.apply")
    except Exception:  # noqa: BLE001 - the reconcile cron picks the change up anyway
        log.warning("could not queue bgp.apply; the reconcile cron will catch up")
