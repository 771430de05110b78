"""Creating a client: keys, addresses and (optionally) a delegated IPv6 prefix, race-free.

On MariaDB the server row is locked ``FOR UPDATE`` for the allocation and the insert, with the
unique ``(server, index)`` constraints as the backstop and a retry on a violation or deadlock;
on SQLite, whose ``select_for_update`` is a no-op, a per-server asyncio lock (in the plugin's
process state) serialises allocations inside the (single) process.

On SQLite that lock is all a transaction would add, so there is none: the server row and the
probes are read inline (the paging fast path), then two writes follow, each its own commit and
its own hand-off to the database thread (a transaction would add BEGIN and COMMIT to those
two). The server's address hints are written first: they are advisory (allocation probes from
them for free indexes), so an insert that then fails leaves only a skipped index, never a client
without its hint moved past it. Another process inserting meanwhile meets the unique indexes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from ipv6wgm.api import ApiError, conflict, invalid
from ipv6wgm.paging import Eq, fetch_rows
from ipv6wgm.runtime import current
from ipv6wgm_wireguard import keys, service
from ipv6wgm_wireguard.addressing import Network, next_free_many
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.schemas import ClientCreate
from ipv6wgm_wireguard.state import plugin_state

log = logging.getLogger(__name__)
ATTEMPTS = 8


async def _taken(server_id: int, column: str, value: str) -> bool:
    """A (server, column) unique index lookup by the paging fast path: inline on SQLite (this
    process is the only allocator there, under the per-server lock), a plain query on MariaDB;
    the unique constraint stays the backstop either way."""
    return bool(await fetch_rows(WireGuardClient, ("id",), where=[Eq("server_id", server_id), Eq(column, value)],
                                 limit=1))


# What the allocation, the endpoint check and the client's config read of the server (SQLite:
# one inline read of these columns instead of an ORM object through the database thread).
SERVER_COLUMNS = ("id", "node_id", "ipv4_address", "ipv6_address", "next_v4", "next_v6", "listen_port",
                  "public_key", "endpoint", "endpoint_detected", "endpoint_detected_from",
                  "persistent_keepalive", "dns_servers", "mtu")


def _sqlite() -> bool:
    return bool(connections.get(WireGuardServer._meta.default_connection or "default").capabilities.dialect
                == "sqlite")


async def _server(server_id: int, sqlite: bool) -> Any:
    """The server row for an allocation: locked ``FOR UPDATE`` on MariaDB (inside the
    transaction), read inline on SQLite (under the per-server lock)."""
    if not sqlite:
        return await WireGuardServer.filter(id=server_id).select_for_update().first()
    rows = await fetch_rows(WireGuardServer, SERVER_COLUMNS, where=[Eq("id", server_id)], limit=1)
    return rows[0] if rows else None


async def _allocate(server: Any, data: ClientCreate) -> tuple[dict[str, Any], dict[str, int]]:
    """The client's address columns and the server's new hints (``next_v4``/``next_v6``)."""
    values: dict[str, Any] = {}
    hints = {"next_v4": server.next_v4, "next_v6": server.next_v6}
    wanted: dict[str, tuple[Network, int]] = {}
    for version, requested, hint_field in ((4, data.ipv4_address, "next_v4"), (6, data.ipv6_address, "next_v6")):
        network = Network.of(server.ipv4_address if version == 4 else server.ipv6_address)
        field = f"ipv{version}_address"
        if network is None:
            if requested:
                raise invalid(field, f"the server has no IPv{version} network")
            continue
        column = f"ipv{version}_index"
        if requested:
            index = network.index_of(requested, field)
            if await WireGuardClient.filter(server_id=server.id, **{column: index}).exists():
                raise conflict(f"{requested} is already taken on this server", field=field)
            values[column] = index
            values[field] = network.address(index)
        else:
            wanted[column] = (network, getattr(server, hint_field))
    if wanted:
        for column, index in (await next_free_many(WireGuardClient, server.id, wanted)).items():
            network = wanted[column][0]
            hints[f"next_v{network.version}"] = index + 1
            values[column] = index
            values[f"ipv{network.version}_address"] = network.address(index)
    return values, hints


async def create_client(data: ClientCreate, owner_id: int | None, disabled_by: str | None = None,
                        check: Callable[[Any], object] | None = None,
                        ) -> tuple[WireGuardClient, str | None, Any]:
    """Returns the client, its private key (None when the caller brought its own key) and the
    server as read for the allocation (at least ``SERVER_COLUMNS``). ``check(server)`` runs
    first and may raise to refuse (e.g. a server without any endpoint): the server row is read
    once for both."""
    if data.public_key:
        private_key, public_key = None, data.public_key
    else:
        private_key = keys.generate_private_key()
        public_key = keys.public_key_from_private(private_key)
    psk = keys.generate_preshared_key() if data.preshared_key else None
    lock = plugin_state().create_lock(data.server_id)
    sqlite = _sqlite()
    for attempt in range(ATTEMPTS):
        try:
            async with lock, contextlib.nullcontext() if sqlite else in_transaction():
                server = await _server(data.server_id, sqlite)
                if server is None:
                    raise ApiError(404, "RESOURCE_NOT_FOUND", "server not found")
                if check is not None:
                    check(server)
                if await _taken(server.id, "name", data.name):
                    raise conflict(f"a client named {data.name!r} already exists on this server", field="name")
                if await _taken(server.id, "public_key", public_key):
                    raise conflict("this public key is already a peer of the server", field="public_key")
                addresses, hints = await _allocate(server, data)
                if hints != {"next_v4": server.next_v4, "next_v6": server.next_v6}:
                    await WireGuardServer.filter(id=server.id).update(**hints)
                client = await WireGuardClient.create(
                    server_id=server.id, owner_id=owner_id, name=data.name, description=data.description,
                    public_key=public_key,
                    private_key_enc=service.seal(private_key, public_key, "client-private") if private_key else None,
                    preshared_key_enc=service.seal(psk, public_key, "client-psk") if psk else None,
                    dns_servers=data.dns_servers, allowed_ips=data.allowed_ips,
                    persistent_keepalive=data.persistent_keepalive, enabled=data.enabled, disabled_by=disabled_by,
                    quota_bytes=data.quota_bytes, expires_at=data.expires_at, **addresses,
                )
            break
        except (IntegrityError, OperationalError) as exc:
            if attempt == ATTEMPTS - 1 or (isinstance(exc, OperationalError) and "1213" not in str(exc)
                                           and "Deadlock" not in str(exc)):
                if isinstance(exc, IntegrityError):
                    raise conflict("the address or key was taken concurrently; try again") from None
                raise
            await asyncio.sleep(0.01 * (attempt + 1))
    if data.ipv6_pool_id is not None:
        try:
            await delegate_prefix(client, data.ipv6_pool_id, data.ipv6_prefix_length)
        except ApiError:
            await client.delete()
            raise
    return client, private_key, server


def delegation_service() -> Any:
    return current().services.get("ipv6.delegation")


async def delegate_prefix(client: WireGuardClient, pool_id: int, prefix_length: int | None) -> None:
    """Ask the IPv6 plugin (through its documented service) for a routed prefix."""
    svc = delegation_service()
    if svc is None:
        raise invalid("ipv6_pool_id", "prefix delegation needs the IPv6 plugin, which is not installed")
    allocation_id, prefix = await svc.delegate(
        pool_id=pool_id, prefix_length=prefix_length, holder=f"wireguard.client:{client.id}",
        owner_id=client.owner_id, description=f"WireGuard client {client.name}")
    client.ipv6_pool_id, client.ipv6_allocation_id, client.delegated_prefix = pool_id, allocation_id, prefix
    await client.save(update_fields=["ipv6_pool_id", "ipv6_allocation_id", "delegated_prefix"])


async def release_prefix(client: WireGuardClient) -> None:
    svc = delegation_service()
    if client.ipv6_allocation_id is not None and svc is not None:
        await svc.release(client.ipv6_allocation_id)
    client.ipv6_pool_id = client.ipv6_allocation_id = client.delegated_prefix = None
