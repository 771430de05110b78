"""/wireguard/clients: CRUD, enable/disable, config download and QR code.

Per-object authorization: a ``user`` sees and changes only the clients it owns (others answer
404); holders of ``wireguard.all`` (managers, admins) see every client.
"""

from __future__ import annotations

import re

from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring, validate_request
from tortoise.expressions import Q

from ipv6wgm.api import Envelope, MessageEnvelope, forbidden, not_found, ok, paginate
from ipv6wgm.openapi import file_response
from ipv6wgm.security.rbac import current_principal, get_owned, require, scope_owned
from ipv6wgm.users.models import User
from ipv6wgm_wireguard import peerconfig, service
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.provisioning import create_client, delegate_prefix, release_prefix
from ipv6wgm_wireguard.routes.common import enqueue_node
from ipv6wgm_wireguard.schemas import ClientCreate, ClientCreated, ClientList, ClientOut, ClientQuery, ClientUpdate

bp = Blueprint("wireguard_clients", __name__)
ALL = "wireguard.all"


async def _owned(client_id: int) -> WireGuardClient:
    return await get_owned(WireGuardClient.all(), client_id, current_principal(), ALL, "client")


@bp.get("/clients")
@require("wireguard.clients.read")
@validate_querystring(ClientQuery)
@document_response(Envelope[ClientList])
async def list_clients(query_args: ClientQuery):
    """Clients (the caller's own unless it may see all); never private keys."""
    qs = scope_owned(WireGuardClient.all().order_by("id"), current_principal(), ALL)
    if query_args.server_id:
        qs = qs.filter(server_id=query_args.server_id)
    if query_args.search:
        qs = qs.filter(Q(name__icontains=query_args.search) | Q(description__icontains=query_args.search))
    rows, page = await paginate(qs, query_args)
    return ok({"clients": [service.serialize_client(c) for c in rows], "pagination": page})


@bp.post("/clients")
@require("wireguard.clients.write")
@validate_request(ClientCreate)
@document_response(Envelope[ClientCreated], 201)
async def create_client_route(data: ClientCreate):
    """Create a client: keys (unless ``public_key`` is given), next free addresses, config, QR."""
    principal = current_principal()
    owner_id = principal.id
    if data.owner_id is not None and data.owner_id != principal.id:
        if not principal.can(ALL):
            raise forbidden("only operators create clients for other users")
        if not await User.filter(id=data.owner_id).exists():
            raise not_found("owner")
        owner_id = data.owner_id
    client, private_key = await create_client(data, owner_id)
    server = await WireGuardServer.get(id=client.server_id)
    await enqueue_node("apply_peer", client.id, node=server.node_id)
    config = service.client_config(client, server)
    return ok({**service.serialize_client(client), "private_key": private_key, "config": config,
               "qr_code": peerconfig.qr_data_url(config)}, "client created", 201)


@bp.get("/clients/<int:client_id>")
@require("wireguard.clients.read")
@document_response(Envelope[ClientOut])
async def get_client(client_id: int):
    """One client."""
    return ok(service.serialize_client(await _owned(client_id)))


@bp.put("/clients/<int:client_id>")
@require("wireguard.clients.write")
@validate_request(ClientUpdate)
@document_response(Envelope[ClientOut])
async def update_client(client_id: int, data: ClientUpdate):
    """Change a client; only its peer is touched on the data plane."""
    client = await _owned(client_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is not None and changes["name"] != client.name and \
            await WireGuardClient.filter(server_id=client.server_id, name=changes["name"]).exists():
        from ipv6wgm.api import conflict

        raise conflict(f"a client named {changes['name']!r} already exists on this server", field="name")
    pool = changes.pop("ipv6_pool_id", client.ipv6_pool_id)
    length = changes.pop("ipv6_prefix_length", None)
    for key, value in changes.items():
        if key in ("name", "enabled", "allowed_ips") and value is None:
            continue
        setattr(client, key, value)
    await client.save()
    if pool != client.ipv6_pool_id or (pool is not None and client.ipv6_allocation_id is None):
        old_prefix = client.delegated_prefix
        await release_prefix(client)
        await client.save(update_fields=["ipv6_pool_id", "ipv6_allocation_id", "delegated_prefix"])
        if old_prefix:
            server = await WireGuardServer.get(id=client.server_id)
            await enqueue_node("remove_peer", server.id, client.public_key, [old_prefix], node=server.node_id)
        if pool is not None:
            await delegate_prefix(client, pool, length)
    await _apply(client)
    return ok(service.serialize_client(client), "client updated")


async def _apply(client: WireGuardClient) -> None:
    server = await WireGuardServer.get(id=client.server_id)
    await enqueue_node("apply_peer", client.id, node=server.node_id)


@bp.delete("/clients/<int:client_id>")
@require("wireguard.clients.write")
@document_response(MessageEnvelope)
async def delete_client(client_id: int):
    """Delete a client: its peer leaves the interface and its delegated prefix is released."""
    client = await _owned(client_id)
    server = await WireGuardServer.get(id=client.server_id)
    routes = [client.delegated_prefix] if client.delegated_prefix else []
    await release_prefix(client)
    await client.delete()
    await enqueue_node("remove_peer", server.id, client.public_key, routes, node=server.node_id)
    return ok(None, "client deleted")


async def _set_enabled(client_id: int, enabled: bool) -> dict:
    client = await _owned(client_id)
    client.enabled = enabled
    await client.save(update_fields=["enabled", "updated_at"])
    await _apply(client)
    return service.serialize_client(client)


@bp.post("/clients/<int:client_id>/enable")
@require("wireguard.clients.write")
@document_response(Envelope[ClientOut])
async def enable_client(client_id: int):
    """Put the client's peer back on the interface."""
    return ok(await _set_enabled(client_id, True), "client enabled")


@bp.post("/clients/<int:client_id>/disable")
@require("wireguard.clients.write")
@document_response(Envelope[ClientOut])
async def disable_client(client_id: int):
    """Take the client's peer off the interface (other peers untouched)."""
    return ok(await _set_enabled(client_id, False), "client disabled")


async def _config(client_id: int) -> tuple[WireGuardClient, str]:
    client = await _owned(client_id)
    server = await WireGuardServer.get(id=client.server_id)
    return client, service.client_config(client, server)


def _filename(client: WireGuardClient, ext: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", client.name)[:64] + ext


@bp.get("/clients/<int:client_id>/config")
@require("wireguard.clients.read")
@file_response("text/plain")
async def client_config(client_id: int):
    """The client's wg-quick file (with its private key when the server generated it)."""
    client, text = await _config(client_id)
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(client, ".conf")}"'})


@bp.get("/clients/<int:client_id>/qr")
@require("wireguard.clients.read")
@file_response("image/png")
async def client_qr(client_id: int):
    """The client's config as a QR code (PNG), for phone apps."""
    client, text = await _config(client_id)
    return Response(peerconfig.qr_png(text), mimetype="image/png",
                    headers={"Content-Disposition": f'inline; filename="{_filename(client, ".png")}"'})
