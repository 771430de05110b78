"""IPv6 arithmetic on integers: a pool is a prefix cut into equal allocation units ("slots").

Slot ``i`` of a pool ``P/p`` cut into ``/l`` is ``P + (i << (128 - l))``. Nothing here ever
enumerates subnets, so a /32 cut into /64 (2^32 slots) costs the same as a /64 cut into /66.
Counts are Python integers, exact at any size; the only bound is ``MAX_UNIT_BITS`` because a
slot number is stored in a signed 64-bit column.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ipv6wgm import validation

# Slots are stored in a signed BIGINT and the allocator's SQL computes ``slot + 1``: at most
# 2^62 allocation units per pool keeps every value far from overflow on every database.
MAX_UNIT_BITS = 62


class PrefixError(ValueError):
    """Input that is well-formed text but not an acceptable IPv6 prefix; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def parse_network(text: str, field: str = "prefix") -> ipaddress.IPv6Network:
    """An IPv6 network with its host bits zero (``2001:db8::1/64`` is refused, not truncated).

    Parsed by the core primitive, so a zone id (``fe80::%x…/64``) never gets this far."""
    try:
        iface = validation.ip_interface(text)
    except ValueError:
        raise PrefixError(field, "expected an IPv6 prefix such as 2001:db8::/48") from None
    if not isinstance(iface, ipaddress.IPv6Interface):
        raise PrefixError(field, "IPv4 prefixes are not accepted; an IPv6 prefix is required")
    net = iface.network
    if net.network_address != iface.ip:
        raise PrefixError(field, f"host bits are set; did you mean {net}?")
    return net


@dataclass(frozen=True)
class PoolGeometry:
    """The arithmetic of one pool: where it starts and how it is cut."""

    network: ipaddress.IPv6Network
    prefix_length: int

    @classmethod
    def of(cls, prefix: str, prefix_length: int) -> PoolGeometry:
        net = parse_network(prefix)
        if not net.prefixlen <= prefix_length <= 128:
            raise PrefixError("prefix_length", f"prefix_length must be between {net.prefixlen} and 128")
        if prefix_length - net.prefixlen > MAX_UNIT_BITS:
            raise PrefixError(
                "prefix_length",
                f"a pool may hold at most 2^{MAX_UNIT_BITS} allocation units; "
                f"/{net.prefixlen} cut into /{prefix_length} holds 2^{prefix_length - net.prefixlen}",
            )
        return cls(net, prefix_length)

    @property
    def total(self) -> int:
        return 1 << (self.prefix_length - self.network.prefixlen)

    @property
    def _shift(self) -> int:
        return 128 - self.prefix_length

    def prefix_of(self, slot: int) -> str:
        base = int(self.network.network_address) + (slot << self._shift)
        return f"{ipaddress.IPv6Address(base)}/{self.prefix_length}"

    def slot_of(self, prefix: str, field: str = "prefix") -> int:
        """The slot of a requested prefix: it must be exactly one allocation unit of this pool."""
        net = parse_network(prefix, field)
        if net.prefixlen != self.prefix_length:
            raise PrefixError(field, f"this pool hands out /{self.prefix_length} prefixes, not /{net.prefixlen}")
        if not net.subnet_of(self.network):
            raise PrefixError(field, f"{net} is outside the pool {self.network}")
        return (int(net.network_address) - int(self.network.network_address)) >> self._shift

    def slot_range(self, prefix: str, field: str = "prefix") -> tuple[int, int]:
        """First and last slot covered by any prefix inside the pool (a reservation)."""
        net = parse_network(prefix, field)
        if not net.subnet_of(self.network):
            raise PrefixError(field, f"{net} is outside the pool {self.network}")
        offset = int(net.network_address) - int(self.network.network_address)
        first = offset >> self._shift
        if net.prefixlen >= self.prefix_length:
            return first, first
        return first, first + (1 << (self.prefix_length - net.prefixlen)) - 1


def utilization(total: int, used: int) -> float:
    """Percentage used, rounded to 4 decimals (exact integer maths first, then one division)."""
    if total <= 0:
        return 0.0
    return round(used * 1_000_000 // total / 10_000, 4)
