"""WireGuard pages (registered with ``requires="wireguard"``): servers, clients, QR codes.

Changes go through the JSON API in-process (``ctx.api``): the same validation, per-object
authorization and audit as ``/api/v1/wireguard``. The clients list, the page that must stay fast
at 10,000 clients, reads with the same paging and service functions as ``GET /clients``
(``render_page`` with ``owned_conditions``, ``CLIENT_COLUMNS``, ``render_client_row``), so a
``user`` sees exactly what the API would show it: its own clients.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from quart import Response, request

from ipv6wgm.api import utcnow
from ipv6wgm.paging import Condition, Eq, Range, Search, as_rendered, fetch_page, render_page
from ipv6wgm.registry import UiRegistrar
from ipv6wgm.security.rbac import owned_conditions
from ipv6wgm_webui.context import SECURITY_HEADERS, PageContext
from ipv6wgm_webui.pages.client_rows import join_rows, render_rows, row_renderer

SORTS = {"id": "id", "name": "name", "created": "created_at", "handshake": "last_handshake",
         "received": "bytes_received", "sent": "bytes_sent"}
STATUSES = ("", "enabled", "disabled", "active")
PAGE_SIZE = 50


def register(ui: UiRegistrar) -> None:
    req = {"requires": "wireguard"}
    ui.page("/wireguard/servers", servers, name="wg_servers", methods=("GET", "POST"),
            permission="wireguard.servers.read", **req)
    ui.page("/wireguard/servers/<int:server_id>", server_detail, name="wg_server", permission="wireguard.servers.read",
            **req)
    ui.page("/wireguard/servers/<int:server_id>/<any(start,stop):action>", server_action, name="wg_server_action",
            methods=("POST",), permission="wireguard.servers.write", **req)
    ui.page("/wireguard/clients", clients, name="wg_clients", permission="wireguard.clients.read", **req)
    ui.page("/wireguard/clients/new", client_new, name="wg_client_new", methods=("GET", "POST"),
            permission="wireguard.clients.self", **req)
    ui.page("/wireguard/clients/<int:client_id>", client_detail, name="wg_client",
            permission="wireguard.clients.read", **req)
    ui.page("/wireguard/clients/<int:client_id>/<any(enable,disable):action>", client_action,
            name="wg_client_action", methods=("POST",), permission="wireguard.clients.self", **req)
    ui.page("/wireguard/clients/<int:client_id>/<any(config,qr):what>", client_file, name="wg_client_file",
            permission="wireguard.clients.read", **req)
    ui.nav("Servers", "/wireguard/servers", permission="wireguard.servers.read", order=10, **req)
    ui.nav("Clients", "/wireguard/clients", permission="wireguard.clients.read", order=20, **req)
    ui.card("servers", servers_card, permission="wireguard.servers.read", order=20, **req)
    ui.card("my_clients", clients_card, permission="wireguard.clients.read", order=30, **req)


# ---- servers ---------------------------------------------------------------------------------

def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _server_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": form.get("name", "").strip()}
    for key in ("interface", "ipv4_address", "ipv6_address", "endpoint"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    for key in ("listen_port", "mtu", "persistent_keepalive"):
        value = form.get(key, "").strip()
        if value:
            body[key] = int(value) if value.isdigit() else value
    if form.get("dns_servers", "").strip():
        body["dns_servers"] = _split(form["dns_servers"])
    body["is_active"] = form.get("is_active") == "on"
    return body


async def servers(ctx: PageContext) -> Response:
    message = error = None
    if request.method == "POST":
        if not ctx.can("wireguard.servers.write"):
            return ctx.error("You may not create servers.", 403)
        result = await ctx.api("POST", "/wireguard/servers", json=_server_body(await ctx.form()))
        if result.ok:
            return ctx.redirect(f"/wireguard/servers/{result.data['id']}")
        error = result.error
    page = request.args.get("page", "1")
    result = await ctx.api("GET", "/wireguard/servers", query={"page": page if page.isdigit() else 1, "size": 50})
    if not result.ok:
        return ctx.error(result.error, result.status)
    return ctx.html("wireguard/servers.html", title="WireGuard servers", servers=result.data["servers"],
                    pagination=result.data["pagination"], message=message, error=error)


async def server_detail(ctx: PageContext, server_id: int) -> Response:
    result = await ctx.api("GET", f"/wireguard/servers/{server_id}")
    if not result.ok:
        return ctx.error(result.error, result.status)
    server = result.data
    peers = None
    if server["status"] == "running":
        live = await ctx.api("GET", f"/wireguard/servers/{server_id}/peers")
        peers = live.data["peers"] if live.ok else None
    return ctx.html("wireguard/server.html", title=f"Server {server['name']}", server=server, peers=peers,
                    error=request.args.get("error"))


async def server_action(ctx: PageContext, server_id: int, action: str) -> Response:
    result = await ctx.api("POST", f"/wireguard/servers/{server_id}/{action}")
    if not result.ok:
        return ctx.error(result.error, result.status)
    return ctx.redirect(f"/wireguard/servers/{server_id}")


# ---- clients ---------------------------------------------------------------------------------

def client_filters(ctx: PageContext, args: Any) -> tuple[list[Condition], dict[str, Any]]:
    """The list's conditions, from the query string; the owner scope comes first, as in the API."""
    from ipv6wgm_wireguard.settings import wg_settings

    assert ctx.principal is not None
    where: list[Condition] = owned_conditions(ctx.principal, "wireguard.all")
    search = (args.get("search") or "").strip()[:64]
    status = args.get("status", "")
    status = status if status in STATUSES else ""
    server = args.get("server_id", "")
    if search:
        where.append(Search(("name", "description"), search))
    if server.isdigit() and 0 < int(server) < 2**31:
        where.append(Eq("server_id", int(server)))
    if status == "enabled":
        where.append(Eq("enabled", True))
    elif status == "disabled":
        where.append(Eq("enabled", False))
    elif status == "active":
        where.append(Range("last_handshake", low=utcnow() - timedelta(seconds=wg_settings().active_handshake_s)))
    sort = args.get("sort", "id")
    key = sort.lstrip("-")
    if key not in SORTS:
        sort = "id"
    return where, {"search": search, "status": status, "sort": sort, "server_id": server if server.isdigit() else ""}


