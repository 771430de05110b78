"""/bgp/sessions: CRUD, start/stop, received routes."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request

from ipv6wgm.api import Envelope, MessageEnvelope, conflict, invalid, not_found, ok, paginate, utcnow
from ipv6wgm.security.rbac import require
from ipv6wgm_bgp import placement
from ipv6wgm_bgp.models import BgpSession
from ipv6wgm_bgp.routes.common import refresh_state, run_job, write
from ipv6wgm_bgp.schemas import (
    RoutesOut,
    SessionCreate,
    SessionList,
    SessionOut,
    SessionQuery,
    SessionStarted,
    SessionStopped,
    SessionUpdate,
)
from ipv6wgm_bgp.service.desired import seal_password
from ipv6wgm_bgp.service.views import session_out
from ipv6wgm_bgp.settings import bgp_settings

bp = Blueprint("bgp_sessions", __name__)
_REQUIRED = ("name", "neighbor", "remote_as", "local_as", "import_policy", "enabled")


async def _get(session_id: int, conn: Any = None) -> BgpSession:
    qs = BgpSession.filter(id=session_id)
    row = await (qs.using_db(conn) if conn is not None else qs).first()
    if row is None:
        raise not_found("BGP session")
    return row


async def _name_free(name: str, conn: Any, exclude: int | None = None) -> None:
    qs = BgpSession.filter(name=name).using_db(conn)
    if exclude is not None:
        qs = qs.exclude(id=exclude)
    if await qs.exists():
        raise conflict(f"a BGP session named {name!r} already exists", field="name")


@bp.get("/sessions")
@require("bgp.sessions.read")
@validate_querystring(SessionQuery)
@document_response(Envelope[SessionList])
async def list_sessions(query_args: SessionQuery):
    """Sessions with their last observed state (collected every few seconds); never passwords."""
    qs = BgpSession.all().order_by("id")
    if query_args.status:
        qs = qs.filter(status=query_args.status)
    rows, page = await paginate(qs, query_args)
    now = utcnow()
    return ok({"sessions": [session_out(r, now) for r in rows], "pagination": page})


@bp.post("/sessions")
@require("bgp.sessions.write")
@validate_request(SessionCreate)
@document_response(Envelope[SessionOut], 201)
async def create_session(data: SessionCreate):
    """Create a session; it is in BIRD's running config when this answers."""
    fields = data.model_dump(exclude={"password"})
    fields["local_as"] = data.local_as or bgp_settings().local_as
    fields["node_id"] = await placement.node_for_new_session(data.node_id)
    if data.enabled:
        fields["started_at"] = utcnow()

    async def mutate(conn: Any) -> BgpSession:
        await _name_free(data.name, conn)
        return await BgpSession.create(
            using_db=conn, password_enc=seal_password(data.password) if data.password else None, **fields)

    row = await write(mutate, fields["node_id"])
    return ok(session_out(await _get(row.id)), "BGP session created", 201)


@bp.get("/sessions/<int:session_id>")
@require("bgp.sessions.read")
@document_response(Envelope[SessionOut])
async def get_session(session_id: int):
    """One session, its state read from BIRD just now (or seconds ago if BIRD is slow)."""
    await refresh_state((await _get(session_id)).node_id)
    return ok(session_out(await _get(session_id)))


@bp.put("/sessions/<int:session_id>")
@require("bgp.sessions.write")
@validate_request(SessionUpdate)
@document_response(Envelope[SessionOut])
async def update_session(session_id: int, data: SessionUpdate):
    """Change a session; only its own BIRD protocol restarts, and only if BGP needs it to."""
    changes = data.model_dump(exclude_unset=True)
    for key in _REQUIRED:
        if key in changes and changes[key] is None:
            raise invalid(key, "must not be null")

    async def mutate(conn: Any) -> BgpSession:
        row = await _get(session_id, conn)
        if "name" in changes and changes["name"] != row.name:
            await _name_free(changes["name"], conn, exclude=row.id)
        for key, value in changes.items():
            if key == "password":
                row.password_enc = seal_password(value) if value else None
            else:
                setattr(row, key, value)
        if changes.get("enabled") is True and not row.started_at:
            row.started_at = utcnow()
        await row.save(using_db=conn)
        return row

    row = await write(mutate, (await _get(session_id)).node_id)
    return ok(session_out(await _get(row.id)), "BGP session updated")


@bp.delete("/sessions/<int:session_id>")
@require("bgp.sessions.write")
@document_response(MessageEnvelope)
async def delete_session(session_id: int):
    """Delete a session; BIRD drops that protocol and nothing else."""

    async def mutate(conn: Any) -> None:
        row = await _get(session_id, conn)
        await row.delete(using_db=conn)

    await write(mutate, (await _get(session_id)).node_id)
    return ok(None, "BGP session deleted")


async def _set_enabled(session_id: int, enabled: bool) -> BgpSession:
    async def mutate(conn: Any) -> BgpSession:
        row = await _get(session_id, conn)
        row.enabled = enabled
        if enabled:
            row.started_at = utcnow()
        else:
            row.stopped_at = utcnow()
        await row.save(using_db=conn)
        return row

    row = await write(mutate, (await _get(session_id)).node_id)
    await refresh_state(row.node_id)
    return await _get(row.id)


@bp.post("/sessions/<int:session_id>/start")
@require("bgp.sessions.write")
@document_response(Envelope[SessionStarted])
async def start_session(session_id: int):
    """Enable the session; ``status`` is its BGP state right after BIRD applied it."""
    row = await _set_enabled(session_id, True)
    return ok({"id": row.id, "status": row.status, "started_at": session_out(row)["started_at"]},
              "BGP session started")


@bp.post("/sessions/<int:session_id>/stop")
@require("bgp.sessions.write")
@document_response(Envelope[SessionStopped])
async def stop_session(session_id: int):
    """Disable the session (BIRD shuts that protocol down; the others keep running)."""
    row = await _set_enabled(session_id, False)
    return ok({"id": row.id, "status": row.status, "stopped_at": session_out(row)["stopped_at"]},
              "BGP session stopped")


@bp.get("/sessions/<int:session_id>/routes")
@require("bgp.sessions.read")
@document_response(Envelope[RoutesOut])
async def session_routes(session_id: int):
    """Routes received from this neighbor, as BIRD holds them now."""
    row = await _get(session_id)
    result = await run_job("routes", session_id, node=row.node_id)
    return ok({"session_id": session_id, "routes": result["routes"]})
