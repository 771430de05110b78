"""Desired state as data-plane specs, client status, and API serialisation.

Keys are decrypted only here, only when a spec or a config is built; the associated data binds
each ciphertext to its key's public half, so a ciphertext pasted into another row won't open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ipv6wgm.api import conflict, iso, utcnow
from ipv6wgm.paging import Column, Eq, Expr, In, fetch_rows
from ipv6wgm.runtime import current
from ipv6wgm.validation import UnsafeValue
from ipv6wgm_wireguard import validation
from ipv6wgm_wireguard.dataplane import InterfaceSpec, PeerSpec
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.settings import wg_settings


def seal(value: str, public_key: str, purpose: str) -> str:
    return current().secrets.encrypt(value, aad=f"wireguard:{public_key}:{purpose}")


def unseal(token: str | None, public_key: str, purpose: str) -> str | None:
    return None if token is None else current().secrets.decrypt(token, aad=f"wireguard:{public_key}:{purpose}")


def server_private_key(server: WireGuardServer) -> str:
    key = unseal(server.private_key_enc, server.public_key, "server-private")
    assert key is not None
    return key


def interface_spec(server: WireGuardServer) -> InterfaceSpec:
    return InterfaceSpec(
        name=server.interface,
        private_key=server_private_key(server),
        listen_port=server.listen_port,
        addresses=[a for a in (server.ipv4_address, server.ipv6_address) if a],
        mtu=server.mtu,
    )


def client_routes(client: Any) -> list[str]:
    """What the server routes to this peer: its host addresses and any delegated prefix."""
    routes = []
    if client.ipv4_address:
        routes.append(f"{client.ipv4_address}/32")
    if client.ipv6_address:
        routes.append(f"{client.ipv6_address}/128")
    if client.delegated_prefix:
        routes.append(client.delegated_prefix)
    return routes


class PeerSpecCache:
    """Peer specs cached by everything a spec depends on: a reconcile over thousands of
    unchanged peers then neither decrypts nor re-validates them. One per process, kept in the
    plugin's state (``state.WireGuardState.peer_specs``)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._specs: dict[tuple[Any, ...], PeerSpec] = {}

    def get(self, client: Any) -> PeerSpec:
        key = (client.public_key, client.ipv4_address, client.ipv6_address, client.delegated_prefix,
               client.preshared_key_enc)
        spec = self._specs.get(key)
        if spec is None:
            if len(self._specs) > self.LIMIT:
                self._specs.clear()
            spec = self._specs[key] = PeerSpec(
                public_key=client.public_key,
                allowed_ips=client_routes(client),
                preshared_key=unseal(client.preshared_key_enc, client.public_key, "client-psk"),
            )
        return spec

    def clear(self) -> None:
        self._specs.clear()


# Why a client is off the data plane (``disabled_reason`` in the API). The first three are
# values of the ``disabled_by`` column: who switched ``enabled`` off.
OPERATOR, OWNER, OWNER_DELETED = "operator", "owner", "owner_deleted"
ACCOUNT_DISABLED, QUOTA_EXCEEDED, EXPIRED = "account_disabled", "quota_exceeded", "expired"


def off_reason(client: Any, now: datetime | None = None, owner_active: bool = True) -> str | None:
    """Why a client must not be on the data plane, or None if it must.

    ``owner_active`` is the owner's ``is_active`` (True for a client without owner): access
    ends with the account, and because this is part of the desired state, the reconcile cron
    enforces it even when the job queued on deactivation was lost.
    """
    if not owner_active:
        return ACCOUNT_DISABLED
    if not client.enabled:
        return client.disabled_by or OPERATOR  # rows from before disabled_by: not the owner's to lift
    if client.quota_bytes is not None and client.bytes_received + client.bytes_sent >= client.quota_bytes:
        return QUOTA_EXCEEDED
    if client.expires_at is not None and client.expires_at <= (now or utcnow()):
        return EXPIRED
    return None


def client_status(client: Any, now: datetime | None = None, owner_active: bool = True) -> str:
    reason = off_reason(client, now, owner_active)
    if reason in (OPERATOR, OWNER, OWNER_DELETED):
        return "disabled"
    if reason:
        return reason
    now = now or utcnow()
    if client.last_handshake and (now - client.last_handshake).total_seconds() < wg_settings().active_handshake_s:
        return "active"
    return "inactive"


