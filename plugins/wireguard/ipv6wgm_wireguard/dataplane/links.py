"""Links, addresses, MTU and routes through rtnetlink (pyroute2's AsyncIPRoute).

Shared by both WireGuard backends: only *creating* the link differs (kernel link kind vs a tun
made by wireguard-go). pyroute2 0.9's AsyncIPRoute speaks netlink on the event loop, so nothing
here blocks it and no ``ip`` binary is needed. Everything acts on the network namespace of the
calling process, or on the named one passed as ``netns`` (a gateway may keep its tunnels in a
dedicated namespace; the tests use that to stay out of the host's). The namespace is the
caller's (the backend's) to remember: no module state here.
"""

from __future__ import annotations

import errno
import ipaddress
from socket import AF_INET, AF_INET6

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ipv6wgm import validation as iv

from .. import validation as v

RT_TABLE_MAIN = 254
IFF_UP = 0x1
_LINK_LOCAL = ipaddress.ip_network("fe80::/10")


def _socket_in_netns(name: str) -> int:
    """A NETLINK_ROUTE socket that belongs to namespace ``name``.

    setns() changes only the calling thread, so a short-lived thread enters the namespace and
    opens the socket there; the socket stays bound to that namespace. pyroute2's own
    ``netns=`` forks the whole (server) process instead, which must not happen under a running
    event loop with open database connections.
    """
    import socket
    import threading

    from pyroute2.netns import setns

    result: dict[str, object] = {}

    def enter_and_open() -> None:
        try:
            setns(name, flags=0, fork=False)
            result["fd"] = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0).detach()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=enter_and_open, name=f"netns-{name}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return int(result["fd"])  # type: ignore[call-overload]


def _ipr(netns: str | None) -> AsyncIPRoute:
    """rtnetlink in ``netns`` (``/var/run/netns/<name>``), or in this process's namespace."""
    return AsyncIPRoute(fileno=_socket_in_netns(netns)) if netns else AsyncIPRoute()


async def link_index(name: str, *, netns: str | None = None) -> int | None:
    v.ifname(name)
    async with _ipr(netns) as ipr:
        found = await ipr.link_lookup(ifname=name)
    return found[0] if found else None


async def link_kind(name: str, *, netns: str | None = None) -> str | None:
    """The rtnetlink kind (``wireguard``, ``tun``…) or None when the link does not exist."""
    v.ifname(name)
    async with _ipr(netns) as ipr:
        try:
            (msg,) = await ipr.link("get", ifname=name)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return None
            raise
    info = msg.get("IFLA_LINKINFO")
    return info.get("IFLA_INFO_KIND") if info is not None else None


async def create_link(name: str, kind: str, *, netns: str | None = None) -> None:
    v.ifname(name)
    async with _ipr(netns) as ipr:
        try:
            await ipr.link("add", ifname=name, kind=kind)
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise


async def delete_link(name: str, *, netns: str | None = None) -> bool:
    """True if a link was deleted, False if there was none."""
    v.ifname(name)
    async with _ipr(netns) as ipr:
        found = await ipr.link_lookup(ifname=name)
        if not found:
            return False
        try:
            await ipr.link("del", index=found[0])
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return False
            raise
    return True


def _require(found: list[int], name: str) -> int:
    if not found:
        raise LookupError(f"interface {name} does not exist")
    return found[0]


