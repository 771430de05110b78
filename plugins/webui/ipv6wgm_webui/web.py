"""The web UI blueprint: login and logout, and every ``register_ui`` page mounted at its path.

Pages are mounted when the app registers the blueprint (``create_app``), from the complete
registry, so a plugin's pages never depend on the order plugins were collected in; a page
whose ``requires`` plugin is not loaded is not mounted (its path answers 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from quart import Blueprint, Response, g, request
from quart.blueprints import BlueprintSetupState
from quart_schema import hide

from ipv6wgm.auth.service import web_token
from ipv6wgm.registry import UiPage
from ipv6wgm.runtime import current
from ipv6wgm.security.tokens import ACCESS, TokenError
from ipv6wgm_webui.context import PageContext
from ipv6wgm_webui.security import (
    SAFE_METHODS,
    clear_session_cookie,
    cookie_principal,
    csrf_ok,
    persist_seed,
    same_origin,
    set_session_cookie,
)
from ipv6wgm_webui.state import LANGUAGES, WebState, loaded_plugins

ANONYMOUS = frozenset({"webui.login", "webui.static", "webui.language", "webui.webui__share_redeem"})


def state() -> WebState:
    return current().state("webui", WebState)


def build_blueprint() -> Blueprint:
    bp = Blueprint("webui", __name__, static_folder="static", static_url_path="/static/webui")
    bp.record(_mount_pages)
    bp.before_request(_guard)
    bp.after_request(_finish)
    # Pages are not API operations: none of them is in /openapi.json (nor fuzzed as one).
    bp.add_url_rule("/login", "login", hide(login), methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", hide(logout), methods=["POST"])
    bp.add_url_rule("/lang/<code>", "language", hide(language), methods=["GET"])
    return bp


def _mount_pages(setup: BlueprintSetupState) -> None:
    static = setup.app.view_functions.get("webui.static")
    if static is not None:  # added before deferred functions run; hidden from the OpenAPI document

        async def static_file(filename: str) -> Response:
            return await static(filename)

        setup.app.view_functions["webui.static"] = hide(static_file)
    runtime = setup.app.extensions["ipv6wgm"]
    plugins = loaded_plugins(runtime)
    for page in runtime.registry.ui_pages.values():
        if page.requires is None or page.requires in plugins:
            setup.add_url_rule(page.path, page.name.replace(".", "__"), _view(page), methods=list(page.methods))


def _view(page: UiPage) -> Callable[..., Any]:
    async def view(**args: Any) -> Any:
        ctx = PageContext(state(), g.principal, page)
        if not ctx.can(page.permission):
            return ctx.error("You do not have access to this page.", 403)
        return await page.view(ctx, **args)

    view.__name__ = page.name.replace(".", "__")
    return hide(view)


async def _guard() -> Response | None:
    """Who is asking, and whether an unsafe request really comes from our own pages."""
    if request.endpoint == "webui.static":
        return None
    g.principal = await cookie_principal()
    g.webui_lang = choose_language()
    ctx = PageContext(state(), g.principal)
    if request.method not in SAFE_METHODS:
        if not same_origin():
            return ctx.error("Cross-origin request refused (Origin check).", 403)
        if not await csrf_ok(state().csrf_key):
            return ctx.error("Missing or invalid CSRF token; reload the page and try again.", 403)
    if g.principal is None and request.endpoint not in ANONYMOUS:
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        return ctx.redirect(f"/login?next={_quote(target)}")
    return None


LANG_COOKIE = "ipv6wgm_lang"


def choose_language() -> str:
    """The language picked on the page (a cookie), else the browser's (Accept-Language)."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh"])
    return "zh_CN" if best == "zh" else "en"


async def language(code: str) -> Response:
    """Switch the language (a preference in a cookie, no server state), back to where one was."""
    if code not in LANGUAGES:
        return Response("", status=404)
    referrer = urlsplit(request.headers.get("Referer", ""))
    target = _local(referrer.path + (f"?{referrer.query}" if referrer.query else "")) \
        if referrer.netloc == request.host else "/"
    response = Response("", status=303, headers={"Location": target})
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, path="/", httponly=True, samesite="Lax",
                        secure=request.scheme == "https")
    return response


async def _finish(response: Response) -> Response:
    persist_seed(response)
    # The core's "no-referrer" makes browsers send "Origin: null" on form posts, which the
    # Origin check must refuse; same-origin keeps referrers from leaving the site all the same.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _local(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login() -> Response:
    ctx = PageContext(state(), g.principal)
    target = _local(request.args.get("next"))
    if request.method == "GET":
        if g.principal is not None:
            return ctx.redirect(target)
        return ctx.html("login.html", title="Log in", next=target)
    form = await ctx.form()
    body = {"username": form.get("username", ""), "password": form.get("password", "")}
    if form.get("totp_code", "").strip():
        body["totp_code"] = form["totp_code"].strip()
    result = await ctx.api("POST", "/auth/login", json=body)
    if not result.ok:
        return ctx.html("login.html", http_status=result.status if result.status in (401, 422, 429) else 400,
                        title="Log in", next=target, error=result.error, username=body["username"])
    try:
        claims = current().tokens.verify(result.data["access_token"], ACCESS)
    except (TokenError, KeyError, TypeError):
        return ctx.error("Login failed.", 500)
    token, ttl = web_token(claims.user_id, claims.session_id)
    response = ctx.redirect(target)
    set_session_cookie(response, token, ttl)
    return response


async def logout() -> Response:
    """Ends the session row: the cookie and any API token of this login stop working."""
    ctx = PageContext(state(), g.principal)
    await ctx.api("POST", "/auth/logout")
    response = ctx.redirect("/login")
    clear_session_cookie(response)
    return response
