"""The browser session cookie, CSRF tokens and the Origin check.

The cookie is a signed ``web`` token naming an ``AuthSession`` row, the same rows the API's
tokens name: logout and revocation end both. CSRF is a signed double submit: a random seed in
its own cookie, and the HMAC of that seed (which a page on another site cannot compute) in
every form (``csrf_token``) and every htmx request (``X-CSRF-Token``). An unsafe request must
also come from this origin (``Origin``, or ``Referer`` when a browser leaves it out).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from quart import Response, g, request

from ipv6wgm.api import ApiError
from ipv6wgm.auth.service import authenticate
from ipv6wgm.security.rbac import Principal
from ipv6wgm.security.tokens import WEB

SESSION_COOKIE = "ipv6wgm_session"
CSRF_COOKIE = "ipv6wgm_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SEED_RE_LEN = 43  # secrets.token_urlsafe(32)


def secure_transport() -> bool:
    return request.scheme == "https"


async def cookie_principal() -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await authenticate(token, WEB)
    except ApiError:
        return None


def set_session_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True,
                        secure=secure_transport(), samesite="Lax")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=secure_transport(), samesite="Lax")


def _seed() -> str:
    """This browser's CSRF seed; a new one (set on the response) when it has none."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) != SEED_RE_LEN:
        seed = getattr(g, "webui_new_csrf_seed", None) or secrets.token_urlsafe(32)
        g.webui_new_csrf_seed = seed
    return seed


def csrf_token(key: bytes) -> str:
    return _signed_seed(key, _seed())


@lru_cache(maxsize=4096)
def _signed_seed(key: bytes, seed: str) -> str:
    """A browser sends the same seed with every request: its token is a pure function of it."""
    return hmac.new(key, seed.encode(), hashlib.sha256).hexdigest()


def persist_seed(response: Response) -> None:
    seed = getattr(g, "webui_new_csrf_seed", None)
    if seed:
        response.set_cookie(CSRF_COOKIE, seed, path="/", httponly=True, secure=secure_transport(), samesite="Lax")


def same_origin() -> bool:
    """The request's ``Origin`` (or ``Referer``) names this host. Only host and port are
    compared: behind a TLS-terminating proxy the scheme the app sees differs from the browser's."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == (request.host or "").lower()


async def csrf_ok(key: bytes) -> bool:
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) != SEED_RE_LEN:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form
        sent = form.get(CSRF_FIELD, "")
    expected = _signed_seed(key, seed)
    return hmac.compare_digest(expected, sent or "")
