"""WireGuard through a userspace implementation (wireguard-go) and its UAPI socket.

How wireguard-go is run: we let it **daemonize** (no ``-f``). Its parent process only exits
after the tun device and the UAPI socket exist, so awaiting its exit status is an exact
readiness signal, and a failure comes back as a non-zero status plus a message on stderr. The
daemon then outlives the worker process, exactly like a kernel interface does: restarting or
upgrading the node worker does not drop every tunnel. Supervision is the reconcile loop's job:
``interface_exists`` is false when the daemon has died (its tun disappears with it) and
``ensure_interface`` starts it again. It is started in its own session so a Ctrl-C/SIGHUP
aimed at the worker's terminal does not reach it. Under systemd, the unit needs
``KillMode=mixed``/``process`` if the tunnels must survive a service restart.

The UAPI socket directory is host-wide, not per network namespace; a live socket whose link is
absent from *our* namespace belongs to someone else and is refused, never reused.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
from collections.abc import Mapping
from typing import Any

from .. import validation as v
from ..keys import key_to_hex, validate_key
from . import links
from .base import MovedPeer, PeerActivity, WireGuardBackend, diff_peers, resolve_peers
from .types import InterfaceSpec, InterfaceState, PeerSpec, SyncResult
from .uapi import (
    DeviceConfig,
    UapiError,
    build_set,
    check_errno,
    parse_blocks,
    parse_get,
    peer_blocks,
    socket_path,
)

DEFAULT_SOCKET_DIR = "/var/run/wireguard"


def _enter_netns(name: str | None) -> Any:
    """The daemon must create its tun inside the data-plane namespace: setns in the child."""
    if name is None:
        return None

    def enter() -> None:
        from pyroute2.netns import setns

        setns(name, flags=0)

    return enter


class UserspaceBackend(WireGuardBackend):
    kind = "userspace"

    def __init__(
        self,
        wireguard_go: str = "wireguard-go",
        socket_dir: str = DEFAULT_SOCKET_DIR,
        start_timeout: float = 10.0,
        io_timeout: float = 60.0,
        netns: str | None = None,
    ) -> None:
        super().__init__(netns=netns)
        self.wireguard_go = wireguard_go
        self.socket_dir = socket_dir
        self.start_timeout = start_timeout
        self.io_timeout = io_timeout
        # Serialises create/delete per name inside this process so two concurrent ensures
        # cannot both start a daemon; peer operations need no lock (wireguard-go locks).
        self._locks: dict[str, asyncio.Lock] = {}

    # -- UAPI transport ------------------------------------------------------------------

    async def _request(self, name: str, payload: bytes, reply_size: int = 1 << 18) -> bytearray:
        """One request on a fresh connection; a reply always ends with ``errno=N`` + blank line.

        Raw ``sock_recv_into`` into one growing buffer rather than asyncio streams: a
        10,000-peer reply is ~3.5 MB and the stream layer would copy it twice more. The buffer
        starts at ``reply_size``: a ``set`` answers only its errno, and zeroing a buffer sized
        for a ``get`` on every peer change is wasted work.
        """
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        buf = bytearray(reply_size)
        size = 0
        try:
            async with asyncio.timeout(self.io_timeout):
                await loop.sock_connect(sock, socket_path(self.socket_dir, name))
                await loop.sock_sendall(sock, payload)
                while True:
                    if size == len(buf):
                        buf.extend(bytes(len(buf)))
                    n = await loop.sock_recv_into(sock, memoryview(buf)[size:])
                    if n == 0:
                        raise UapiError(0, f"{name}: UAPI connection closed mid-reply")
                    size += n
                    if size >= 2 and buf[size - 2 : size] == b"\n\n":
                        break
        finally:
            sock.close()
        del buf[size:]  # in place: no copy of a multi-megabyte reply
        return buf

    async def _get(self, name: str) -> DeviceConfig:
        return parse_get(await self._request(name, b"get=1\n\n"))

    async def _set(self, name: str, payload: bytes) -> None:
        check_errno(await self._request(name, payload, reply_size=256))

    async def _socket_alive(self, name: str) -> bool:
        try:
            async with asyncio.timeout(2):
                _, writer = await asyncio.open_unix_connection(socket_path(self.socket_dir, name))
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    # -- daemon ----------------------------------------------------------------------------

    async def _start_daemon(self, name: str) -> None:
        # A minimal environment: an inherited WG_TUN_FD / WG_PROCESS_FOREGROUND would make
        # wireguard-go adopt a stranger's fd or stay attached to us.
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LOG_LEVEL": "error"}
        with tempfile.TemporaryFile() as err:
            # stderr to a file, not a pipe: if the daemon child ever kept the pipe, reading
            # it to EOF would hang until the interface is deleted.
            proc = await asyncio.create_subprocess_exec(
                self.wireguard_go,
                name,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
                env=env,
                start_new_session=True,
                preexec_fn=_enter_netns(self.netns),  # noqa: PLW1509 - setns only, no locks
            )
            try:
                async with asyncio.timeout(self.start_timeout):
                    rc = await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise RuntimeError(f"{self.wireguard_go} {name}: did not daemonize in time") from None
            err.seek(0)
            message = err.read(4000).decode(errors="replace").strip()
        if rc != 0:
            raise RuntimeError(f"{self.wireguard_go} {name} failed (exit {rc}): {message}")
        deadline = time.monotonic() + self.start_timeout
        while not await self._socket_alive(name):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: wireguard-go started but its UAPI socket is not answering")
            await asyncio.sleep(0.05)

    # -- backend API -----------------------------------------------------------------------

    async def interface_exists(self, name: str) -> bool:
        v.ifname(name)
        return await links.link_index(name, netns=self.netns) is not None and await self._socket_alive(name)

    async def ensure_interface(self, spec: InterfaceSpec) -> None:
        async with self._locks.setdefault(spec.name, asyncio.Lock()):
            await self._ensure_interface(spec)

    async def _ensure_interface(self, spec: InterfaceSpec) -> None:
        name = spec.name
        alive = await self._socket_alive(name)
        present = await links.link_index(name, netns=self.netns) is not None
        if not alive and present:
            raise RuntimeError(f"{name} exists but is not a wireguard-go interface")
        if alive and not present:
            raise RuntimeError(f"{name}: a wireguard-go interface of that name runs in another namespace")
        if not alive:
            await self._start_daemon(name)
        cur = await self._get(name)
        want_fwmark = spec.fwmark or 0
        payload = build_set(
            private_key=spec.private_key if cur.private_key != spec.private_key else None,
            # 0 asks for a random port: keep whatever was picked rather than rebinding each time.
            listen_port=(spec.listen_port if spec.listen_port and cur.listen_port != spec.listen_port else None),
            fwmark=want_fwmark if (cur.fwmark or 0) != want_fwmark else None,
        )
        if payload != b"set=1\n\n":
            await self._set(name, payload)
        await links.configure_link(name, spec.addresses, spec.mtu, netns=self.netns)

    async def delete_interface(self, name: str) -> None:
        v.ifname(name)
        async with self._locks.setdefault(name, asyncio.Lock()):
            await self._delete_interface(name)

    async def _delete_interface(self, name: str) -> None:
        if await links.link_index(name, netns=self.netns) is None:
            return  # nothing here; a live socket of that name belongs to another namespace
        alive = await self._socket_alive(name)
        if not alive and await links.link_kind(name, netns=self.netns) != "tun":
            raise RuntimeError(f"refusing to delete {name}: it is not a wireguard-go interface")
        await links.delete_link(name, netns=self.netns)
        # wireguard-go notices its tun is gone, exits and unlinks the socket.
        deadline = time.monotonic() + self.start_timeout
        while alive and await self._socket_alive(name):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: wireguard-go did not exit after its link was deleted")
            await asyncio.sleep(0.05)

    async def dump(self, name: str) -> InterfaceState:
        v.ifname(name)
        return (await self._get(name)).public_state(name)

    async def activity(self, name: str, seen: Mapping[str, Any]) -> PeerActivity:
        """A peer's lines are compared with what ``seen`` kept of them before anything is
        decoded: in the steady state only peers with traffic are parsed, which keeps a
        10,000-peer collection near the cost of ``wg show dump``."""
        v.ifname(name)
        blocks = peer_blocks(await self._request(name, b"get=1\n\n"))
        changed = [(key, block) for key, block in blocks.items() if seen.get(key) != block]
        moved: dict[str, MovedPeer] = {}
        if changed:
            decoded = parse_blocks([block for _, block in changed]).peers
            for (key, block), peer in zip(changed, decoded.values(), strict=True):
                moved[peer.public_key] = MovedPeer(peer, key, block)
        return PeerActivity(len(blocks), moved, lambda public_key: key_to_hex(public_key) in blocks)

    async def set_peer(self, name: str, peer: PeerSpec) -> None:
        v.ifname(name)
        (peer,) = await resolve_peers([peer])
        await self._set(name, build_set(upsert=[peer]))

    async def remove_peer(self, name: str, public_key: str) -> None:
        v.ifname(name)
        await self._set(name, build_set(remove=[validate_key(public_key)]))

    async def sync_peers(self, name: str, desired: list[PeerSpec]) -> SyncResult:
        v.ifname(name)
        desired = await resolve_peers(desired)
        cur = await self._get(name)
        diff = diff_peers(desired, cur.peers, cur.preshared_keys)
        if diff.add or diff.remove or diff.update:
            await self._set(name, build_set(remove=diff.remove, upsert=[*diff.add, *diff.update]))
        return diff.result()


__all__ = ["UserspaceBackend", "UapiError"]
