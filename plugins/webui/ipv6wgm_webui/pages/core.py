"""The core's pages: dashboard, users, logs, system configuration."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from markupsafe import Markup
from quart import Response, request

from ipv6wgm.registry import UiRegistrar
from ipv6wgm_webui.context import PageContext

log = logging.getLogger(__name__)
LOG_LEVELS = ("", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def register(ui: UiRegistrar) -> None:
    ui.page("/", dashboard, name="dashboard")
    ui.page("/users", users, name="users", methods=("GET", "POST"), permission="users.read")
    ui.page("/logs", logs, name="logs", permission="logs.read")
    ui.page("/system", system, name="system", permission="system.read")
    ui.nav("Dashboard", "/", order=0)
    ui.nav("Users", "/users", permission="users.read", order=80)
    ui.nav("Logs", "/logs", permission="logs.read", order=85)
    ui.nav("System", "/system", permission="system.read", order=90)


async def dashboard(ctx: PageContext) -> Response:
    cards = [c for c in ctx.state.cards if ctx.can(c.permission)]
    bodies = await asyncio.gather(*(c.render(ctx) for c in cards), return_exceptions=True)
    rendered = []
    for card, body in zip(cards, bodies, strict=True):
        if isinstance(body, BaseException):
            log.warning("dashboard card %s failed: %r", card.name, body)
        # A card's HTML comes from its own template, rendered with autoescape (ctx.render).
        rendered.append((card, Markup(body) if isinstance(body, str) else None))  # noqa: S704
    return ctx.html("dashboard.html", title="Dashboard", cards=rendered)


def _page_args(default_size: int = 50) -> dict[str, Any]:
    page = request.args.get("page", "1")
    return {"page": page if page.isdigit() else "1", "size": default_size}


async def users(ctx: PageContext) -> Response:
    message = error = None
    if request.method == "POST":
        if not ctx.can("users.write"):
            return ctx.error("You may not create users.", 403)
        form = await ctx.form()
        body = {"username": form.get("username", ""), "email": form.get("email", ""),
                "password": form.get("password", ""), "role": form.get("role", "user")}
        result = await ctx.api("POST", "/users", json=body)
        message, error = ("User created.", None) if result.ok else (None, result.error)
    result = await ctx.api("GET", "/users", query=_page_args())
    if not result.ok:
        return ctx.error(result.error, result.status)
    return ctx.html("core/users.html", title="Users", users=result.data["users"],
                    pagination=result.data["pagination"], message=message, error=error)


async def logs(ctx: PageContext) -> Response:
    level = request.args.get("level", "")
    query = {**_page_args(), "level": level if level in LOG_LEVELS else ""}
    result = await ctx.api("GET", "/logs", query=query)
    if not result.ok:
        return ctx.error(result.error, result.status)
    return ctx.html("core/logs.html", title="Logs", logs=result.data["logs"], pagination=result.data["pagination"],
                    level=query["level"], levels=LOG_LEVELS)


async def system(ctx: PageContext) -> Response:
    config, info = await asyncio.gather(ctx.api("GET", "/system/config"), ctx.api("GET", "/system/info"))
    if not config.ok:
        return ctx.error(config.error, config.status)
    return ctx.html("core/system.html", title="System", config=config.data, info=info.data if info.ok else None)
