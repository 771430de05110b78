"""Hook implementations of the sample plugin."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import document_response, validate_request

from ipv6wgm import hookimpl
from ipv6wgm.api import Envelope, StrictBody, iso, ok, utcnow
from ipv6wgm.plugins import PluginInfo
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import current_principal, get_owned, require, scope_owned

info = PluginInfo(name="sample", version="0.1.0", description="test plugin")
bp = Blueprint("sample", __name__)


class NoteIn(StrictBody):
    text: str = Field(min_length=1, max_length=200)


class NoteOut(BaseModel):
    id: int
    owner_id: int
    text: str
    touched_at: str | None
    touched_by_node: str | None


def _out(note: Any) -> dict[str, Any]:
    return {"id": note.id, "owner_id": note.owner_id, "text": note.text, "touched_at": iso(note.touched_at),
            "touched_by_node": note.touched_by_node}


@bp.get("/notes")
@require("sample.notes.read")
@document_response(Envelope[list[NoteOut]])
async def list_notes():
    """The caller's notes (everyone's for holders of sample.all)."""
    from ipv6wgm_sample.models import Note

    notes = await scope_owned(Note.all().order_by("id"), current_principal(), "sample.all").limit(100)
    return ok([_out(n) for n in notes])


@bp.post("/notes")
@require("sample.notes.write")
@validate_request(NoteIn)
@document_response(Envelope[NoteOut], 201)
async def create_note(data: NoteIn):
    """Create a note owned by the caller."""
    from ipv6wgm_sample.models import Note

    note = await Note.create(owner_id=current_principal().id, text=data.text)
    return ok(_out(note), "created", 201)


@bp.get("/notes/<int:note_id>")
@require("sample.notes.read")
@document_response(Envelope[NoteOut])
async def get_note(note_id: int):
    """One note, if the caller owns it."""
    from ipv6wgm_sample.models import Note

    return ok(_out(await get_owned(Note.all(), note_id, current_principal(), "sample.all", "note")))


@bp.post("/notes/<int:note_id>/touch")
@require("sample.notes.write")
@document_response(Envelope[dict[str, Any]], 202)
async def touch_note(note_id: int):
    """Enqueue the sample.touch job for this note."""
    from ipv6wgm_sample.models import Note

    note = await get_owned(Note.all(), note_id, current_principal(), "sample.all", "note")
    job_id = await current().jobs.enqueue("sample.touch", note.id)
    return ok({"job_id": job_id}, "queued", 202)


async def touch(ctx: dict[str, Any], note_id: int) -> None:
    """Idempotent: sets the touch time and node, then tells the owner over WebSocket."""
    from ipv6wgm_sample.models import Note

    rt = current()
    await Note.filter(id=note_id).update(touched_at=utcnow(), touched_by_node=rt.settings.node_id)
    note = await Note.filter(id=note_id).first()
    if note is not None:
        await rt.hub.publish("sample", "note_touched", _out(note), owner_id=note.owner_id)


@hookimpl
def register_models(register: Any) -> None:
    register("ipv6wgm_sample.models", migrations="ipv6wgm_sample.migrations")


@hookimpl
def register_blueprints(register: Any) -> None:
    register(bp)


@hookimpl
def register_jobs(register: Any) -> None:
    register("touch", touch, timeout=30)


def _count_run(name: str):
    """A cron that counts its runs per node and tick in Redis (``<prefix>:sample:cron_runs``,
    field ``<cron>|<node>|<tick>``), so a test can see which node ran which tick."""

    async def run(ctx: dict[str, Any]) -> None:
        rt = current()
        if rt.redis is not None:
            key = f"{rt.settings.redis_prefix}:sample:cron_runs"
            await rt.redis.client.hincrby(key, f"{name}|{rt.settings.node_id}|{ctx['cron_tick']}", 1)
            await rt.redis.client.expire(key, 3600)

    return run


@hookimpl
def register_cron(register: Any) -> None:
    """Only with ``IPV6WGM_SAMPLE_CRON_EVERY`` set (tests of cron scopes): one cron per scope."""
    import os

    every = os.environ.get("IPV6WGM_SAMPLE_CRON_EVERY")
    if every:
        register("node_tick", _count_run("node_tick"), every=int(every), scope="node")
        register("cluster_tick", _count_run("cluster_tick"), every=int(every), scope="cluster")


@hookimpl
def collect_metrics(emit: Any) -> None:
    """Only with ``IPV6WGM_SAMPLE_METRIC_FILE`` set (monitoring tests): ``sample.value`` is the
    number in that file (cluster-wide: no ``node`` tag), ``sample.node_value`` the same number
    owned by this node. A test changes the file to drive alert rules; no file, no metric."""
    import os
    from pathlib import Path

    path = os.environ.get("IPV6WGM_SAMPLE_METRIC_FILE")
    if not path:
        return
    try:
        value = float(Path(path).read_text().strip())
    except (OSError, ValueError):
        return
    emit("sample.value", value, tags={"source": "file"}, unit="count")
    emit("sample.node_value", value, tags={"source": "file", "node": current().settings.node_id}, unit="count")


@hookimpl
def register_ws_channels(register: Any) -> None:
    register("sample", message_type="note_touched", permission="sample.notes.read", stream_path="/ws/sample")


@hookimpl
def register_permissions(register: Any) -> None:
    register("sample.notes.read", "Read own notes", roles=("manager", "user"))
    register("sample.notes.write", "Write own notes", roles=("manager", "user"))
    register("sample.all", "See everyone's notes", roles=("manager",))


@hookimpl
async def account_changed(event: Any) -> None:
    """Access ends with the account: a deleted user's notes go with it, or, with
    ``keep_objects``, pass to the admin who deleted the account (a note must have an owner)."""
    from ipv6wgm_sample.models import Note

    if event.kind != "deleted":
        return
    if event.keep_objects and event.actor_id is not None:
        await Note.filter(owner_id=event.user_id).update(owner_id=event.actor_id)
    else:
        await Note.filter(owner_id=event.user_id).delete()


@hookimpl
def health_components(register: Any) -> None:
    async def check() -> dict[str, Any]:
        from ipv6wgm_sample.models import Note

        return {"status": "healthy", "notes": await Note.all().count()}

    register("sample", check)
