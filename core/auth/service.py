"""Turning credentials into a Principal, and sessions into tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from ipv6wgm.api import INVALID_CREDENTIALS, TOKEN_EXPIRED, ApiError, utcnow
from ipv6wgm.auth import cache
from ipv6wgm.auth.models import AuthSession
from ipv6wgm.auth.throttle import LoginThrottle
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import Principal
from ipv6wgm.security.tokens import ACCESS, REFRESH, WEB, TokenClaims, TokenError


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def throttle() -> LoginThrottle:
    rt = current()
    return LoginThrottle(rt.limiter, rt.settings.lockout_threshold, rt.settings.lockout_seconds)


def _token_error(exc: TokenError) -> ApiError:
    if exc.expired:
        return ApiError(401, TOKEN_EXPIRED, "token expired")
    return ApiError(401, INVALID_CREDENTIALS, "invalid token")


def _session_gone() -> ApiError:
    return ApiError(401, INVALID_CREDENTIALS, "session is no longer valid")


async def authenticate(token: str | None, typ: str = ACCESS) -> Principal:
    """Verify an access token (or, with ``typ=WEB``, a web UI session cookie) and its live
    session; one query joins session and user. Both name the same session rows, so logging out
    or revoking a session ends the API tokens and the browser session alike."""
    if not token:
        raise ApiError(401, INVALID_CREDENTIALS, "authentication required")
    rt = current()
    try:
        claims = rt.tokens.verify(token, typ)
    except TokenError as exc:
        raise _token_error(exc) from None
    hit = cache.get(claims.session_id)
    if hit is None or claims.gen > hit.access_gen:  # newer than the cache knows: renewed elsewhere
        session = await AuthSession.filter(id=claims.session_id).select_related("user").first()
        if session is None or session.revoked_at is not None or not session.user.is_active:
            raise _session_gone()
        hit = cache.CachedSession(session.user, session.access_gen)
        cache.put(session.id, hit.user, hit.access_gen)
    if hit.user.id != claims.user_id or (typ == ACCESS and claims.gen < hit.access_gen):
        raise _session_gone()
    return Principal(hit.user, claims.session_id, rt.role_permissions.get(hit.user.role, frozenset()))


def permissions_of(user: Any) -> list[str]:
    return sorted(current().role_permissions.get(user.role, frozenset()))


async def open_session(user: Any, ip: str | None, user_agent: str | None) -> dict[str, Any]:
    rt = current()
    session_id = secrets.token_hex(16)
    refresh_ttl = rt.settings.refresh_token_ttl
    refresh, rclaims = rt.tokens.issue(user.id, session_id, REFRESH, refresh_ttl)
    await AuthSession.create(
        id=session_id,
        user_id=user.id,
        refresh_jti=rclaims.jti,
        expires_at=utcnow() + timedelta(seconds=refresh_ttl),
        ip_address=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None,
    )
    return _token_pair(user.id, session_id, refresh, 0)


def web_token(user_id: int, session_id: str) -> tuple[str, int]:
    """A web UI session cookie for an open session (the one a login just opened): it lives as
    long as the session's refresh token would, and is revoked with the session."""
    rt = current()
    ttl = rt.settings.refresh_token_ttl
    token, _ = rt.tokens.issue(user_id, session_id, WEB, ttl)
    return token, ttl


def access_token_for(principal: Principal, ttl: int = 60) -> str:
    """A short access token for the principal's session, so the web UI can call the JSON API
    in-process with exactly the API's validation, authorization and audit."""
    hit = cache.get(principal.session_id)
    token, _ = current().tokens.issue(principal.id, principal.session_id, ACCESS, ttl,
                                      hit.access_gen if hit else 0)
    return token


def _token_pair(user_id: int, session_id: str, refresh: str, access_gen: int) -> dict[str, Any]:
    rt = current()
    ttl = rt.config.session_timeout
    access, _ = rt.tokens.issue(user_id, session_id, ACCESS, ttl, access_gen)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": ttl,
        "refresh_expires_in": rt.settings.refresh_token_ttl,
    }


async def refresh(token: str) -> dict[str, Any]:
    """``POST /auth/refresh`` with a token in the header: a refresh token rotates the pair; an
    access token (the spec's example) is exchanged for a new access token."""
    rt = current()
    try:
        rt.tokens.verify(token, REFRESH)
    except TokenError as exc:
        try:
            claims = rt.tokens.verify(token, ACCESS)
        except TokenError:
            raise _token_error(exc) from None
        return await renew_access(claims)
    return await rotate(token)


async def rotate(refresh_token: str) -> dict[str, Any]:
    """Exchange a refresh token for a new pair. A refresh token used twice means it was
    stolen (one of the two users is an attacker): the whole session family is revoked."""
    rt = current()
    try:
        claims = rt.tokens.verify(refresh_token, REFRESH)
    except TokenError as exc:
        raise _token_error(exc) from None
    session = await AuthSession.filter(id=claims.session_id).select_related("user").first()
    if session is None or session.revoked_at is not None or not session.user.is_active:
        raise _session_gone()
    refresh, rclaims = rt.tokens.issue(session.user_id, session.id, REFRESH, rt.settings.refresh_token_ttl)
    updated = await AuthSession.filter(id=session.id, refresh_jti=claims.jti, revoked_at=None).update(
        refresh_jti=rclaims.jti, expires_at=utcnow() + timedelta(seconds=rt.settings.refresh_token_ttl)
    )
    if updated != 1:
        await revoke_sessions([session.id], "refresh token reuse")
        raise ApiError(401, INVALID_CREDENTIALS, "refresh token already used; session revoked")
    return _token_pair(session.user_id, session.id, refresh, session.access_gen)


