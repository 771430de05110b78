"""The WireGuard plugin's process state: one object per runtime, built in ``startup``.

What a process keeps between jobs and requests, and why:

- the data-plane backend and the namespace it acts in, built on first use (an API process
  behind Redis never touches the data plane, so it never builds one);
- one lock per server for applying it, and one per server for creating clients (SQLite has
  no row locks; on MariaDB the row lock does the work across processes);
- the peer-spec cache: a reconcile over thousands of unchanged peers neither decrypts nor
  re-validates them;
- what the previous live-state collection saw of each peer, so unchanged peers cost nothing.

``close()`` (the ``shutdown`` hook) closes the backend and forgets the rest. It does *not*
remove interfaces or stop the wireguard-go daemons the backend started, deliberately: a tunnel
outlives the process that manages it, like a kernel interface does, so restarting or upgrading
the worker (or the embedded server) does not cut every client off. The next start's reconcile
adopts the running interfaces; stopping a *server* (``is_active: false``) is what removes one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ipv6wgm.runtime import Runtime, current
from ipv6wgm_wireguard.dataplane import WireGuardBackend, get_backend, kernel_wireguard_available
from ipv6wgm_wireguard.service import PeerSpecCache
from ipv6wgm_wireguard.settings import WireGuardSettings, wg_settings

PLUGIN = "wireguard"


class WireGuardState:
    def __init__(self, settings: WireGuardSettings, netns: str | None) -> None:
        self.settings = settings
        self.netns = netns
        self._backend: WireGuardBackend | None = None
        self._apply_locks: dict[int, asyncio.Lock] = {}
        self._create_locks: dict[int, asyncio.Lock] = {}
        self.peer_specs = PeerSpecCache()
        #: server id -> the backend's marks of each peer at the last collection (``activity``)
        self.seen: dict[int, dict[str, Any]] = {}

    @classmethod
    def build(cls, runtime: Runtime) -> WireGuardState:
        settings = wg_settings()
        return cls(settings, settings.netns or runtime.settings.netns)

    @property
    def backend(self) -> WireGuardBackend:
        if self._backend is None:
            kind = self.settings.backend
            if kind == "auto":
                kind = "kernel" if kernel_wireguard_available() else "userspace"
            opts: dict[str, Any] = {"netns": self.netns}
            if kind == "userspace":
                opts["wireguard_go"] = self.settings.wireguard_go
            self._backend = get_backend(kind, **opts)
        return self._backend

    def apply_lock(self, server_id: int) -> asyncio.Lock:
        """Serialises applying one server (a reconcile and an API start must not interleave)."""
        return self._apply_locks.setdefault(server_id, asyncio.Lock())

    def create_lock(self, server_id: int) -> asyncio.Lock:
        """Serialises address allocation on one server inside this process."""
        return self._create_locks.setdefault(server_id, asyncio.Lock())

    async def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()
        self.peer_specs.clear()
        self.seen.clear()


def plugin_state() -> WireGuardState:
    """This process's WireGuard state (the runtime's, built by the ``startup`` hook)."""
    return current().state(PLUGIN, WireGuardState)
