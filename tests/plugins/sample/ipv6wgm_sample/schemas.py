"""Request and response bodies of the sample plugin's routes (Quart-Schema, pydantic)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ipv6wgm.api import StrictBody, iso


class NoteIn(StrictBody):
    text: str = Field(min_length=1, max_length=200)


class NoteOut(BaseModel):
    id: int
    owner_id: int
    text: str
    touched_at: str | None
    touched_by_node: str | None


def note_out(note: Any) -> dict[str, Any]:
    """A ``Note`` row as ``NoteOut`` (API answers and WebSocket events alike)."""
    return {"id": note.id, "owner_id": note.owner_id, "text": note.text, "touched_at": iso(note.touched_at),
            "touched_by_node": note.touched_by_node}
