"""What a page view receives: the principal, the rendering helpers and the in-process API.

Views are ``async view(ctx, **url_args)``; they read through the API (``ctx.api``) or through
the same service functions the API uses, so a page never shows more than the API would.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from quart import Response, current_app, request

from ipv6wgm.auth.service import access_token_for
from ipv6wgm.registry import UiPage
from ipv6wgm.security.rbac import Principal
from ipv6wgm_webui import internal
from ipv6wgm_webui.frames import freeze
from ipv6wgm_webui.security import CSRF_FIELD, csrf_token
from ipv6wgm_webui.state import LANGUAGES, WebState, current_language

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


class PageContext:
    def __init__(self, state: WebState, principal: Principal | None, page: UiPage | None = None) -> None:
        self.state, self.principal, self.page = state, principal, page
        self._token: str | None = None

    # ---- who -------------------------------------------------------------------------------

    def can(self, permission: str | None) -> bool:
        return permission is None or (self.principal is not None and self.principal.can(permission))

    @property
    def htmx(self) -> bool:
        return request.headers.get("HX-Request") == "true"

    @cached_property
    def csrf(self) -> str:
        return csrf_token(self.state.csrf_key)

    async def form(self) -> dict[str, str]:
        form = await request.form
        return {k: v for k, v in form.items() if k != CSRF_FIELD}

    def url_with(self, **changes: Any) -> str:
        """This page's URL with some query arguments changed (None drops one)."""
        args = {k: v for k, v in request.args.items()}
        for key, value in changes.items():
            if value is None or value == "":
                args.pop(key, None)
            else:
                args[key] = str(value)
        return request.path + (f"?{urlencode(args)}" if args else "")

    def page_url(self, page: int) -> str:
        return self.url_with(page=page)

    def gettext(self, message: str) -> str:
        return self.state.gettext(message)

    # ---- rendering -------------------------------------------------------------------------

    def render(self, template: str, **values: Any) -> str:
        """A template with the page globals (principal, CSRF token, navigation)."""
        nav = [n for n in self.state.nav if self.can(n.permission)] if self.principal else []
        return self.state.env.get_template(template).render(
            ctx=self, principal=self.principal, user=self.principal.user if self.principal else None,
            csrf=self.csrf, csrf_field=CSRF_FIELD, nav=nav, path=request.path,
            lang=LANGUAGES.get(current_language(), "en"), **values)

    def html(self, template: str, http_status: int = 200, **values: Any) -> Response:
        return Response(self.render(template, **values), status=http_status, mimetype="text/html",
                        headers=SECURITY_HEADERS)

    def html_around(self, template: str, slot: str, content: Markup, **values: Any) -> Response:
        """``html(template, slot=content, **values)``, the HTML around ``content`` memoised
        (``frames``) for a template that reads nothing but ``values`` (dicts, lists and
        hashables), the page globals, ``user.username``, ``ctx.can``, ``ctx.gettext`` and the
        request's path and query string (``ctx.url_with``, ``ctx.page_url``)."""
        principal = self.principal
        key = (template, slot, current_language(), self.csrf, request.path, request.query_string,
               principal and (principal.id, principal.user.username, principal.permissions), freeze(values))
        html = self.state.frames.fill(key, lambda fill: self.render(template, **{slot: fill}, **values), content)
        return Response(html, status=200, mimetype="text/html", headers=SECURITY_HEADERS)

    def error(self, message: str, status: int) -> Response:
        return self.html("error.html", http_status=status, title=f"Error {status}", message=message)

    def redirect(self, location: str) -> Response:
        """A redirect that htmx follows as a full page load."""
        if self.htmx:
            return Response("", status=204, headers={"HX-Redirect": location})
        return Response("", status=303, headers={"Location": location})

    # ---- the JSON API, in-process ----------------------------------------------------------

    async def api(self, method: str, path: str, *, json: Any = None,
                  query: dict[str, Any] | None = None) -> internal.ApiResult:
        """Call ``/api/v1`` + ``path`` as this principal (its own session)."""
        if self.principal is not None and self._token is None:
            self._token = access_token_for(self.principal)
        return await internal.call(current_app, method, f"/api/v1{path}", token=self._token, json=json,
                                   query=query, client=(request.remote_addr or "127.0.0.1", 0),
                                   user_agent=request.headers.get("User-Agent"))
