"""Value types shared by every WireGuard data-plane backend.

Specs validate and canonicalise in ``__post_init__`` so that every string reaching the UAPI
socket or netlink has already been checked once (no control characters, strict keys, parsed
CIDRs) and so that desired and observed state compare equal when they mean the same thing.
The checks are the plugin's one ``validation`` module, the same the API schemas use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import validation as v
from ..keys import validate_key


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
        v.ifname(self.name)
        validate_key(self.private_key)
        _check_int("listen_port", self.listen_port, 0, 65535)
        _check_int("mtu", self.mtu, 576, 65535)
        _check_int("fwmark", self.fwmark, 0, 0xFFFFFFFF)
        self.addresses = list(dict.fromkeys(v.interface_address(a) for a in self.addresses))


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
            self.endpoint = v.peer_endpoint(self.endpoint)
        _check_int("persistent_keepalive", self.persistent_keepalive, 0, 65535)
        if self.persistent_keepalive == 0:
            self.persistent_keepalive = None
        order: dict[str, tuple[int, int, int]] = {}
        for cidr in self.allowed_ips:  # each parsed once: a reconcile builds thousands of specs
            net = v.parsed_network(cidr)
            order[str(net)] = (net.version, int(net.network_address), net.prefixlen)
        self.allowed_ips = sorted(order, key=order.__getitem__)


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
