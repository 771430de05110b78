"""/wireguard/clients: CRUD, enable/disable, config download and QR code.

Per-object authorization: a ``user`` sees and changes only the clients it owns (others answer
404); holders of ``wireguard.all`` (managers, admins) see every client. Per-field
authorization: ``wireguard.clients.self`` covers what an owner may decide (name, description,
DNS, allowed IPs, keepalive, switching its own client off and back on); the limits an operator
sets (quota, expiry, owner, IPv6 pool and prefix) and lifting an operator's disable need
``wireguard.clients.write``. A forbidden field answers 403 naming it and changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring, validate_request

from ipv6wgm.api import (
    INSUFFICIENT_PERMISSIONS,
    ApiError,
    Envelope,
    MessageEnvelope,
    conflict,
    invalid,
    iso,
    not_found,
    ok,
)
from ipv6wgm.openapi import file_response
from ipv6wgm.paging import Condition, Eq, Search, render_page
from ipv6wgm.security.rbac import Principal, current_principal, get_owned, owned_conditions, require
from ipv6wgm.users.models import User
from ipv6wgm.validation import render_safe
from ipv6wgm_wireguard import peerconfig, service
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.provisioning import create_client, delegate_prefix, release_prefix
from ipv6wgm_wireguard.qrcodes import QrTooLarge
from ipv6wgm_wireguard.routes.common import audit_secret, enqueue_node, refuse_unsafe
from ipv6wgm_wireguard.schemas import ClientCreate, ClientCreated, ClientList, ClientOut, ClientQuery, ClientUpdate

bp = Blueprint("wireguard_clients", __name__)
bp.register_error_handler(*refuse_unsafe)
ALL, SELF, WRITE = "wireguard.all", "wireguard.clients.self", "wireguard.clients.write"
OPERATOR_FIELDS = ("quota_bytes", "expires_at", "ipv6_pool_id", "ipv6_prefix_length")


def operator_only(field: str, why: str = "") -> ApiError:
    return ApiError(403, INSUFFICIENT_PERMISSIONS, why or f"{field!r} is set by operators ({WRITE})",
                    {"field": field, "permission": WRITE})


def _comparable(value: Any) -> Any:
    """Sending a limit back unchanged (a form that PUTs the whole client) is not changing it."""
    return iso(value) if isinstance(value, datetime) else value


async def _owned(client_id: int) -> WireGuardClient:
    return await get_owned(WireGuardClient.all(), client_id, current_principal(), ALL, "client")


def _check_enable(principal: Principal, client: WireGuardClient, enabled: bool) -> None:
    """An owner switches back on only what it switched off itself."""
    if enabled and not client.enabled and not principal.can(WRITE) and client.disabled_by != service.OWNER:
        raise operator_only("enabled", f"the client was disabled by an operator; lifting that needs {WRITE}")


def _set_enabled_fields(principal: Principal, client: WireGuardClient, enabled: bool) -> None:
    if enabled:
        client.enabled, client.disabled_by = True, None
    elif client.enabled or principal.can(WRITE):  # an owner never downgrades an operator's disable
        client.enabled = False
        client.disabled_by = service.OPERATOR if principal.can(WRITE) else service.OWNER


@bp.get("/clients")
@require("wireguard.clients.read")
@validate_querystring(ClientQuery)
@document_response(Envelope[ClientList])
async def list_clients(query_args: ClientQuery):
    """Clients (the caller's own unless it may see all); never private keys."""
    where: list[Condition] = owned_conditions(current_principal(), ALL)
    if query_args.server_id:
        where.append(Eq("server_id", query_args.server_id))
    if query_args.search:
        where.append(Search(("name", "description"), query_args.search))
    rows, page = await render_page(WireGuardClient, service.CLIENT_COLUMNS, query_args, service.render_client_row,
                                   where=where, context=service.render_context())
    return ok({"clients": rows, "pagination": page})


@bp.post("/clients")
@require(SELF)
@validate_request(ClientCreate)
@document_response(Envelope[ClientCreated], 201)
async def create_client_route(data: ClientCreate):
    """Create a client: keys (unless ``public_key`` is given), next free addresses, config, QR.

    Limits (``quota_bytes``, ``expires_at``), ``owner_id`` of someone else and ``ipv6_pool_id``
    need ``wireguard.clients.write``.
    """
    principal = current_principal()
    operator = principal.can(WRITE)
    owner_id = principal.id
    for field in OPERATOR_FIELDS:
        if getattr(data, field) is not None and not operator:
            raise operator_only(field)
    if data.owner_id is not None and data.owner_id != principal.id:
        if not operator or not principal.can(ALL):
            raise operator_only("owner_id", "only operators create clients for other users")
        if not await User.filter(id=data.owner_id).exists():
            raise not_found("owner")
        owner_id = data.owner_id
    # no endpoint, no usable config: refused before anything is created (checked on the server row
    # that the allocation reads anyway)
    client, private_key, server = await create_client(
        data, owner_id, disabled_by=None if data.enabled else (service.OPERATOR if operator else service.OWNER),
        check=service.public_endpoint)
    try:
        config = service.client_config(client, server)
        qr_code = _qr_or_none(config)
    except Exception:
        await release_prefix(client)
        await client.delete()
        raise
    await enqueue_node("apply_peer", client.id, node=server.node_id)
    return ok({**await service.serialize_one(client), "private_key": private_key, "config": config,
               "qr_code": qr_code}, "client created", 201)


@bp.get("/clients/<int:client_id>")
@require("wireguard.clients.read")
@document_response(Envelope[ClientOut])
async def get_client(client_id: int):
    """One client; ``status`` and ``disabled_reason`` say why it is off the data plane."""
    return ok(await service.serialize_one(await _owned(client_id)))


@bp.put("/clients/<int:client_id>")
@require(SELF)
@validate_request(ClientUpdate)
@document_response(Envelope[ClientOut])
async def update_client(client_id: int, data: ClientUpdate):
    """Change a client; only its peer is touched on the data plane.

    ``quota_bytes``, ``expires_at``, ``ipv6_pool_id`` and ``ipv6_prefix_length`` need
    ``wireguard.clients.write``, and so does ``enabled: true`` on a client an operator disabled.
    """
    principal = current_principal()
    client = await _owned(client_id)
    changes = data.model_dump(exclude_unset=True)
    if not principal.can(WRITE):
        for field in OPERATOR_FIELDS:
            if field in changes and _comparable(changes[field]) != _comparable(getattr(client, field, None)):
                raise operator_only(field)
    enabled = changes.pop("enabled", None)
    if enabled is not None:
        _check_enable(principal, client, enabled)
    if changes.get("name") not in (None, client.name) and \
            await WireGuardClient.filter(server_id=client.server_id, name=changes["name"]).exists():
        raise conflict(f"a client named {changes['name']!r} already exists on this server", field="name")
    pool = changes.pop("ipv6_pool_id", client.ipv6_pool_id)
    length = changes.pop("ipv6_prefix_length", None)
    for key, value in changes.items():
        if key in ("name", "allowed_ips") and value is None:
            continue
        setattr(client, key, value)
    if enabled is not None:
        _set_enabled_fields(principal, client, enabled)
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
    return ok(await service.serialize_one(client), "client updated")


async def _apply(client: WireGuardClient) -> None:
    server = await WireGuardServer.get(id=client.server_id)
    await enqueue_node("apply_peer", client.id, node=server.node_id)


@bp.delete("/clients/<int:client_id>")
@require(SELF)
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


async def _switch(client_id: int, enabled: bool) -> dict[str, Any]:
    principal = current_principal()
    client = await _owned(client_id)
    _check_enable(principal, client, enabled)
    _set_enabled_fields(principal, client, enabled)
    await client.save(update_fields=["enabled", "disabled_by", "updated_at"])
    await _apply(client)
    return await service.serialize_one(client)


@bp.post("/clients/<int:client_id>/enable")
@require(SELF)
@document_response(Envelope[ClientOut])
async def enable_client(client_id: int):
    """Put the client's peer back on the interface (an operator's disable needs
    ``wireguard.clients.write`` to lift)."""
    return ok(await _switch(client_id, True), "client enabled")


@bp.post("/clients/<int:client_id>/disable")
@require(SELF)
@document_response(Envelope[ClientOut])
async def disable_client(client_id: int):
    """Take the client's peer off the interface (other peers untouched); ``disabled_reason``
    records whether the owner or an operator did it."""
    return ok(await _switch(client_id, False), "client disabled")


async def _config(client_id: int, what: str) -> tuple[WireGuardClient, str]:
    client = await _owned(client_id)
    server = await WireGuardServer.get(id=client.server_id)
    text = service.client_config(client, server)
    if client.private_key_enc is not None:
        await audit_secret(f"WireGuard client {client.name} {what} downloaded (holds its private key)",
                           action=f"wireguard_client_{what}", details={"client_id": client.id,
                                                                       "server_id": server.id})
    return client, text


def _qr_or_none(config: str) -> str | None:
    """A config with very many allowed IPs may not fit any QR code: the client is still valid,
    its file is the way to hand it over."""
    try:
        return peerconfig.qr_data_url(config)
    except QrTooLarge:
        return None


def _filename(client: WireGuardClient, ext: str) -> str:
    return render_safe(re.sub(r"[^A-Za-z0-9_.-]", "_", client.name)[:64] + ext, what="file name")


@bp.get("/clients/<int:client_id>/config")
@require("wireguard.clients.read")
@file_response("text/plain")
async def client_config(client_id: int):
    """The client's wg-quick file (with its private key when the server generated it; that
    download is audited)."""
    client, text = await _config(client_id, "config")
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(client, ".conf")}"'})


@bp.get("/clients/<int:client_id>/qr")
@require("wireguard.clients.read")
@file_response("image/png")
async def client_qr(client_id: int):
    """The client's config as a QR code (PNG, comment lines left out), for phone apps (audited
    like the config). 422 when the config is too large for any QR code."""
    client, text = await _config(client_id, "qr")
    try:
        png = peerconfig.qr_png(text)
    except QrTooLarge as exc:
        raise invalid("config", f"{exc}; download the file instead") from None
    return Response(png, mimetype="image/png",
                    headers={"Content-Disposition": f'inline; filename="{_filename(client, ".png")}"'})
