"""Observed BGP state read from BIRD's control socket.

Parsing is kept in pure functions over :class:`BirdReply` (itself built from raw socket
lines) so it is tested on captured real output; the async helpers only send the command.
BIRD's text is meant for humans, so parsing is lenient: an unknown line is skipped rather
than fatal, and a missing counter is 0.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .control import BirdCommandError, BirdControl, BirdReply

__all__ = [
    "ReceivedRoute",
    "SessionState",
    "parse_protocols",
    "parse_routes",
    "received_routes",
    "session_state",
    "session_states",
]

_NO_MATCH = 8003
_PROTO_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_DETAIL = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_ ]*?):\s+(.*?)\s*$")
_ROUTES = re.compile(r"(\d+) (imported|exported|filtered|preferred)")
_ROUTE_HEAD = re.compile(r"^(\S+)?\s+(\w+) \[(\S+) ([^\]]*?)(?: from (\S+))?\]")
_VIA = re.compile(r"^\s*via (\S+)")
_COMMUNITY = re.compile(r"\((\d+),(\d+)\)")
_LARGE = re.compile(r"\((\d+), (\d+), (\d+)\)")

# RFC 4271 states; BIRD's extra "Down" (disabled) and "Close" (shutting down) are Idle.
_BGP_STATES = {
    "idle": "idle",
    "connect": "connect",
    "active": "active",
    "opensent": "opensent",
    "openconfirm": "openconfirm",
    "established": "established",
    "down": "idle",
    "close": "idle",
}


@dataclass(frozen=True, slots=True)
class SessionState:
    """``state`` is the BGP FSM state; ``proto_state`` is BIRD's own (up/start/down…),
    which tells a disabled session (``down``) from one trying to connect (``start``)."""

    name: str
    state: str
    proto_state: str
    since_epoch: int | None
    uptime_s: int
    routes_imported: int
    routes_exported: int
    last_error: str | None
    neighbor: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedRoute:
    prefix: str
    protocol: str
    next_hop: str | None
    as_path: tuple[int, ...]
    communities: tuple[str, ...]
    large_communities: tuple[str, ...]
    primary: bool
    origin: str | None = None
    local_pref: int | None = None


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_protocols(reply: BirdReply, now: float | None = None) -> dict[str, SessionState]:
    """BGP protocols of a ``show protocols all [name]`` reply, by protocol name."""
    now = time.time() if now is None else now
    blocks: list[tuple[list[str], list[str]]] = []  # (summary columns, detail lines)
    for code, text in reply.lines:
        if code == 1002:
            blocks.append((text.split(None, 5), []))
        elif code == 1006 and blocks:
            blocks[-1][1].append(text)
    out: dict[str, SessionState] = {}
    for cols, details in blocks:
        if len(cols) < 4 or cols[1] != "BGP":
            continue
        info: dict[str, str] = {}
        imported = exported = 0
        for line in details:
            m = _DETAIL.match(line)
            if not m:
                continue
            key, value = m.group(1), m.group(2)
            if key == "Routes":  # one per channel: sum them
                counts = {kind: int(n) for n, kind in _ROUTES.findall(value)}
                imported += counts.get("imported", 0)
                exported += counts.get("exported", 0)
            else:
                info.setdefault(key, value)
        raw_state = info.get("BGP state", cols[5] if len(cols) > 5 else "idle").split()[0]
        state = _BGP_STATES.get(raw_state.lower(), raw_state.lower())
        since = _as_int(cols[4]) if len(cols) > 4 else None
        uptime = max(0, int(now) - since) if state == "established" and since is not None else 0
        out[cols[0]] = SessionState(
            name=cols[0],
            state=state,
            proto_state=cols[3].lower(),
            since_epoch=since,
            uptime_s=uptime,
            routes_imported=imported,
            routes_exported=exported,
            last_error=info.get("Last error"),
            neighbor=info.get("Neighbor address"),
            description=info.get("Description"),
        )
    return out


def parse_routes(reply: BirdReply) -> list[ReceivedRoute]:
    """Routes of a ``show route … all`` reply (any table, any protocol)."""
    routes: list[dict[str, object]] = []
    prefix: str | None = None
    for code, text in reply.lines:
        if code == 1007:
            if text.startswith("Table ") or not text.strip():
                continue
            m = _ROUTE_HEAD.match(text)
            if m:
                prefix = m.group(1) or prefix  # further paths of one net omit the prefix
                routes.append(
                    {
                        "prefix": prefix,
                        "protocol": m.group(3),
                        "primary": "] *" in text,
                        "via": None,
                        "attrs": {},
                    }
                )
                continue
            m = _VIA.match(text)
            if m and routes and routes[-1]["via"] is None:
                routes[-1]["via"] = m.group(1)
        elif code == 1012 and routes:
            m = _DETAIL.match(text.replace("BGP.", "", 1))
            if m:
                attrs = routes[-1]["attrs"]
                assert isinstance(attrs, dict)
                attrs[m.group(1)] = m.group(2)
    out: list[ReceivedRoute] = []
    for r in routes:
        attrs = r["attrs"]
        assert isinstance(attrs, dict)
        bgp_nh = attrs.get("next_hop", "").split()
        path = tuple(int(t) for t in re.findall(r"\d+", attrs.get("as_path", "")))
        out.append(
            ReceivedRoute(
                prefix=str(r["prefix"]),
                protocol=str(r["protocol"]),
                next_hop=(r["via"] or (bgp_nh[0] if bgp_nh else None)),  # type: ignore[arg-type]
                as_path=path,
                communities=tuple(f"{a}:{b}" for a, b in _COMMUNITY.findall(attrs.get("community", ""))),
                large_communities=tuple(f"{a}:{b}:{c}" for a, b, c in _LARGE.findall(attrs.get("large_community", ""))),
                primary=bool(r["primary"]),
                origin=attrs.get("origin"),
                local_pref=_as_int(attrs.get("local_pref", "")),
            )
        )
    return out


def _check_name(protocol: str) -> str:
    if not isinstance(protocol, str) or _PROTO_NAME.fullmatch(protocol) is None:
        raise ValueError(f"protocol: must match {_PROTO_NAME.pattern}, got {protocol!r}")
    return protocol


async def session_states(ctl: BirdControl) -> dict[str, SessionState]:
    return parse_protocols(await ctl.request("show protocols all"))


async def session_state(ctl: BirdControl, protocol: str) -> SessionState | None:
    """None when BIRD has no such protocol.

    A quoted pattern is used instead of a bare name: a bare unknown name is a syntax error
    (9001), indistinguishable from a real one, while a pattern gives 8003 "No protocols match".
    """
    try:
        reply = await ctl.request(f'show protocols all "{_check_name(protocol)}"')
    except BirdCommandError as e:
        if e.code == _NO_MATCH:
            return None
        raise
    return parse_protocols(reply).get(protocol)


async def received_routes(ctl: BirdControl, protocol: str) -> list[ReceivedRoute]:
    """Routes BIRD imported from ``protocol`` (empty when unknown or ``import none``)."""
    reply = await ctl.request(f'show route all where proto = "{_check_name(protocol)}"')
    return parse_routes(reply)
