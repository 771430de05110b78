"""BIRD 2 data-plane backend: render config, drive the control socket, read state.

No database and no HTTP here: callers pass typed specs in and get typed state out.
"""

from __future__ import annotations

from .control import BirdCommandError, BirdConnectionError, BirdControl, BirdError, BirdReply, BirdTimeout
from .render import AnnouncementSpec, SessionSpec, protocol_name, render_config
from .state import ReceivedRoute, SessionState, received_routes, session_state, session_states
from .supervisor import ApplyResult, BirdConfigError, BirdSupervisor

__all__ = [
    "AnnouncementSpec",
    "ApplyResult",
    "BirdCommandError",
    "BirdConfigError",
    "BirdConnectionError",
    "BirdControl",
    "BirdError",
    "BirdReply",
    "BirdSupervisor",
    "BirdTimeout",
    "ReceivedRoute",
    "SessionSpec",
    "SessionState",
    "protocol_name",
    "received_routes",
    "render_config",
    "session_state",
    "session_states",
]
