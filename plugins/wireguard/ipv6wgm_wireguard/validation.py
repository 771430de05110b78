"""The one validation module of the WireGuard plugin.

The API schemas, the wg-quick import and the data-plane specs all call these functions, so a
value that reaches a config file, a QR code, a header, the UAPI socket or netlink has passed
the same rule whichever way it came in. Built on ``ipv6wgm.validation``: zone ids are refused,
patterns are applied with ``fullmatch`` (``re.match(r"^…$")`` lets a trailing ``\\n`` through),
no control or line-breaking character passes, lengths are bounded, and the canonical form is
returned (the caller stores that, never the raw input).

Each function returns the canonical value or raises ``ValueError`` with a message an operator
can act on; pydantic turns that into a 422 naming the field.
"""

from __future__ import annotations

import ipaddress
import re

from ipv6wgm import validation as iv
from ipv6wgm_wireguard.keys import is_zero_key, validate_key

NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
NODE_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Linux caps interface names at 15 bytes; the charset keeps them safe as UAPI socket file names.
IFNAME_RE = re.compile(r"[A-Za-z0-9_=+.-]{1,15}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
# ASCII digits only: str.isdigit() and int() also take "٣" and "³".
DIGITS_RE = re.compile(r"[0-9]{1,10}")


def name(value: str) -> str:
    """Client and server names: they become file names and ``# name`` lines of exports."""
    return iv.matches(NAME_RE, value, "1-64 characters: letters, digits, '_', '.', '-'")


def ifname(value: str) -> str:
    if not isinstance(value, str) or IFNAME_RE.fullmatch(value) is None or value in (".", ".."):
        raise ValueError(f"invalid interface name {value!r}: 1-15 characters of A-Z a-z 0-9 _ = + . -")
    return value


def node_id(value: str) -> str:
    return iv.matches(NODE_ID_RE, value, "node ids are 1-64 characters: letters, digits, '_', '.', '-'")


def text(value: str, limit: int = 255) -> str:
    """Free text (descriptions): bounded, no control or line-breaking characters."""
    return iv.text(value, max_len=limit, field="text")


def integer(value: str, lo: int, hi: int, what: str) -> int:
    """An integer written as text (wg-quick import): ASCII digits only, bounded."""
    if not isinstance(value, str) or DIGITS_RE.fullmatch(value) is None or not lo <= int(value) <= hi:
        raise ValueError(f"{what} must be an integer in [{lo}, {hi}]")
    return int(value)


def key(value: str) -> str:
    """A private or preshared key: canonical base64 of 32 bytes."""
    try:
        return validate_key(value)
    except ValueError:
        raise ValueError("not a WireGuard key (base64 of 32 bytes, 44 characters)") from None


def public_key(value: str) -> str:
    checked = key(value)
    if is_zero_key(checked):
        raise ValueError("the all-zero key is not a usable WireGuard key")
    return checked


# ---- addresses and networks ----------------------------------------------------------------


def server_address(value: str, version: int) -> str:
    """``10.0.0.1/24``: the server's own address and its tunnel network."""
    example = "10.0.0.1/24" if version == 4 else "2001:db8::1/64"
    try:
        iface = iv.ip_interface(value, version=version)
    except ValueError:
        raise ValueError(f"not an IPv{version} address with prefix length, e.g. {example}") from None
    net = iface.network
    max_len = 30 if version == 4 else 126
    if net.prefixlen > max_len:
        raise ValueError(f"the tunnel network must be /{max_len} or larger")
    if version == 4 and iface.ip in (net.network_address, net.broadcast_address):
        raise ValueError("the server address must be a host address of its network")
    if version == 6 and iface.ip == net.network_address:
        raise ValueError("the server address must not be the subnet-router anycast address")
    return str(iface)


def client_address(value: str, version: int) -> iv.IPAddress:
    """``10.0.0.3`` or ``10.0.0.3/32`` (a host, never a network)."""
    if isinstance(value, str) and "/" in value:
        try:
            iface = iv.ip_interface(value, version=version)
        except ValueError:
            raise ValueError(f"not an IPv{version} address") from None
        if iface.network.prefixlen != iface.max_prefixlen:
            raise ValueError(f"a client address is a single host (/{iface.max_prefixlen})")
        return iface.ip
    try:
        return iv.ip_address(value, version=version)
    except ValueError:
        raise ValueError(f"not an IPv{version} address") from None


def ip_list(values: list[str], limit: int = 8) -> list[str]:
    """DNS servers: addresses only, canonical, de-duplicated in order."""
    if len(values) > limit:
        raise ValueError(f"at most {limit} entries")
    return list(dict.fromkeys(str(iv.ip_address(item)) for item in values))


def cidr_list(values: list[str], limit: int = 64) -> list[str]:
    """AllowedIPs as given through the API: host bits must be zero (``10.0.0.0/8``)."""
    if len(values) > limit:
        raise ValueError(f"at most {limit} entries")
    out = []
    for item in values:
        try:
            out.append(str(iv.ip_network(item, strict=True)))
        except ValueError:
            raise ValueError(f"{item!r} is not a network with host bits zero, e.g. 10.0.0.0/24") from None
    return list(dict.fromkeys(out))


def network(value: str) -> str:
    """A prefix on the data plane (allowed IP, route); host bits are masked, as WireGuard does."""
    return str(parsed_network(value))


def parsed_network(value: str) -> iv.IPNetwork:
    """``network`` before it becomes text, for callers that also sort by it (parsed once)."""
    try:
        return iv.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"invalid CIDR: {value!r}") from None


