"""The account page: the TOTP second factor (enrol with a QR code, confirm, recovery codes,
remove), through the API's ``/auth/totp/*``."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from quart import Response, request

from ipv6wgm.auth import totp
from ipv6wgm.registry import UiRegistrar
from ipv6wgm_webui.context import PageContext


def register(ui: UiRegistrar) -> None:
    ui.page("/account", account, name="account", methods=("GET", "POST"))


def qr_svg_data_url(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


async def account(ctx: PageContext) -> Response:
    assert ctx.principal is not None
    values: dict[str, object] = {}
    if request.method == "POST":
        form = await ctx.form()
        action = form.get("action")
        if action == "setup":
            result = await ctx.api("POST", "/auth/totp/setup")
            if result.ok:
                values.update(setup=result.data, qr=qr_svg_data_url(result.data["otpauth_uri"]))
        elif action == "enable":
            result = await ctx.api("POST", "/auth/totp/enable", json={"code": form.get("code", "")})
            if result.ok:
                values.update(recovery_codes=result.data["recovery_codes"], message="Two-factor login is on.")
        elif action == "disable":
            result = await ctx.api("POST", "/auth/totp/disable", json={"password": form.get("password", "")})
            if result.ok:
                values["message"] = "Two-factor login is off."
        else:
            return ctx.error("Unknown action.", 400)
        if not result.ok:
            values["error"] = result.error
    enabled = await totp.enabled(ctx.principal.id)
    return ctx.html("account.html", title="Account", totp_enabled=enabled, **values)
