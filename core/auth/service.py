"""Turning credentials into a Principal, and sessions into tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from ipv6wgm.api import INVALID_CREDENTIALS, TOKEN_EXPIRED, ApiError, utcnow
from ipv6wgm.auth import cache
from ipv6wgm.auth.models import AuthSession
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import Principal
from ipv6wgm.security.tokens import ACCESS, REFRESH, TokenError


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_error(exc: TokenError) -> ApiError:
    if exc.expired:
        return ApiError(401, TOKEN_EXPIRED, "token expired")
    return ApiError(401, INVALID_CREDENTIALS, "invalid token")


async def authenticate(token: str | None) -> Principal:
    """Verify an access token and its live session; one query joins session and user."""
    if not token:
        raise ApiError(401, INVALID_CREDENTIALS, "authentication required")
    rt = current()
    try:
        claims = rt.tokens.verify(token, ACCESS)
    except TokenError as exc:
        raise _token_error(exc) from None
    user = cache.get(claims.session_id)
    if user is None:
        session = await AuthSession.filter(id=claims.session_id).select_related("user").first()
        if session is None or session.revoked_at is not None or not session.user.is_active:
            raise ApiError(401, INVALID_CREDENTIALS, "session is no longer valid")
        user = session.user
        cache.put(session.id, user)
    if user.id != claims.user_id:
        raise ApiError(401, INVALID_CREDENTIALS, "session is no longer valid")
    return Principal(user, claims.session_id, rt.role_permissions.get(user.role, frozenset()))


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
    return _token_pair(user.id, session_id, refresh)


def _token_pair(user_id: int, session_id: str, refresh: str) -> dict[str, Any]:
    rt = current()
    ttl = rt.config.session_timeout
    access, _ = rt.tokens.issue(user_id, session_id, ACCESS, ttl)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": ttl,
        "refresh_expires_in": rt.settings.refresh_token_ttl,
    }


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
        raise ApiError(401, INVALID_CREDENTIALS, "session is no longer valid")
    refresh, rclaims = rt.tokens.issue(session.user_id, session.id, REFRESH, rt.settings.refresh_token_ttl)
    updated = await AuthSession.filter(id=session.id, refresh_jti=claims.jti, revoked_at=None).update(
        refresh_jti=rclaims.jti, expires_at=utcnow() + timedelta(seconds=rt.settings.refresh_token_ttl)
    )
    if updated != 1:
        await revoke_sessions([session.id], "refresh token reuse")
        raise ApiError(401, INVALID_CREDENTIALS, "refresh token already used; session revoked")
    return _token_pair(session.user_id, session.id, refresh)


async def revoke_sessions(session_ids: list[str], reason: str) -> None:
    if not session_ids:
        return
    await AuthSession.filter(id__in=session_ids, revoked_at=None).update(revoked_at=utcnow(), revoked_reason=reason)
    cache.drop_sessions(session_ids)  # at once here; other processes hear it from the hub
    await current().hub.control("session_revoked", session_ids=session_ids)


async def user_changed(user_id: int) -> None:
    """Cached copies of this user (in every process) must be reloaded."""
    cache.drop_user(user_id)
    await current().hub.control("user_changed", user_id=user_id)


async def revoke_user_sessions(user_id: int, reason: str) -> None:
    ids = await AuthSession.filter(user_id=user_id, revoked_at=None).values_list("id", flat=True)
    await revoke_sessions(list(ids), reason)
