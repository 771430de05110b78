"""``/api/v1/sample/notes``: owned objects, per-object authorization, a queued job."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response, validate_request

from ipv6wgm.api import Envelope, ok
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import current_principal, get_owned, require, scope_owned
from ipv6wgm_sample.models import Note
from ipv6wgm_sample.schemas import NoteIn, NoteOut, note_out

bp = Blueprint("sample", __name__)


@bp.get("/notes")
@require("sample.notes.read")
@document_response(Envelope[list[NoteOut]])
async def list_notes():
    """The caller's notes (everyone's for holders of sample.all)."""
    notes = await scope_owned(Note.all().order_by("id"), current_principal(), "sample.all").limit(100)
    return ok([note_out(n) for n in notes])


@bp.post("/notes")
@require("sample.notes.write")
@validate_request(NoteIn)
@document_response(Envelope[NoteOut], 201)
async def create_note(data: NoteIn):
    """Create a note owned by the caller."""
    note = await Note.create(owner_id=current_principal().id, text=data.text)
    return ok(note_out(note), "created", 201)


@bp.get("/notes/<int:note_id>")
@require("sample.notes.read")
@document_response(Envelope[NoteOut])
async def get_note(note_id: int):
    """One note, if the caller owns it."""
    return ok(note_out(await get_owned(Note.all(), note_id, current_principal(), "sample.all", "note")))


@bp.post("/notes/<int:note_id>/touch")
@require("sample.notes.write")
@document_response(Envelope[dict[str, Any]], 202)
async def touch_note(note_id: int):
    """Enqueue the sample.touch job for this note."""
    note = await get_owned(Note.all(), note_id, current_principal(), "sample.all", "note")
    job_id = await current().jobs.enqueue("sample.touch", note.id)
    return ok({"job_id": job_id}, "queued", 202)