def interface_address(value: str) -> str:
    """An interface address keeps its host part (``10.99.0.1/24``)."""
    try:
        return str(iv.ip_interface(value))
    except ValueError:
        raise ValueError(f"invalid interface address: {value!r}") from None


# ---- endpoints ------------------------------------------------------------------------------


def _port(value: str, original: str) -> int:
    if DIGITS_RE.fullmatch(value) is None or not 1 <= int(value) <= 65535:
        raise ValueError(f"invalid endpoint port in {original!r}: 1-65535")
    return int(value)


def _host(value: str, original: str) -> str:
    """An IPv4 address or a DNS name (lower-cased); IPv6 is handled by the callers (brackets)."""
    if HOSTNAME_RE.fullmatch(value) is None:
        raise ValueError(f"invalid endpoint host in {original!r}: not a host name or address")
    if value.rsplit(".", 1)[-1].isdigit():  # looks numeric: must then be a real IPv4 address
        try:
            return str(iv.ip_address(value, version=4))
        except ValueError:
            raise ValueError(f"invalid endpoint host in {original!r}: not an IPv4 address") from None
    return value.lower()


def split_endpoint(value: str, *, require_port: bool = True) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` (a bare IPv6 address is taken as a
    host) → canonical ``(host, port)``; IPv6 hosts come back without brackets."""
    if not isinstance(value, str) or not 1 <= len(value) <= 261:
        raise ValueError("an endpoint is 1-261 characters")
    if value.startswith("["):
        inner, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"invalid endpoint {value!r}: bracketed IPv6 looks like [2001:db8::1]:51820")
        try:
            host = str(iv.ip_address(inner, version=6))
        except ValueError:
            raise ValueError(f"invalid endpoint {value!r}: not an IPv6 address inside the brackets") from None
        port = _port(rest[1:], value) if rest else None
    elif value.count(":") > 1:
        try:
            host, port = str(iv.ip_address(value, version=6)), None
        except ValueError:
            raise ValueError(f"invalid endpoint {value!r}: IPv6 with a port is written [addr]:port") from None
    else:
        raw_host, sep, raw_port = value.partition(":")
        host = _host(raw_host, value)
        port = _port(raw_port, value) if sep else None
    if port is None and require_port:
        raise ValueError(f"invalid endpoint {value!r}: a port is needed (host:port or [v6]:port)")
    return host, port


def join_endpoint(host: str, port: int | None) -> str:
    host_part = f"[{host}]" if ":" in host else host
    return host_part if port is None else f"{host_part}:{port}"


def endpoint(value: str) -> str:
    """A server's public endpoint as clients see it; the port is optional (the listen port)."""
    return join_endpoint(*split_endpoint(value, require_port=False))


def peer_endpoint(value: str) -> str:
    """A peer endpoint on the data plane: a port is required."""
    return join_endpoint(*split_endpoint(value, require_port=True))


def endpoint_is_literal(value: str) -> bool:
    host, _ = split_endpoint(value, require_port=False)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