async def inactive_owners(owner_ids: Iterable[int | None]) -> set[int]:
    """The deactivated accounts among ``owner_ids``, in one query."""
    from ipv6wgm.users.models import User

    ids = {i for i in owner_ids if i is not None}
    if not ids:
        return set()
    rows = await fetch_rows(User, ("id",), where=[In("id", tuple(sorted(ids))), Eq("is_active", False)])
    return {row.id for row in rows}


async def owner_active(owner_id: int | None) -> bool:
    return owner_id is None or owner_id not in await inactive_owners([owner_id])


def serialize_server(server: WireGuardServer, clients_count: int) -> dict[str, Any]:
    return {
        "id": server.id, "name": server.name, "interface": server.interface, "node_id": server.node_id,
        "listen_port": server.listen_port, "ipv4_address": server.ipv4_address,
        "ipv6_address": server.ipv6_address, "public_key": server.public_key,
        "dns_servers": list(server.dns_servers or []), "mtu": server.mtu, "endpoint": server.endpoint,
        "endpoint_detected": server.endpoint_detected, "endpoint_detected_from": server.endpoint_detected_from,
        "persistent_keepalive": server.persistent_keepalive, "is_active": server.is_active,
        "status": server.status, "status_detail": server.status_detail, "clients_count": clients_count,
        "started_at": iso(server.started_at), "stopped_at": iso(server.stopped_at),
        "created_at": iso(server.created_at), "updated_at": iso(server.updated_at),
    }


def serialize_client(client: WireGuardClient, now: datetime | None = None, owner_is_active: bool = True
                     ) -> dict[str, Any]:
    return {
        "id": client.id, "name": client.name, "server_id": client.server_id, "owner_id": client.owner_id,
        "description": client.description,
        "ipv4_address": f"{client.ipv4_address}/32" if client.ipv4_address else None,
        "ipv6_address": f"{client.ipv6_address}/128" if client.ipv6_address else None,
        "public_key": client.public_key, "has_private_key": _has_key(client, "private_key"),
        "has_preshared_key": _has_key(client, "preshared_key"),
        "dns_servers": client.dns_servers, "allowed_ips": list(client.allowed_ips or []),
        "persistent_keepalive": client.persistent_keepalive, "enabled": client.enabled,
        "status": client_status(client, now, owner_is_active),
        "disabled_reason": off_reason(client, now, owner_is_active),
        "quota_bytes": client.quota_bytes,
        "expires_at": iso(client.expires_at), "ipv6_pool_id": client.ipv6_pool_id,
        "delegated_prefix": client.delegated_prefix, "last_handshake": iso(client.last_handshake),
        "bytes_received": client.bytes_received, "bytes_sent": client.bytes_sent,
        "endpoint": client.endpoint_observed, "created_at": iso(client.created_at),
        "updated_at": iso(client.updated_at),
    }


def _has_key(client: Any, name: str) -> bool:
    """A list row carries the flag (``has_private_key``); an ORM object the ciphertext."""
    flag = getattr(client, f"has_{name}", None)
    return bool(flag) if flag is not None else getattr(client, f"{name}_enc") is not None


# The owner's is_active (NULL without an owner), selected with a client row instead of a second query.
OWNER_ACTIVE = Expr("owner_active",
                    "SELECT {u}.{is_active} FROM {core_users} {u} WHERE {u}.{id} = {wireguard_clients}.{owner_id}",
                    boolean=True)

# What serialize_client reads: a list page selects these (never whole rows, never ciphertexts),
# with the owner's activation in the same statement.
CLIENT_COLUMNS: tuple[Column, ...] = (
    "id", "name", "server_id", "owner_id", "description", "ipv4_address", "ipv6_address", "public_key",
    Expr("has_private_key", "{private_key_enc} IS NOT NULL", boolean=True),
    Expr("has_preshared_key", "{preshared_key_enc} IS NOT NULL", boolean=True),
    "dns_servers", "allowed_ips", "persistent_keepalive", "enabled",
    "disabled_by", "quota_bytes", "expires_at", "ipv6_pool_id", "delegated_prefix", "last_handshake",
    "bytes_received", "bytes_sent", "endpoint_observed", "created_at", "updated_at",
    OWNER_ACTIVE,
)


