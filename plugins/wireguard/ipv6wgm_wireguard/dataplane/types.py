"""Value types shared by every WireGuard data-plane backend.

Specs validate and canonicalise in ``__post_init__`` so that every string reaching the UAPI
socket or netlink has already been checked once (no control characters, strict keys, parsed
CIDRs) and so that desired and observed state compare equal when they mean the same thing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ..keys import validate_key

_IFNAME_RE = re.compile(r"^[A-Za-z0-9_=+.-]{1,15}$")
_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


def validate_ifname(name: str) -> str:
    """Linux caps names at 15 bytes; the charset keeps them safe as UAPI socket file names."""
    if not isinstance(name, str) or not _IFNAME_RE.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"invalid interface name: {name!r}")
    return name


def normalize_cidr(value: str) -> str:
    """A network prefix (allowed IP, route); host bits are masked, as WireGuard itself does."""
    if not isinstance(value, str) or "/" not in value or not value.isprintable() or value != value.strip():
        raise ValueError(f"invalid CIDR: {value!r}")
    return str(ipaddress.ip_network(value, strict=False))


def normalize_interface_address(value: str) -> str:
    """An interface address keeps its host part (``10.99.0.1/24``)."""
    if not isinstance(value, str) or "/" not in value or not value.isprintable() or value != value.strip():
        raise ValueError(f"invalid interface address: {value!r}")
    return str(ipaddress.ip_interface(value))


def split_endpoint(value: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` → (host, port). Hostnames are allowed; backends resolve."""
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        raise ValueError(f"invalid endpoint: {value!r}")
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
        if not sep:
            raise ValueError(f"invalid endpoint: {value!r}")
        host = str(ipaddress.IPv6Address(host))
    else:
        host, sep, port = value.rpartition(":")
        if not sep or ":" in host:
            raise ValueError(f"invalid endpoint (IPv6 needs [addr]:port): {value!r}")
        try:
            host = str(ipaddress.IPv4Address(host))
        except ValueError:
            if not _HOSTNAME_RE.fullmatch(host) or host.replace(".", "").isdigit():
                raise ValueError(f"invalid endpoint host: {value!r}") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"invalid endpoint port: {value!r}")
    return host, int(port)


def join_endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def normalize_endpoint(value: str) -> str:
    return join_endpoint(*split_endpoint(value))


def endpoint_is_literal(value: str) -> bool:
    host, _ = split_endpoint(value)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_int(name: str, value: int | None, lo: int, hi: int) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")


@dataclass
class InterfaceSpec:
    name: str
    private_key: str = field(repr=False)
    listen_port: int
    addresses: list[str] = field(default_factory=list)
    mtu: int | None = None
    fwmark: int | None = None

    def __post_init__(self) -> None:
        validate_ifname(self.name)
        validate_key(self.private_key)
        _check_int("listen_port", self.listen_port, 0, 65535)
        _check_int("mtu", self.mtu, 576, 65535)
        _check_int("fwmark", self.fwmark, 0, 0xFFFFFFFF)
        self.addresses = list(dict.fromkeys(normalize_interface_address(a) for a in self.addresses))


@dataclass
class PeerSpec:
    public_key: str
    allowed_ips: list[str] = field(default_factory=list)
    preshared_key: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    persistent_keepalive: int | None = None

    def __post_init__(self) -> None:
        validate_key(self.public_key)
        if self.preshared_key is not None:
            validate_key(self.preshared_key)
        if self.endpoint is not None:
            self.endpoint = normalize_endpoint(self.endpoint)
        _check_int("persistent_keepalive", self.persistent_keepalive, 0, 65535)
        if self.persistent_keepalive == 0:
            self.persistent_keepalive = None
        self.allowed_ips = sorted({normalize_cidr(c) for c in self.allowed_ips}, key=_cidr_sort_key)


def _cidr_sort_key(cidr: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(cidr)
    return (net.version, int(net.network_address), net.prefixlen)


@dataclass(slots=True)
class PeerState:
    """Observed peer. Carries no secret: it is what gets published as observed state."""

    public_key: str
    endpoint: str | None
    allowed_ips: list[str]
    last_handshake: float | None  # epoch seconds, None = never
    rx_bytes: int
    tx_bytes: int
    persistent_keepalive: int | None
    has_preshared_key: bool


@dataclass
class InterfaceState:
    name: str
    public_key: str | None
    listen_port: int | None
    fwmark: int | None
    peers: dict[str, PeerState] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncResult:
    added: int = 0
    removed: int = 0
    updated: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated)