def absolute_end(session: AuthSession) -> datetime:
    """A login's access tokens can be renewed with themselves only this long: the refresh-token
    lifetime counted from the login, however often the refresh token was rotated since."""
    return session.created_at + timedelta(seconds=current().settings.refresh_token_ttl)


async def renew_access(claims: TokenClaims) -> dict[str, Any]:
    """A new access token for a live access token (no refresh token involved).

    The session's access generation moves on, so the presented token (and any older one of the
    session) stops working in every process; a second renewal with the same token fails. The new
    token never outlives the session's absolute lifetime.
    """
    rt = current()
    session = await AuthSession.filter(id=claims.session_id).select_related("user").first()
    if (session is None or session.revoked_at is not None or not session.user.is_active
            or session.user_id != claims.user_id or claims.gen != session.access_gen):
        raise _session_gone()
    now = utcnow()
    remaining = int(min(absolute_end(session), session.expires_at).timestamp() - now.timestamp())
    if remaining < 1:
        raise ApiError(401, TOKEN_EXPIRED, "session lifetime reached; log in again")
    gen = claims.gen + 1
    updated = await AuthSession.filter(id=session.id, access_gen=claims.gen, revoked_at=None).update(access_gen=gen)
    if updated != 1:
        raise _session_gone()
    cache.drop_sessions([session.id])
    await rt.hub.control("session_renewed", session_ids=[session.id])
    ttl = min(rt.config.session_timeout, remaining)
    access, _ = rt.tokens.issue(session.user_id, session.id, ACCESS, ttl, gen)
    return {"access_token": access, "token_type": "bearer", "expires_in": ttl}


async def revoke_sessions(session_ids: list[str], reason: str) -> int:
    """Revoke sessions everywhere; returns how many were still live."""
    if not session_ids:
        return 0
    count = await AuthSession.filter(id__in=session_ids, revoked_at=None).update(
        revoked_at=utcnow(), revoked_reason=reason)
    cache.drop_sessions(session_ids)  # at once here; other processes hear it from the hub
    await current().hub.control("session_revoked", session_ids=session_ids)
    return int(count)


async def user_changed(user_id: int) -> None:
    """Cached copies of this user (in every process) must be reloaded."""
    cache.drop_user(user_id)
    await current().hub.control("user_changed", user_id=user_id)


async def revoke_user_sessions(user_id: int, reason: str, *, keep: str | None = None) -> int:
    """Revoke every live session of a user, except ``keep`` (the caller's own, after it changed
    its own password); returns how many were revoked."""
    live = AuthSession.filter(user_id=user_id, revoked_at=None)
    if keep is not None:
        live = live.exclude(id=keep)
    return await revoke_sessions(list(await live.values_list("id", flat=True)), reason)


# ---- across a restore -------------------------------------------------------------------------


async def live_sessions(conn: Any) -> dict[str, int]:
    """Live sessions and their access-token generation, read inside a restore's transaction
    before its tables are replaced (see ``keep_only_live``)."""
    rows = await AuthSession.filter(revoked_at=None, expires_at__gt=utcnow()).using_db(conn).values_list(
        "id", "access_gen")
    return {session_id: int(gen) for session_id, gen in rows}


async def keep_only_live(conn: Any, live_before: dict[str, int], *, chunk: int = 500) -> int:
    """After the restored rows are in (same transaction): a backup is older than a logout, a
    password change, a deactivation, a deletion or a token renewal, and restoring it must not
    bring such a token back to life. So a restored session stays live only if it was live just
    before the restore, and its access tokens keep the newer generation. Returns how many
    restored sessions this ended (on a new host: all of them; log in again)."""
    restored = dict(await AuthSession.filter(revoked_at=None, expires_at__gt=utcnow()).using_db(conn).values_list(
        "id", "access_gen"))
    ended = [sid for sid in restored if sid not in live_before]
    for i in range(0, len(ended), chunk):
        await AuthSession.filter(id__in=ended[i:i + chunk]).using_db(conn).update(
            revoked_at=utcnow(), revoked_reason="not live when restored")
    newer: dict[int, list[str]] = {}
    for sid, gen in restored.items():
        if sid in live_before and live_before[sid] > int(gen):
            newer.setdefault(live_before[sid], []).append(sid)
    for gen, ids in newer.items():
        for i in range(0, len(ids), chunk):
            await AuthSession.filter(id__in=ids[i:i + chunk]).using_db(conn).update(access_gen=gen)
    return len(ended)


async def sessions_replaced() -> None:
    """Every process forgets its cached sessions and users: the restored tables replaced them."""
    cache.clear()
    await current().hub.control("sessions_replaced")