def render_client_row(row: Any, now: datetime) -> tuple[dict[str, Any], datetime | None]:
    """A ``CLIENT_COLUMNS`` row in its API form, for ``ipv6wgm.paging.render_page``, and until
    when that holds: ``status`` turns from active to inactive when the last handshake gets too
    old, and to expired at ``expires_at``; nothing else in it depends on the time."""
    active_s = wg_settings().active_handshake_s
    data = serialize_client(row, now, row.owner_active is not False)
    moments = [t for t in (row.last_handshake and row.last_handshake + timedelta(seconds=active_s),
                           row.expires_at) if t is not None and t > now]
    return data, min(moments, default=None)


def render_context() -> Any:
    """What ``render_client_row`` reads besides the row (a memo key part)."""
    return wg_settings().active_handshake_s


async def serialize_clients(clients: list[Any]) -> list[dict[str, Any]]:
    """API form of a page of clients; the owners' activation comes with list rows, or is read
    in one query for ORM objects."""
    now = utcnow()
    if clients and hasattr(clients[0], "owner_active"):
        return [serialize_client(c, now, c.owner_active is not False) for c in clients]
    inactive = await inactive_owners(c.owner_id for c in clients)
    return [serialize_client(c, now, c.owner_id not in inactive) for c in clients]


async def serialize_one(client: WireGuardClient) -> dict[str, Any]:
    return (await serialize_clients([client]))[0]


def endpoint_choice(server: WireGuardServer) -> tuple[str, str] | None:
    """(endpoint, where it came from), in this order: the server's ``endpoint``,
    ``IPV6WGM_WIREGUARD_ENDPOINT``, the node's primary address (found by the node)."""
    if server.endpoint:
        return server.endpoint, "the server's endpoint"
    if wg_settings().endpoint:
        return str(wg_settings().endpoint), "IPV6WGM_WIREGUARD_ENDPOINT"
    if server.endpoint_detected:
        return server.endpoint_detected, server.endpoint_detected_from or "the node's primary address"
    return None


def public_endpoint_and_source(server: WireGuardServer) -> tuple[str, str]:
    """``host:port`` that client configs point at (the listen port when none is given)."""
    choice = endpoint_choice(server)
    if choice is None:
        raise conflict("the server has no public endpoint and its node has no address to offer (no default "
                       "route): set 'endpoint' on the server or IPV6WGM_WIREGUARD_ENDPOINT", field="endpoint")
    endpoint, source = choice
    try:
        host, port = validation.split_endpoint(endpoint, require_port=False)
    except ValueError as exc:  # stored before today's rules: refused like any unsafe value
        raise UnsafeValue(f"the server's endpoint: {exc}") from None
    return validation.join_endpoint(host, port or server.listen_port), source


def public_endpoint(server: WireGuardServer) -> str:
    return public_endpoint_and_source(server)[0]


def client_config(client: WireGuardClient, server: WireGuardServer) -> str:
    from ipv6wgm_wireguard.peerconfig import ClientConfig, render_client

    endpoint, endpoint_source = public_endpoint_and_source(server)
    keepalive = client.persistent_keepalive
    if keepalive is None:
        keepalive = server.persistent_keepalive if server.persistent_keepalive is not None \
            else wg_settings().persistent_keepalive
    return render_client(ClientConfig(
        private_key=unseal(client.private_key_enc, client.public_key, "client-private"),
        addresses=[cidr for cidr in client_routes(client) if cidr != client.delegated_prefix],
        dns=list(client.dns_servers if client.dns_servers is not None else server.dns_servers or []),
        mtu=server.mtu,
        server_public_key=server.public_key,
        preshared_key=unseal(client.preshared_key_enc, client.public_key, "client-psk"),
        endpoint=endpoint,
        allowed_ips=list(client.allowed_ips or []),
        persistent_keepalive=keepalive or None,
        delegated_prefix=client.delegated_prefix,
        endpoint_source=endpoint_source,
    ))
