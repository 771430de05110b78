"""The backend contract and the backend-independent half of reconciliation.

Backends only know how to read one dump and apply one batch; deciding *what* to apply is pure
and shared here, so the kernel and userspace backends cannot drift apart in what "in sync"
means (and the rule can be unit-tested without a data plane).
"""

from __future__ import annotations

import asyncio
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import validation as v
from . import links
from .types import InterfaceSpec, InterfaceState, PeerSpec, PeerState, SyncResult


@dataclass
class PeerDiff:
    add: list[PeerSpec] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    update: list[PeerSpec] = field(default_factory=list)

    def result(self) -> SyncResult:
        return SyncResult(added=len(self.add), removed=len(self.remove), updated=len(self.update))


def peer_differs(want: PeerSpec, have: PeerState, have_psk: str | None) -> bool:
    """True when applying ``want`` would change the peer in a way reconcile must repair.

    Endpoints are only repaired when the peer has none: WireGuard roams a peer's endpoint to
    wherever its last authenticated packet came from, so a configured endpoint is a starting
    point, and "fixing" a roamed one on every reconcile would break roaming. An explicit change
    of the desired endpoint goes through ``set_peer``, which always sets it.
    """
    if (want.persistent_keepalive or 0) != (have.persistent_keepalive or 0):
        return True
    if want.preshared_key != have_psk:
        return True
    if want.endpoint is not None and have.endpoint is None:
        return True
    return set(want.allowed_ips) != set(have.allowed_ips)


def diff_peers(
    desired: Iterable[PeerSpec], current: Mapping[str, PeerState], current_psk: Mapping[str, str | None]
) -> PeerDiff:
    diff = PeerDiff()
    seen: set[str] = set()
    for want in desired:
        if want.public_key in seen:
            raise ValueError(f"duplicate peer public key in desired state: {want.public_key}")
        seen.add(want.public_key)
        have = current.get(want.public_key)
        if have is None:
            diff.add.append(want)
        elif peer_differs(want, have, current_psk.get(want.public_key)):
            diff.update.append(want)
    diff.remove = [key for key in current if key not in seen]
    return diff


async def resolve_endpoint(endpoint: str) -> str:
    """Hostname endpoints are resolved when applied (the data planes only take addresses)."""
    if v.endpoint_is_literal(endpoint):
        return endpoint
    host, port = v.split_endpoint(endpoint)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"cannot resolve endpoint {endpoint}")
    return v.join_endpoint(str(infos[0][4][0]), port)


async def resolve_peers(peers: list[PeerSpec]) -> list[PeerSpec]:
    cache: dict[str, str] = {}
    out: list[PeerSpec] = []
    for peer in peers:
        if peer.endpoint is None or v.endpoint_is_literal(peer.endpoint):
            out.append(peer)
            continue
        if peer.endpoint not in cache:
            cache[peer.endpoint] = await resolve_endpoint(peer.endpoint)
        out.append(replace(peer, endpoint=cache[peer.endpoint]))
    return out


@dataclass(slots=True)
class MovedPeer:
    """A peer whose observable state may have changed since the caller last looked."""

    state: PeerState
    key: str  # the peer's key in the caller's ``seen`` map (the backend's own form)
    mark: Any  # what to store under ``key`` once the caller has handled the peer


@dataclass
class PeerActivity:
    """An interface's peers as far as live-state collection cares (``WireGuardBackend.activity``)."""

    count: int
    moved: dict[str, MovedPeer]  # by public key (base64)
    has_peer: Callable[[str], bool]  # is this public key (base64) a peer now


class WireGuardBackend(ABC):
    """One WireGuard data plane (kernel netlink or a userspace UAPI implementation).

    Every method is idempotent: the caller applies desired state, it does not replay commands.
    Nothing here restarts an interface to change a peer. Links, addresses and routes live in
    the network namespace ``netns`` (None: the process's own).
    """

    kind: str = "abstract"

    def __init__(self, *, netns: str | None = None) -> None:
        self.netns = netns

    @abstractmethod
    async def ensure_interface(self, spec: InterfaceSpec) -> None:
        """Create if missing; key/port/fwmark/addresses/MTU made to match; up. Never touches peers."""

    @abstractmethod
    async def delete_interface(self, name: str) -> None:
        """Remove the interface; a missing interface is not an error."""

    @abstractmethod
    async def interface_exists(self, name: str) -> bool: ...

    @abstractmethod
    async def set_peer(self, name: str, peer: PeerSpec) -> None:
        """Add or update one peer to match ``peer`` exactly (allowed IPs replaced)."""

    @abstractmethod
    async def remove_peer(self, name: str, public_key: str) -> None:
        """Remove one peer; an unknown peer is not an error."""

    @abstractmethod
    async def dump(self, name: str) -> InterfaceState:
        """The whole interface from a single dump."""

    @abstractmethod
    async def sync_peers(self, name: str, desired: list[PeerSpec]) -> SyncResult:
        """One dump, then only the differences, batched; a no-op when nothing differs."""

    async def activity(self, name: str, seen: Mapping[str, Any]) -> PeerActivity:
        """One dump, reduced to the peers whose counters, handshake or endpoint differ from what
        ``seen`` remembers (the caller stores ``moved[k].mark`` under ``moved[k].key`` once it
        has handled a peer), so unchanged peers cost the caller nothing. Backends that can tell
        "unchanged" before decoding a peer override this."""
        state = await self.dump(name)
        moved: dict[str, MovedPeer] = {}
        for key, peer in state.peers.items():
            mark = (peer.rx_bytes, peer.tx_bytes, peer.last_handshake, peer.endpoint)
            if seen.get(key) != mark:
                moved[key] = MovedPeer(peer, key, mark)
        return PeerActivity(len(state.peers), moved, state.peers.__contains__)

    async def add_route(self, name: str, cidr: str) -> None:
        """Route a prefix to the interface (e.g. a delegated IPv6 prefix); idempotent."""
        await links.add_route(name, cidr, netns=self.netns)

    async def remove_route(self, name: str, cidr: str) -> None:
        """Remove that route; a missing route is not an error."""
        await links.remove_route(name, cidr, netns=self.netns)

    async def list_routes(self, name: str) -> list[str]:
        """Prefixes routed to the interface."""
        return await links.list_routes(name, netns=self.netns)

    async def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release long-lived resources, if any. Never removes interfaces: a tunnel outlives
        the process that manages it (see ``userspace``)."""
