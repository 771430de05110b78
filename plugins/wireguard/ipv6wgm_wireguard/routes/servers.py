"""/wireguard/servers: CRUD, start/stop, live peers, export and import."""

from __future__ import annotations

import logging

from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring, validate_request
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ipv6wgm.api import ApiError, Envelope, MessageEnvelope, conflict, invalid, iso, ok, paginate
from ipv6wgm.openapi import file_response
from ipv6wgm.security.rbac import current_principal, require
from ipv6wgm.validation import render_safe
from ipv6wgm_wireguard import keys, peerconfig, placement, service, validation
from ipv6wgm_wireguard.jobs import handshake_time
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.routes.common import audit_secret, call_node, client_counts, get_server, refuse_unsafe
from ipv6wgm_wireguard.schemas import (
    ImportResult,
    PeersOut,
    ServerCreate,
    ServerCreated,
    ServerImport,
    ServerList,
    ServerOut,
    ServerQuery,
    ServerState,
    ServerUpdate,
)
from ipv6wgm_wireguard.settings import wg_settings

log = logging.getLogger(__name__)
bp = Blueprint("wireguard_servers", __name__)
bp.register_error_handler(*refuse_unsafe)
SECRETS = "wireguard.servers.secrets"


async def check_node_unique(node: str, *, interface: str | None = None, port: int | None = None,
                             exclude: int | None = None) -> None:
    qs = WireGuardServer.filter(node_id=node)
    if exclude is not None:
        qs = qs.exclude(id=exclude)
    if interface is not None and await qs.filter(interface=interface).exists():
        raise conflict(f"interface {interface!r} already exists on node {node!r}", field="interface")
    if port is not None and await qs.filter(listen_port=port).exists():
        raise conflict(f"port {port} is already used on node {node!r}", field="listen_port")


async def _out(server: WireGuardServer) -> dict:
    return service.serialize_server(server, (await client_counts([server.id])).get(server.id, 0))


async def _insert(data: ServerCreate | ServerImport, private_key: str, **fields: object) -> WireGuardServer:
    node = await placement.node_for_new_server(data.node_id)
    interface = data.interface or data.name
    if len(interface) > 15:
        raise invalid("interface", "the default interface name (the server name) is longer than 15 characters")
    await check_node_unique(node, interface=interface, port=int(fields.get("listen_port", 51820)))
    if await WireGuardServer.filter(name=data.name).exists():
        raise conflict(f"a server named {data.name!r} already exists", field="name")
    public_key = keys.public_key_from_private(private_key)
    try:
        return await WireGuardServer.create(
            name=data.name, interface=interface, node_id=node, endpoint=data.endpoint, public_key=public_key,
            private_key_enc=service.seal(private_key, public_key, "server-private"), **fields)
    except IntegrityError:
        raise conflict("name, interface or port taken concurrently") from None


@bp.get("/servers")
@require("wireguard.servers.read")
@validate_querystring(ServerQuery)
@document_response(Envelope[ServerList])
async def list_servers(query_args: ServerQuery):
    """WireGuard servers (no private keys)."""
    qs = WireGuardServer.all().order_by("id")
    if query_args.status:
        qs = qs.filter(status=query_args.status)
    rows, page = await paginate(qs, query_args)
    counts = await client_counts([s.id for s in rows])
    return ok({"servers": [service.serialize_server(s, counts.get(s.id, 0)) for s in rows], "pagination": page})


@bp.post("/servers")
@require("wireguard.servers.write")
@validate_request(ServerCreate)
@document_response(Envelope[ServerCreated], 201)
async def create_server(data: ServerCreate):
    """Create a server (keys generated here); ``is_active`` starts it at once."""
    if not data.ipv4_address and not data.ipv6_address:
        raise invalid("ipv4_address", "give the server an IPv4 or IPv6 tunnel address (or both)")
    private_key = keys.generate_private_key()
    server = await _insert(data, private_key, listen_port=data.listen_port, ipv4_address=data.ipv4_address,
                           ipv6_address=data.ipv6_address, dns_servers=data.dns_servers, mtu=data.mtu,
                           persistent_keepalive=data.persistent_keepalive, is_active=data.is_active)
    message = "server created"
    try:
        if data.is_active:
            await call_node("apply_server", server.id, node=server.node_id)
        else:
            await _detect_endpoint(server)
    except ApiError as exc:
        # The row is the desired state and stays: the answer says what failed, the server shows
        # status "error" with the step, and the reconcile cron retries.
        log.warning("server %s created, but %s", server.name, exc.message)
        message = f"server created, but its node could not apply it yet: {exc.message}"
    await server.refresh_from_db()
    return ok({**await _out(server), "private_key": private_key}, message, 201)


