"""Pages of the BGP, IPv6 and monitoring plugins (each registered with ``requires=<plugin>``):
lists read through the JSON API in-process, and the dashboard's host, alert and BGP cards."""

from __future__ import annotations

from quart import Response, request

from ipv6wgm.registry import UiRegistrar
from ipv6wgm_webui.context import PageContext


def register(ui: UiRegistrar) -> None:
    ui.page("/bgp", bgp_sessions, name="bgp_sessions", permission="bgp.sessions.read", requires="bgp")
    ui.nav("BGP", "/bgp", permission="bgp.sessions.read", requires="bgp", order=30)
    ui.card("bgp", bgp_card, permission="bgp.sessions.read", requires="bgp", order=40)
    ui.page("/ipv6/pools", ipv6_pools, name="ipv6_pools", permission="ipv6.pools.read", requires="ipv6")
    ui.nav("IPv6 pools", "/ipv6/pools", permission="ipv6.pools.read", requires="ipv6", order=40)
    ui.page("/monitoring/alerts", alerts, name="alerts", permission="monitoring.read", requires="monitoring")
    ui.nav("Alerts", "/monitoring/alerts", permission="monitoring.read", requires="monitoring", order=50)
    ui.card("host", host_card, permission="monitoring.read", requires="monitoring", order=10)


def _page() -> int | str:
    page = request.args.get("page", "1")
    return page if page.isdigit() else 1


async def bgp_sessions(ctx: PageContext) -> Response:
    sessions, announcements = await ctx.api("GET", "/bgp/sessions", query={"page": _page(), "size": 50}), None
    if not sessions.ok:
        return ctx.error(sessions.error, sessions.status)
    if ctx.can("bgp.announcements.read"):
        listed = await ctx.api("GET", "/bgp/announcements", query={"size": 100})
        announcements = listed.data["announcements"] if listed.ok else None
    return ctx.html("network/bgp.html", title="BGP sessions", sessions=sessions.data["sessions"],
                    pagination=sessions.data["pagination"], announcements=announcements)


async def bgp_card(ctx: PageContext) -> str:
    result = await ctx.api("GET", "/bgp/sessions", query={"size": 20})
    sessions = result.data["sessions"] if result.ok else []
    return ctx.render("network/bgp_card.html", sessions=sessions,
                      total=result.data["pagination"]["total"] if result.ok else 0)


async def ipv6_pools(ctx: PageContext) -> Response:
    result = await ctx.api("GET", "/ipv6/pools", query={"page": _page(), "size": 50})
    if not result.ok:
        return ctx.error(result.error, result.status)
    return ctx.html("network/pools.html", title="IPv6 pools", pools=result.data["pools"],
                    pagination=result.data["pagination"])


async def alerts(ctx: PageContext) -> Response:
    result = await ctx.api("GET", "/monitoring/alerts/active")
    if not result.ok:
        return ctx.error(result.error, result.status)
    data = result.data
    items = data.get("alerts", data) if isinstance(data, dict) else data
    return ctx.html("network/alerts.html", title="Active alerts", alerts=items or [])


async def host_card(ctx: PageContext) -> str:
    result = await ctx.api("GET", "/monitoring/dashboard")
    return ctx.render("network/host_card.html", dash=result.data if result.ok else None)
