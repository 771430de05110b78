"""WireGuard through the kernel module's generic-netlink API (pyroute2's AsyncWireGuard).

Message building and dump parsing are pure functions so they are unit-testable without the
module. Two netlink facts shape them:

* a dump arrives in several messages; the device attributes come only in the first, and a peer
  with many allowed IPs can continue in the next message under the same public key, so peers
  are *merged* by key, never overwritten;
* pyroute2's ``WireGuard.set`` carries one peer per message, so batches are built here: one
  ``WGDEVICE_A_PEERS`` list holding many peers, split into messages of bounded size.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable
from socket import AF_INET, AF_INET6

from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from pyroute2.netlink.generic.wireguard import (
    WG_CMD_SET_DEVICE,
    WG_GENL_VERSION,
    WGPEER_F_REMOVE_ME,
    WGPEER_F_REPLACE_ALLOWEDIPS,
    AsyncWireGuard,
    wgmsg,
)

from .. import validation as v
from ..keys import validate_key
from . import links
from .base import WireGuardBackend, diff_peers, resolve_peers
from .types import InterfaceSpec, InterfaceState, PeerSpec, PeerState, SyncResult
from .uapi import DeviceConfig

ZERO_KEY = base64.b64encode(bytes(32)).decode("ascii")
# wg(8) sends in chunks of a page; stay well below the default socket buffer too.
MAX_MSG_BYTES = 16 * 1024


def _allowed_ip_attrs(cidr: str) -> dict:
    net = ipaddress.ip_network(cidr)
    return {
        "attrs": [
            ["WGALLOWEDIP_A_FAMILY", AF_INET6 if net.version == 6 else AF_INET],
            ["WGALLOWEDIP_A_IPADDR", net.network_address.packed],
            ["WGALLOWEDIP_A_CIDR_MASK", net.prefixlen],
        ]
    }


def peer_attrs(peer: PeerSpec) -> dict:
    """Set the peer to exactly ``peer``: allowed IPs replaced, PSK/keepalive cleared when None."""
    attrs: list[list] = [
        ["WGPEER_A_PUBLIC_KEY", validate_key(peer.public_key)],
        ["WGPEER_A_FLAGS", WGPEER_F_REPLACE_ALLOWEDIPS],
        ["WGPEER_A_PRESHARED_KEY", peer.preshared_key or ZERO_KEY],
        ["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", peer.persistent_keepalive or 0],
    ]
    if peer.endpoint is not None:
        host, port = v.split_endpoint(peer.endpoint)
        ipaddress.ip_address(host)  # must have been resolved by now
        attrs.append(["WGPEER_A_ENDPOINT", {"addr": host, "port": port}])
    attrs.append(["WGPEER_A_ALLOWEDIPS", [_allowed_ip_attrs(c) for c in peer.allowed_ips]])
    return {"attrs": attrs}


def remove_attrs(public_key: str) -> dict:
    return {"attrs": [["WGPEER_A_PUBLIC_KEY", validate_key(public_key)], ["WGPEER_A_FLAGS", WGPEER_F_REMOVE_ME]]}


def _estimate(peer: dict) -> int:
    for key, value in peer["attrs"]:
        if key == "WGPEER_A_ALLOWEDIPS":
            return 128 + 40 * len(value)
    return 64


def build_set_msgs(
    name: str,
    *,
    private_key: str | None = None,
    listen_port: int | None = None,
    fwmark: int | None = None,
    upsert: Iterable[PeerSpec] = (),
    remove: Iterable[str] = (),
    max_bytes: int = MAX_MSG_BYTES,
) -> list[wgmsg]:
    """Device settings go in the first message; peers are packed into as few as fit."""
    v.ifname(name)
    peers = [remove_attrs(k) for k in remove] + [peer_attrs(p) for p in upsert]
    msgs: list[wgmsg] = []

    def new_msg() -> wgmsg:
        msg = wgmsg()
        msg["cmd"] = WG_CMD_SET_DEVICE
        msg["version"] = WG_GENL_VERSION
        msg["attrs"].append(["WGDEVICE_A_IFNAME", name])
        msgs.append(msg)
        return msg

    msg = new_msg()
    if private_key is not None:
        msg["attrs"].append(["WGDEVICE_A_PRIVATE_KEY", validate_key(private_key)])
    if listen_port is not None:
        msg["attrs"].append(["WGDEVICE_A_LISTEN_PORT", int(listen_port)])
    if fwmark is not None:
        msg["attrs"].append(["WGDEVICE_A_FWMARK", int(fwmark)])
    batch: list[dict] = []
    size = 0
    for peer in peers:
        cost = _estimate(peer)
        if batch and size + cost > max_bytes:
            msg["attrs"].append(["WGDEVICE_A_PEERS", batch])
            msg, batch, size = new_msg(), [], 0
        batch.append(peer)
        size += cost
    if batch:
        msg["attrs"].append(["WGDEVICE_A_PEERS", batch])
    return msgs


def _key(value: object) -> str | None:
    """pyroute2 hands keys back as base64 bytes (``get_attr`` returns the NLA's value)."""
    if value is None:
        return None
    if isinstance(value, dict):  # older pyroute2: the NLA itself
        value = value["value"]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _endpoint(nla: dict | None) -> str | None:
    if nla is None:
        return None
    addr, port = nla["addr"], nla["port"]
    if port == 0 or addr in ("0.0.0.0", "::"):
        return None
    return v.join_endpoint(addr, port)


def parse_dump(msgs: Iterable[wgmsg]) -> DeviceConfig:
    """Fold every message of a WG_CMD_GET_DEVICE dump into one DeviceConfig."""
    dev = DeviceConfig()
    for msg in msgs:
        priv = _key(msg.get_attr("WGDEVICE_A_PRIVATE_KEY"))
        if priv is not None:
            dev.private_key = None if priv == ZERO_KEY else priv
        port = msg.get_attr("WGDEVICE_A_LISTEN_PORT")
        if port is not None:
            dev.listen_port = port
        fwmark = msg.get_attr("WGDEVICE_A_FWMARK")
        if fwmark is not None:
            dev.fwmark = fwmark or None
        for p in msg.get_attr("WGDEVICE_A_PEERS") or ():
            pub = _key(p.get_attr("WGPEER_A_PUBLIC_KEY"))
            if pub is None:
                continue
            cidrs = [a["addr"] for a in p.get_attr("WGPEER_A_ALLOWEDIPS") or () if "addr" in a]
            known = dev.peers.get(pub)
            if known is not None:  # continuation of a peer split across messages
                known.allowed_ips.extend(cidrs)
                continue
            psk = _key(p.get_attr("WGPEER_A_PRESHARED_KEY"))
            psk = None if psk in (None, ZERO_KEY) else psk
            hs = p.get_attr("WGPEER_A_LAST_HANDSHAKE_TIME")
            last = hs["tv_sec"] + hs["tv_nsec"] / 1e9 if hs is not None else 0
            dev.peers[pub] = PeerState(
                public_key=pub,
                endpoint=_endpoint(p.get_attr("WGPEER_A_ENDPOINT")),
                allowed_ips=cidrs,
                last_handshake=last or None,
                rx_bytes=p.get_attr("WGPEER_A_RX_BYTES") or 0,
                tx_bytes=p.get_attr("WGPEER_A_TX_BYTES") or 0,
                persistent_keepalive=p.get_attr("WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL") or None,
                has_preshared_key=psk is not None,
            )
            dev.preshared_keys[pub] = psk
    return dev


class KernelBackend(WireGuardBackend):
    kind = "kernel"

    async def _open(self) -> AsyncWireGuard:
        wg = AsyncWireGuard()
        try:
            await wg.setup_endpoint()  # binds and resolves the "wireguard" genl family
        except Exception:
            wg.close()
            raise
        return wg

    async def _get(self, name: str) -> DeviceConfig:
        v.ifname(name)
        wg = await self._open()
        try:
            return parse_dump([m async for m in await wg.info(name)])
        finally:
            wg.close()

    async def _apply(self, msgs: list[wgmsg]) -> None:
        """Same framing as pyroute2's own ``AsyncWireGuard.set``, one ACK per message."""
        wg = await self._open()
        try:
            for msg in msgs:
                msg["header"]["type"] = wg.prid
                msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK
                msg["header"]["pid"] = wg.pid
                msg.encode()
                wg.sendto(msg.data, (0, 0))
                for reply in [x async for x in wg.get()]:
                    err = reply["header"].get("error")
                    if err is not None:
                        raise err
        finally:
            wg.close()

    async def interface_exists(self, name: str) -> bool:
        return await links.link_kind(name, netns=self.netns) == "wireguard"

    async def ensure_interface(self, spec: InterfaceSpec) -> None:
        kind = await links.link_kind(spec.name, netns=self.netns)
        if kind is None:
            await links.create_link(spec.name, "wireguard", netns=self.netns)
        elif kind != "wireguard":
            raise RuntimeError(f"{spec.name} exists and is a {kind!r} link, not wireguard")
        cur = await self._get(spec.name)
        want_fwmark = spec.fwmark or 0
        port_differs = bool(spec.listen_port) and cur.listen_port != spec.listen_port
        changes = {
            "private_key": spec.private_key if cur.private_key != spec.private_key else None,
            "listen_port": spec.listen_port if port_differs else None,
            "fwmark": want_fwmark if (cur.fwmark or 0) != want_fwmark else None,
        }
        if any(value is not None for value in changes.values()):
            await self._apply(build_set_msgs(spec.name, **changes))
        await links.configure_link(spec.name, spec.addresses, spec.mtu, netns=self.netns)

    async def delete_interface(self, name: str) -> None:
        kind = await links.link_kind(name, netns=self.netns)
        if kind is None:
            return
        if kind != "wireguard":
            raise RuntimeError(f"refusing to delete {name}: it is a {kind!r} link, not wireguard")
        await links.delete_link(name, netns=self.netns)

    async def dump(self, name: str) -> InterfaceState:
        return (await self._get(name)).public_state(name)

    async def set_peer(self, name: str, peer: PeerSpec) -> None:
        (peer,) = await resolve_peers([peer])
        await self._apply(build_set_msgs(name, upsert=[peer]))

    async def remove_peer(self, name: str, public_key: str) -> None:
        await self._apply(build_set_msgs(name, remove=[public_key]))

    async def sync_peers(self, name: str, desired: list[PeerSpec]) -> SyncResult:
        desired = await resolve_peers(desired)
        cur = await self._get(name)
        diff = diff_peers(desired, cur.peers, cur.preshared_keys)
        if diff.add or diff.remove or diff.update:
            await self._apply(build_set_msgs(name, remove=diff.remove, upsert=[*diff.add, *diff.update]))
        return diff.result()