async def _detect_endpoint(server: WireGuardServer) -> None:
    """A stopped server without any endpoint learns its node's address now, so that clients
    can get configs before it is started (a running one learns it at every apply)."""
    if not server.endpoint and not wg_settings().endpoint:
        await call_node("detect_endpoint", server.id, node=server.node_id)


@bp.get("/servers/<int:server_id>")
@require("wireguard.servers.read")
@document_response(Envelope[ServerOut])
async def get_server_route(server_id: int):
    """One server."""
    return ok(await _out(await get_server(server_id)))


@bp.put("/servers/<int:server_id>")
@require("wireguard.servers.write")
@validate_request(ServerUpdate)
@document_response(Envelope[ServerOut])
async def update_server(server_id: int, data: ServerUpdate):
    """Change a server; a running one is re-applied (peers keep their sessions)."""
    server = await get_server(server_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("listen_port") not in (None, server.listen_port):
        await check_node_unique(server.node_id, port=changes["listen_port"], exclude=server.id)
    if changes.get("name") not in (None, server.name) and await WireGuardServer.filter(name=changes["name"]).exists():
        raise conflict(f"a server named {changes['name']!r} already exists", field="name")
    for key, value in changes.items():
        if key in ("name", "listen_port") and value is None:
            continue
        setattr(server, key, value if key != "dns_servers" or value is not None else [])
    await server.save()
    if server.is_active:
        await call_node("apply_server", server.id, node=server.node_id)
    elif "endpoint" in changes:
        try:
            await _detect_endpoint(server)
        except ApiError as exc:  # the next start detects it
            log.warning("could not detect the endpoint of %s: %s", server.name, exc.message)
    await server.refresh_from_db()
    return ok(await _out(server), "server updated")


@bp.delete("/servers/<int:server_id>")
@require("wireguard.servers.write")
@document_response(MessageEnvelope)
async def delete_server(server_id: int):
    """Delete a stopped or running server without clients (its interface is removed)."""
    server = await get_server(server_id)
    if await WireGuardClient.filter(server_id=server.id).exists():
        raise conflict("the server still has clients; delete them first")
    if server.is_active or server.status != "stopped":
        server.is_active = False
        await server.save(update_fields=["is_active"])
        await call_node("apply_server", server.id, node=server.node_id)
    await server.delete()
    return ok(None, "server deleted")


async def _set_running(server_id: int, running: bool) -> dict:
    server = await get_server(server_id)
    server.is_active = running
    await server.save(update_fields=["is_active", "updated_at"])
    try:
        await call_node("apply_server", server.id, node=server.node_id)
    except Exception:
        if running:  # leave nothing half-up: desired back to stopped, interface removed
            await WireGuardServer.filter(id=server.id).update(is_active=False)
            try:
                await call_node("apply_server", server.id, node=server.node_id)
            except Exception:  # noqa: BLE001,S110 - the original error is the one to report
                pass
        raise
    await server.refresh_from_db()
    return {"id": server.id, "status": server.status, "status_detail": server.status_detail,
            "started_at": iso(server.started_at), "stopped_at": iso(server.stopped_at)}


@bp.post("/servers/<int:server_id>/start")
@require("wireguard.servers.write")
@document_response(Envelope[ServerState])
async def start_server(server_id: int):
    """Create and bring up the interface with every enabled client as a peer."""
    return ok(await _set_running(server_id, True), "server started")


@bp.post("/servers/<int:server_id>/stop")
@require("wireguard.servers.write")
@document_response(Envelope[ServerState])
async def stop_server(server_id: int):
    """Remove the interface (the desired state stays in the database)."""
    return ok(await _set_running(server_id, False), "server stopped")


@bp.get("/servers/<int:server_id>/peers")
@require("wireguard.servers.read")
@document_response(Envelope[PeersOut])
async def server_peers(server_id: int):
    """Live peers from one dump of the interface (handshakes, counters, endpoints)."""
    server = await get_server(server_id)
    live = await call_node("live_peers", server.id, node=server.node_id)
    clients = {key: (cid, name) for key, cid, name in
               await WireGuardClient.filter(server_id=server.id).values_list("public_key", "id", "name")}
    peers = [{
        "public_key": p["public_key"], "client_id": clients.get(p["public_key"], (None, None))[0],
        "client_name": clients.get(p["public_key"], (None, None))[1], "endpoint": p["endpoint"],
        "allowed_ips": p["allowed_ips"], "last_handshake": iso(handshake_time(p["last_handshake"])),
        "bytes_received": p["rx_bytes"],
        "bytes_sent": p["tx_bytes"], "persistent_keepalive": p["persistent_keepalive"],
    } for p in live["peers"]]
    return ok({"server_id": server.id, "interface": server.interface, "listen_port": live.get("listen_port"),
               "public_key": live.get("public_key"), "peers": peers})


@bp.get("/servers/<int:server_id>/export")
@require("wireguard.servers.write")
@file_response("text/plain")
async def export_server(server_id: int):
    """The server as a wg-quick file. Its private key and the preshared keys are included only
    for holders of ``wireguard.servers.secrets`` (admins by default), and that download is
    audited; anyone else gets them as commented placeholders."""
    server = await get_server(server_id)
    with_secrets = current_principal().can(SECRETS)
    clients = await WireGuardClient.filter(server_id=server.id).order_by("id")
    peers = [peerconfig.ExportPeer(
        c.name, c.public_key,
        service.unseal(c.preshared_key_enc, c.public_key, "client-psk") if with_secrets else None,
        service.client_routes(c), has_preshared_key=c.preshared_key_enc is not None) for c in clients]
    text = peerconfig.render_server(service.server_private_key(server) if with_secrets else None,
                                    server.listen_port, [a for a in (server.ipv4_address, server.ipv6_address) if a],
                                    server.mtu, peers, with_secrets=with_secrets)
    filename = render_safe(f"{server.interface}.conf", what="file name")
    if with_secrets:
        await audit_secret(f"WireGuard server {server.name} exported with its private and preshared keys",
                           action="wireguard_server_export_secrets",
                           details={"server_id": server.id, "peers": len(peers)})
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/servers/import")
@require("wireguard.servers.write")
@validate_request(ServerImport)
@document_response(Envelope[ImportResult], 201)
async def import_server(data: ServerImport):
    """Adopt an existing wg-quick server file and its peers (kept stopped until started)."""
    from ipv6wgm_wireguard.importing import adopt

    try:
        parsed = peerconfig.parse_server(data.config)
    except ValueError as exc:
        raise invalid("config", str(exc)) from None
    fields = adopt_fields(parsed)
    async with in_transaction():
        server = await _insert(data, parsed.private_key, **fields)
        count, skipped = await adopt(server, parsed)
    return ok({"server": await _out(server), "clients_imported": count, "details": {"skipped": skipped}},
              "server imported", 201)


def adopt_fields(parsed: peerconfig.ParsedServer) -> dict:
    """The server columns of an imported file, under the same rules as ``POST /servers``."""
    fields: dict = {"listen_port": parsed.listen_port, "dns_servers": parsed.dns, "mtu": parsed.mtu,
                    "is_active": False}
    for version in (4, 6):
        address = next((a for a in parsed.addresses if (":" in a) == (version == 6)), None)
        try:
            fields[f"ipv{version}_address"] = None if address is None else validation.server_address(address, version)
        except ValueError as exc:
            raise invalid("config", f"Address {address}: {exc}") from None
    if not fields["ipv4_address"] and not fields["ipv6_address"]:
        raise invalid("config", "[Interface] has no Address: the server needs an IPv4 or IPv6 tunnel address")
    return fields
