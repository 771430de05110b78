"""A short-lived, per-process cache of validated sessions.

Checking the session row on every request costs more than the rest of a request; the cache
keeps a validated (user, access-token generation) pair per session for a few seconds. It is
invalidated at once in this process when a session is revoked, its access tokens are renewed or
a user changes, and in every other process through the hub's control channel (Redis pub/sub).
If Redis is down, another process may honour a revoked token for at most ``TTL_S`` seconds. A
token newer than the cached generation is never refused: it makes the process reload the row.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

TTL_S = 5.0
MAX_ENTRIES = 20_000


class CachedSession(NamedTuple):
    user: Any
    access_gen: int


_entries: dict[str, tuple[float, CachedSession]] = {}


def get(session_id: str) -> CachedSession | None:
    hit = _entries.get(session_id)
    if hit is None:
        return None
    if hit[0] < time.monotonic():
        _entries.pop(session_id, None)
        return None
    return hit[1]


def put(session_id: str, user: Any, access_gen: int = 0) -> None:
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[session_id] = (time.monotonic() + TTL_S, CachedSession(user, access_gen))


def drop_sessions(session_ids: list[str]) -> None:
    for session_id in session_ids:
        _entries.pop(session_id, None)


def clear() -> None:
    _entries.clear()


def drop_user(user_id: int) -> None:
    for session_id in [sid for sid, (_, hit) in _entries.items() if hit.user.id == user_id]:
        _entries.pop(session_id, None)


async def on_control(message: dict[str, Any]) -> None:
    """Hub control handler: other processes' revocations, renewals, user changes and restores."""
    if message.get("kind") in ("session_revoked", "session_renewed"):
        drop_sessions(list(message.get("session_ids", [])))
    elif message.get("kind") == "user_changed":
        drop_user(int(message.get("user_id", 0)))
    elif message.get("kind") == "sessions_replaced":
        clear()