async def configure_link(name: str, addresses: list[str], mtu: int | None, *, netns: str | None = None) -> None:
    """Make addresses and MTU match exactly and bring the link up, touching only what differs.

    Kernel-made IPv6 link-local addresses are left alone unless the desired list itself holds a
    link-local address: removing them would only make the kernel fight back, and they are
    harmless on a point-to-point tunnel.
    """
    v.ifname(name)
    want = {v.interface_address(a) for a in addresses}
    manage_ll = any(ipaddress.ip_interface(a).ip in _LINK_LOCAL for a in want)
    async with _ipr(netns) as ipr:
        index = _require(await ipr.link_lookup(ifname=name), name)
        have: set[str] = set()
        async for msg in await ipr.addr("dump", index=index):
            if msg["index"] != index:
                continue
            iface = ipaddress.ip_interface(f"{msg.get('address')}/{msg['prefixlen']}")
            if iface.ip in _LINK_LOCAL and not manage_ll:
                continue
            have.add(str(iface))
        for addr in sorted(have - want):
            iface = ipaddress.ip_interface(addr)
            await ipr.addr("del", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
        for addr in sorted(want - have):
            iface = ipaddress.ip_interface(addr)
            try:
                await ipr.addr("add", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
            except NetlinkError as exc:
                if exc.code != errno.EEXIST:
                    raise
        (link,) = await ipr.link("get", index=index)
        if mtu is not None and link.get("mtu") != mtu:
            await ipr.link("set", index=index, mtu=mtu)
        if not link["flags"] & IFF_UP:
            await ipr.link("set", index=index, state="up")


async def list_addresses(name: str, *, netns: str | None = None) -> list[str]:
    v.ifname(name)
    async with _ipr(netns) as ipr:
        index = _require(await ipr.link_lookup(ifname=name), name)
        return [
            str(ipaddress.ip_interface(f"{m.get('address')}/{m['prefixlen']}"))
            async for m in await ipr.addr("dump", index=index)
            if m["index"] == index
        ]


async def add_route(name: str, cidr: str, *, netns: str | None = None) -> None:
    """``replace`` makes it idempotent and moves the prefix here if it pointed elsewhere."""
    v.ifname(name)
    net = ipaddress.ip_network(v.network(cidr))
    async with _ipr(netns) as ipr:
        index = _require(await ipr.link_lookup(ifname=name), name)
        await ipr.route(
            "replace",
            family=AF_INET6 if net.version == 6 else AF_INET,
            dst=str(net.network_address),
            dst_len=net.prefixlen,
            oif=index,
            table=RT_TABLE_MAIN,
        )


async def remove_route(name: str, cidr: str, *, netns: str | None = None) -> None:
    v.ifname(name)
    net = ipaddress.ip_network(v.network(cidr))
    async with _ipr(netns) as ipr:
        found = await ipr.link_lookup(ifname=name)
        if not found:
            return  # the link is gone, and its routes with it
        try:
            await ipr.route(
                "del",
                family=AF_INET6 if net.version == 6 else AF_INET,
                dst=str(net.network_address),
                dst_len=net.prefixlen,
                oif=found[0],
                table=RT_TABLE_MAIN,
            )
        except NetlinkError as exc:
            if exc.code not in (errno.ESRCH, errno.ENOENT):
                raise


async def list_routes(name: str, *, netns: str | None = None) -> list[str]:
    """Prefixes in the main table that point at the link (for reconcile and tests)."""
    v.ifname(name)
    async with _ipr(netns) as ipr:
        index = _require(await ipr.link_lookup(ifname=name), name)
        out: list[str] = []
        for family in (AF_INET, AF_INET6):
            async for r in await ipr.route("dump", family=family, table=RT_TABLE_MAIN):
                if r.get("oif") == index and r.get("table") == RT_TABLE_MAIN:
                    dst = r.get("dst") or ("0.0.0.0" if family == AF_INET else "::")
                    out.append(str(ipaddress.ip_network(f"{dst}/{r['dst_len']}", strict=False)))
    return out


async def primary_address(*, netns: str | None = None) -> tuple[str, str] | None:
    """The address peers most likely reach this node at, and how it was found.

    IPv6 first: a global address preferred by (or on the link of) the IPv6 default route, then
    the same for IPv4 (which may be a private address behind NAT: the operator is told which
    one was picked and can set the endpoint). None when there is no default route at all.
    """
    async with _ipr(netns) as ipr:
        for family in (AF_INET6, AF_INET):
            default = None
            async for r in await ipr.route("dump", family=family, table=RT_TABLE_MAIN):
                if r["dst_len"] == 0 and r.get("table") == RT_TABLE_MAIN and r.get("oif"):
                    default = r
                    break
            if default is None:
                continue
            index = default.get("oif")
            candidates = []
            preferred = default.get("prefsrc")
            if preferred:
                candidates.append(preferred)
            async for m in await ipr.addr("dump", family=family):
                if m["index"] == index:
                    candidates.append(m.get("address"))
            for candidate in candidates:
                try:
                    address = iv.ip_address(str(candidate))  # canonical, no zone id
                except ValueError:
                    continue
                if family == AF_INET6 and not address.is_global:
                    continue
                if address.is_loopback or address.is_link_local or address.is_unspecified:
                    continue
                found = await ipr.link("get", index=index)
                ifname = found[0].get("ifname") if found else index
                return str(address), f"the node's primary IPv{address.version} address (default route via {ifname})"
    return None
