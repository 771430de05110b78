"""Client addresses as indexes inside the server's tunnel networks.

A client's IPv4 and IPv6 host addresses are ``network + index``; ``(server, index)`` is unique
in the database. The server row keeps a hint (the next index to try), so allocating probes a
handful of indexes near the hint instead of scanning the clients already there; only when the
hint runs off the end of the network does a search for gaps (freed addresses) happen. Callers
hold the server row lock (MariaDB) or the per-server asyncio lock (SQLite) around allocate +
insert, and retry on a unique-constraint violation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ipv6wgm import validation as iv
from ipv6wgm.api import conflict, invalid

PROBES = 64
MAX_INDEX = 2**63 - 1


@dataclass(frozen=True)
class Network:
    version: int
    net: ipaddress.IPv4Network | ipaddress.IPv6Network
    server_index: int

    @classmethod
    def of(cls, server_address: str | None) -> Network | None:
        if not server_address:
            return None
        try:
            iface = iv.ip_interface(server_address)
        except ValueError as exc:  # stored before today's rules: refused like any unsafe value
            raise iv.UnsafeValue(f"the server's address: {exc}") from None
        index = int(iface.ip) - int(iface.network.network_address)
        return cls(iface.version, iface.network, index)

    @property
    def first(self) -> int:
        return 1

    @property
    def last(self) -> int:
        size = self.net.num_addresses
        last = size - 2 if self.version == 4 else size - 1  # no IPv4 broadcast
        return min(last, MAX_INDEX)

    def address(self, index: int) -> str:
        return str(self.net.network_address + index)

    def host_cidr(self, index: int) -> str:
        return f"{self.address(index)}/{self.net.max_prefixlen}"

    def index_of(self, address: Any, field: str) -> int:
        ip = ipaddress.ip_address(str(address))
        if ip not in self.net:
            raise invalid(field, f"{ip} is not inside the server's network {self.net}")
        index = int(ip) - int(self.net.network_address)
        if not self.first <= index <= self.last:
            raise invalid(field, f"{ip} is the network or broadcast address of {self.net}")
        if index == self.server_index:
            raise conflict(f"{ip} is the server's own address", field=field)
        return index


def candidates(network: Network, hint: int) -> list[int]:
    """The indexes probed first: up to ``PROBES`` from the hint on (the server's own skipped)."""
    start = max(network.first, min(hint, network.last))
    return [i for i in range(start, min(start + PROBES, network.last + 1)) if i != network.server_index]


async def next_free(model: Any, server_id: int, column: str, network: Network, hint: int) -> int:
    """The next free index at or after ``hint``; wraps once to reuse freed addresses."""
    return (await next_free_many(model, server_id, {column: (network, hint)}))[column]


async def next_free_many(model: Any, server_id: int, wanted: dict[str, tuple[Network, int]]) -> dict[str, int]:
    """``next_free`` for several index columns (a client's IPv4 and IPv6). The probes are read
    by the paging fast path: inline on SQLite, where the per-server lock keeps this process the
    only allocator (one statement per column: an OR of two IN lists would scan the server's
    clients instead of using the (server, index) unique indexes)."""
    from ipv6wgm.paging import Eq, In, fetch_rows

    found: dict[str, int] = {}
    for column, (network, hint) in wanted.items():
        probe = candidates(network, hint)
        taken = {row[0] for row in await fetch_rows(
            model, (column,), where=[Eq("server_id", server_id), In(column, tuple(probe))], limit=len(probe))}
        free = next((i for i in probe if i not in taken), None)
        if free is None:
            free = await _first_gap(model, server_id, column, network)
        if free is None:
            raise conflict(f"the server's IPv{network.version} network {network.net} has no free address left",
                           field=f"ipv{network.version}_address")
        found[column] = free
    return found


async def _first_gap(model: Any, server_id: int, column: str, network: Network) -> int | None:
    """Walk taken indexes in order, in pages, to the first hole; only on wrap-around."""
    expected, page = network.first, 1000
    offset = 0
    while expected <= network.last:
        chunk = await (model.filter(server_id=server_id, **{f"{column}__isnull": False})
                       .order_by(column).offset(offset).limit(page).values_list(column, flat=True))
        for taken in chunk:
            while expected == network.server_index:
                expected += 1
            if taken > expected:
                return expected if expected <= network.last else None
            expected = max(expected, taken + 1)
        if len(chunk) < page:
            break
        offset += page
    while expected == network.server_index:
        expected += 1
    return expected if expected <= network.last else None