async def clients(ctx: PageContext) -> Response:
    from ipv6wgm.api import PageQuery
    from ipv6wgm_wireguard import service
    from ipv6wgm_wireguard.models import WireGuardClient

    args = request.args.to_dict()  # a plain dict: a MultiDict raises (and catches) per missing key
    where, state = client_filters(ctx, args)
    try:
        query = PageQuery(page=args.get("page", 1), size=PAGE_SIZE)
    except ValidationError:
        query = PageQuery(page=1, size=PAGE_SIZE)
    key = state["sort"].lstrip("-")
    order = (("-" if state["sort"].startswith("-") else "") + SORTS[key],)
    # The API's statement and row memo, keeping each row's HTML (see client_rows).
    render = row_renderer(ctx.state.translations(), ctx.can("wireguard.clients.self"))
    rows, pagination = await render_page(WireGuardClient, service.CLIENT_COLUMNS, query, render, where=where,
                                         order=order, context=service.render_context(), freeze=as_rendered)
    rows_html = join_rows(rows, ctx.csrf)
    values = {"has_rows": bool(rows), "pagination": pagination, **state, "sort_links_of": _sort_links,
              "statuses": STATUSES}
    if ctx.htmx and request.headers.get("HX-Target") == "client-table":
        return ctx.html_around("wireguard/client_table.html", "rows", rows_html, **values)
    return ctx.html_around("wireguard/clients.html", "rows", rows_html, title="WireGuard clients", **values)


