"""One-time share links for a WireGuard client's config (registered with ``requires="wireguard"``).

Creating one needs the right to read the client's config (checked through the API, so a ``user``
shares only its own clients). Opening one needs no account: ``/share/<token>`` shows the config
and its QR code once, then never again; an expired, used or unknown link answers the same 404.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from quart import Response, request

from ipv6wgm.api import utcnow
from ipv6wgm.logs.service import audit
from ipv6wgm.registry import UiRegistrar
from ipv6wgm.security.passwords import hash_password, verify_password
from ipv6wgm_webui.context import PageContext
from ipv6wgm_webui.models import ShareLink

MAX_HOURS = 24 * 30
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22}")
GONE = "This link does not exist, has expired or was already used."


def register(ui: UiRegistrar) -> None:
    ui.page("/wireguard/clients/<int:client_id>/share", create, name="share_create", methods=("POST",),
            permission="wireguard.clients.read", requires="wireguard")
    ui.page("/share/<token>", redeem, name="share_redeem", methods=("GET", "POST"),
            requires="wireguard")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(ctx: PageContext, client_id: int) -> Response:
    assert ctx.principal is not None
    allowed = await ctx.api("GET", f"/wireguard/clients/{client_id}")  # the API's per-object rule
    if not allowed.ok:
        return ctx.error(allowed.error, allowed.status)
    form = await ctx.form()
    hours = form.get("hours", "24")
    if not hours.isdigit() or not 1 <= int(hours) <= MAX_HOURS:
        return ctx.error(f"The lifetime must be 1 to {MAX_HOURS} hours.", 422)
    password = form.get("password", "")
    if len(password) > 256:
        return ctx.error("The password is too long.", 422)
    token = secrets.token_urlsafe(16)  # 128 bits, 22 characters
    expires = utcnow() + timedelta(hours=int(hours))
    await ShareLink.create(token_hash=token_hash(token), client_id=client_id, created_by_id=ctx.principal.id,
                           password_hash=await hash_password(password) if password else None, expires_at=expires)
    await audit(f"share link for WireGuard client {allowed.data['name']} created", action="webui_share_created",
                level="WARNING", module="webui", user_id=ctx.principal.id, username=ctx.principal.user.username,
                details={"client_id": client_id, "expires_at": expires.isoformat(), "password": bool(password)})
    url = f"{request.host_url.rstrip('/')}/share/{token}"
    return ctx.html("share_created.html", title="Share link created", url=url, expires_at=expires,
                    client=allowed.data, password=bool(password))


async def redeem(ctx: PageContext, token: str) -> Response:
    from ipv6wgm_wireguard import peerconfig, service
    from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
    from ipv6wgm_wireguard.qrcodes import QrTooLarge

    if not TOKEN_RE.fullmatch(token):
        return ctx.error(GONE, 404)
    link = await ShareLink.filter(token_hash=token_hash(token), used_at=None, expires_at__gt=utcnow()).first()
    if link is None:
        return ctx.error(GONE, 404)
    if link.password_hash:
        if request.method == "GET":
            return ctx.html("share_password.html", title="Protected link")
        if not await verify_password(link.password_hash, (await ctx.form()).get("password", "")):
            return ctx.html("share_password.html", http_status=403, title="Protected link",
                            error="The password was not accepted.")
    elif request.method == "POST":
        return ctx.error("Nothing to send here.", 405)
    # Spend the link before anything is shown: of two simultaneous requests only one wins.
    spent = await ShareLink.filter(id=link.id, used_at=None).update(used_at=utcnow(),
                                                                    used_from=(request.remote_addr or "")[:64])
    client = await WireGuardClient.filter(id=link.client_id).first()
    if spent != 1 or client is None:
        return ctx.error(GONE, 404)
    server = await WireGuardServer.get(id=client.server_id)
    config = service.client_config(client, server)
    try:
        qr = peerconfig.qr_data_url(config)
    except QrTooLarge:
        qr = None
    await audit(f"share link for WireGuard client {client.name} opened", action="webui_share_opened",
                level="WARNING", module="webui", details={"client_id": client.id, "link_id": link.id,
                                                          "from": request.remote_addr})
    return ctx.html("share_config.html", title=f"WireGuard configuration {client.name}", config=config, qr=qr,
                    name=client.name)
