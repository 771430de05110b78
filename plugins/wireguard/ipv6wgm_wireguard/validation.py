"""Strict checks for everything that reaches a config file or the kernel.

Each returns the normalised value or raises ``ValueError`` with a message an operator can act
on; pydantic turns that into a 422 naming the field.
"""

from __future__ import annotations

import ipaddress
import re

from ipv6wgm_wireguard.keys import is_zero_key, validate_key

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
IFNAME_RE = re.compile(r"^[A-Za-z0-9_=+.-]{1,15}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                     r"[A-Za-z0-9])?)*$")


def name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError("1-64 characters: letters, digits, '_', '.', '-'")
    return value


def ifname(value: str) -> str:
    if not IFNAME_RE.match(value) or value in (".", ".."):
        raise ValueError("interface names are 1-15 characters of A-Z a-z 0-9 _ = + . -")
    return value


def server_address(value: str, version: int) -> str:
    """``10.0.0.1/24``: the server's own address and its tunnel network."""
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(f"not an IPv{version} address with prefix length, e.g. "
                         f"{'10.0.0.1/24' if version == 4 else '2001:db8::1/64'}") from None
    if iface.version != version or "/" not in value:
        raise ValueError(f"expected an IPv{version} address with prefix length")
    net = iface.network
    max_len = 30 if version == 4 else 126
    if net.prefixlen > max_len:
        raise ValueError(f"the tunnel network must be /{max_len} or larger")
    if version == 4 and iface.ip in (net.network_address, net.broadcast_address):
        raise ValueError("the server address must be a host address of its network")
    if version == 6 and iface.ip == net.network_address:
        raise ValueError("the server address must not be the subnet-router anycast address")
    return str(iface)


def client_address(value: str, version: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """``10.0.0.3`` or ``10.0.0.3/32`` (a host, never a network)."""
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(f"not an IPv{version} address") from None
    if iface.version != version:
        raise ValueError(f"expected an IPv{version} address")
    if "/" in value and iface.network.prefixlen != iface.max_prefixlen:
        raise ValueError(f"a client address is a single host (/{iface.max_prefixlen})")
    return iface.ip


def ip_list(values: list[str], limit: int = 8) -> list[str]:
    if len(values) > limit:
        raise ValueError(f"at most {limit} entries")
    out = []
    for item in values:
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address") from None
    return out


def cidr_list(values: list[str], limit: int = 64) -> list[str]:
    if len(values) > limit:
        raise ValueError(f"at most {limit} entries")
    out = []
    for item in values:
        try:
            out.append(str(ipaddress.ip_network(item, strict=True)))
        except ValueError:
            raise ValueError(f"{item!r} is not a network with host bits zero, e.g. 10.0.0.0/24") from None
    return list(dict.fromkeys(out))


def endpoint(value: str) -> str:
    """``host``, ``host:port``, ``1.2.3.4:51820`` or ``[2001:db8::1]:51820``."""
    host, port = value, None
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("bracketed IPv6 endpoints look like [2001:db8::1]:51820")
        port = rest[1:] or None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("not an IPv6 address inside the brackets") from None
    elif value.count(":") == 1:
        host, port = value.split(":")
    elif value.count(":") > 1:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError("IPv6 endpoints with a port must be bracketed") from None
        return value
    if not value.startswith("[") and not HOST_RE.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError("not a host name or address") from None
    if port is not None and (not port.isdigit() or not 1 <= int(port) <= 65535):
        raise ValueError("port must be 1-65535")
    return value


def public_key(value: str) -> str:
    try:
        key = validate_key(value)
    except ValueError:
        raise ValueError("not a WireGuard key (base64 of 32 bytes, 44 characters)") from None
    if is_zero_key(key):
        raise ValueError("the all-zero key is not a usable WireGuard key")
    return key


def text(value: str, limit: int = 255) -> str:
    if len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"at most {limit} characters, no control characters or newlines")
    return value