def _client_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": form.get("name", "").strip()}
    server = form.get("server_id", "").strip()
    body["server_id"] = int(server) if server.isdigit() else server
    if form.get("description", "").strip():
        body["description"] = form["description"].strip()
    if form.get("allowed_ips", "").strip():
        body["allowed_ips"] = _split(form["allowed_ips"])
    if form.get("dns_servers", "").strip():
        body["dns_servers"] = _split(form["dns_servers"])
    return body


async def client_new(ctx: PageContext) -> Response:
    error = None
    form: dict[str, str] = {}
    if request.method == "POST":
        form = await ctx.form()
        result = await ctx.api("POST", "/wireguard/clients", json=_client_body(form))
        if result.ok:
            return ctx.html("wireguard/client_created.html", title=f"Client {result.data['name']} created",
                            client=result.data)
        error = result.error
    servers = []
    if ctx.can("wireguard.servers.read"):
        listed = await ctx.api("GET", "/wireguard/servers", query={"size": 100})
        servers = listed.data["servers"] if listed.ok else []
    return ctx.html("wireguard/client_new.html", title="New WireGuard client", servers=servers, form=form,
                    error=error, request_server_id=request.args.get("server_id", ""))


async def client_detail(ctx: PageContext, client_id: int) -> Response:
    result = await ctx.api("GET", f"/wireguard/clients/{client_id}")
    if not result.ok:
        return ctx.error(result.error, result.status)
    return ctx.html("wireguard/client.html", title=f"Client {result.data['name']}", client=result.data)


async def client_action(ctx: PageContext, client_id: int, action: str) -> Response:
    result = await ctx.api("POST", f"/wireguard/clients/{client_id}/{action}")
    if not result.ok:
        return ctx.error(result.error, result.status)
    if ctx.htmx and request.headers.get("HX-Target", "").startswith("client-row-"):
        return Response(_rows(ctx, [result.data]), mimetype="text/html", headers=SECURITY_HEADERS)
    return ctx.redirect(f"/wireguard/clients/{client_id}")


async def client_file(ctx: PageContext, client_id: int, what: str) -> Response:
    """The config file or QR image, passed through from the API (which audits the download)."""
    result = await ctx.api("GET", f"/wireguard/clients/{client_id}/{what}")
    if not result.ok:
        return ctx.error(result.error, result.status)
    headers = {k: v for k, v in result.headers.items() if k in ("content-type", "content-disposition")}
    return Response(result.body, status=200, headers=headers)


def _sort_links(ctx: PageContext, sort: str) -> dict[str, tuple[str, str]]:
    """Each column's link (ascending first, then descending) and its arrow; called by the
    template, so only when the page's frame is rendered (``html_around``)."""
    links = {}
    for key in ("name", "handshake", "received", "sent"):
        following = f"-{key}" if sort == key else key
        mark = " ▲" if sort == key else " ▼" if sort == f"-{key}" else ""
        links[key] = (ctx.url_with(sort=following, page=None), mark)
    return links


def _rows(ctx: PageContext, listed: list[dict[str, Any]]) -> Any:
    return render_rows(listed, ctx.gettext, ctx.csrf, ctx.can("wireguard.clients.self"))


# ---- dashboard cards -------------------------------------------------------------------------

async def servers_card(ctx: PageContext) -> str:
    result = await ctx.api("GET", "/wireguard/servers", query={"size": 20})
    return ctx.render("wireguard/servers_card.html", servers=result.data["servers"] if result.ok else [],
                      total=result.data["pagination"]["total"] if result.ok else 0)


async def clients_card(ctx: PageContext) -> str:
    from ipv6wgm.api import PageQuery
    from ipv6wgm_wireguard.models import WireGuardClient

    counts = {}
    for status in ("", "enabled", "active"):
        where, _ = client_filters(ctx, {"status": status})
        _, page = await fetch_page(WireGuardClient, ("id",), PageQuery(page=1, size=1), where=where)
        counts[status or "all"] = page["total"]
    return ctx.render("wireguard/clients_card.html", counts=counts)
