"""Jobs and crons of the sample plugin (registered in ``plugin.py``)."""

from __future__ import annotations

from typing import Any

from ipv6wgm.api import utcnow
from ipv6wgm.runtime import current
from ipv6wgm_sample.models import Note
from ipv6wgm_sample.schemas import note_out
from ipv6wgm_sample.state import plugin_state


async def touch(ctx: dict[str, Any], note_id: int) -> None:
    """Idempotent: sets the touch time and node, then tells the owner over WebSocket."""
    rt = current()
    plugin_state().touches += 1
    await Note.filter(id=note_id).update(touched_at=utcnow(), touched_by_node=rt.settings.node_id)
    note = await Note.filter(id=note_id).first()
    if note is not None:
        await rt.hub.publish("sample", "note_touched", note_out(note), owner_id=note.owner_id)


def count_run(name: str):
    """A cron that counts its runs per node and tick in Redis (``<prefix>:sample:cron_runs``,
    field ``<cron>|<node>|<tick>``), so a test can see which node ran which tick."""

    async def run(ctx: dict[str, Any]) -> None:
        rt = current()
        if rt.redis is not None:
            key = f"{rt.settings.redis_prefix}:sample:cron_runs"
            await rt.redis.client.hincrby(key, f"{name}|{rt.settings.node_id}|{ctx['cron_tick']}", 1)
            await rt.redis.client.expire(key, 3600)

    return run
