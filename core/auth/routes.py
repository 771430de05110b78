"""/auth: login, refresh (rotating), logout (revoking), me."""

from __future__ import annotations

from datetime import timedelta

from quart import Blueprint, request
from quart_schema import document_request, document_response, validate_request
from tortoise.expressions import F

from ipv6wgm.api import (
    INVALID_CREDENTIALS,
    RATE_LIMIT_EXCEEDED,
    ApiError,
    Envelope,
    MessageEnvelope,
    ok,
    utcnow,
)
from ipv6wgm.auth import service
from ipv6wgm.auth.schemas import LoginData, LoginRequest, MeData, RefreshData, RefreshRequest
from ipv6wgm.logs.service import audit
from ipv6wgm.openapi import optional_body
from ipv6wgm.runtime import current
from ipv6wgm.security.passwords import verify_password
from ipv6wgm.security.rbac import current_principal, public
from ipv6wgm.users.models import User
from ipv6wgm.users.service import serialize_user

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _client() -> tuple[str | None, str | None]:
    return request.remote_addr, request.headers.get("User-Agent")


async def _locked(user: User) -> None:
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        retry = max(1, int((user.locked_until - now).total_seconds()))
        await audit(f"login refused: account {user.username} is locked", action="login_locked", level="WARNING",
                    module="auth", user_id=user.id, username=user.username, status_code=429)
        raise ApiError(429, RATE_LIMIT_EXCEEDED, "account temporarily locked after repeated failures",
                       {"retry_after": retry}, {"Retry-After": str(retry)})


async def _record_failure(user: User | None, username: str) -> None:
    rt = current()
    if user is not None:
        await User.filter(id=user.id).update(failed_logins=F("failed_logins") + 1)
        failures = await User.filter(id=user.id).values_list("failed_logins", flat=True)
        if failures and failures[0] >= rt.settings.lockout_threshold:
            until = utcnow() + timedelta(seconds=rt.settings.lockout_seconds)
            await User.filter(id=user.id).update(locked_until=until, failed_logins=0)
            await audit(f"account {user.username} locked", action="account_locked", level="WARNING",
                        module="auth", user_id=user.id, username=user.username)
    await audit(f"login failed for {username[:64]}", action="login_failed", level="WARNING", module="auth",
                user_id=user.id if user else None, username=username[:64], status_code=401)


@bp.post("/login")
@public
@validate_request(LoginRequest)
@document_response(Envelope[LoginData])
async def login(data: LoginRequest):
    """Log in with username and password; returns an access and a refresh token."""
    rt = current()
    ip, agent = _client()
    allowed, retry = await rt.limiter.hit(f"login:{ip}", rt.settings.login_rate_limit)
    if not allowed:
        raise ApiError(429, RATE_LIMIT_EXCEEDED, "too many login attempts", {"retry_after": retry},
                       {"Retry-After": str(retry)})
    user = await User.filter(username=data.username).first()
    if user is not None:
        await _locked(user)
    if not await verify_password(user.password_hash if user else None, data.password):
        await _record_failure(user, data.username)
        raise ApiError(401, INVALID_CREDENTIALS, "invalid username or password")
    if not user.is_active:
        await audit(f"login refused: {user.username} is inactive", action="login_failed", level="WARNING",
                    module="auth", user_id=user.id, username=user.username, status_code=401)
        raise ApiError(401, INVALID_CREDENTIALS, "invalid username or password")
    now = utcnow()
    await User.filter(id=user.id).update(failed_logins=0, locked_until=None, last_login=now)
    tokens = await service.open_session(user, ip, agent)
    await audit(f"user {user.username} logged in", action="login", module="auth", user_id=user.id,
                username=user.username, status_code=200)
    user_data = {"id": user.id, "username": user.username, "email": user.email, "role": user.role,
                 "permissions": service.permissions_of(user)}
    return ok({**tokens, "user": user_data}, "login successful")


@bp.post("/refresh")
@public
@optional_body
@document_request(RefreshRequest)
@document_response(Envelope[RefreshData])
async def refresh():
    """Exchange a refresh token (Bearer header or ``refresh_token`` in the body) for a new pair.

    The refresh token rotates: the old one stops working, and presenting it again revokes the
    whole session.
    """
    token = service.bearer(request.headers.get("Authorization"))
    body = await request.get_json(silent=True)
    if body is not None:
        try:
            parsed = RefreshRequest.model_validate(body)
        except ValueError:
            raise ApiError(422, "VALIDATION_ERROR", "validation failed",
                           {"field": "refresh_token", "message": "invalid body"}) from None
        token = parsed.refresh_token or token
    if not token:
        raise ApiError(401, INVALID_CREDENTIALS, "refresh token required")
    return ok(await service.rotate(token), "token refreshed")


@bp.post("/logout")
@document_response(MessageEnvelope)
async def logout():
    """Revoke the current session: its access and refresh tokens stop working everywhere."""
    principal = current_principal()
    await service.revoke_sessions([principal.session_id], "logout")
    await audit(f"user {principal.user.username} logged out", action="logout", module="auth",
                user_id=principal.id, username=principal.user.username, status_code=200)
    return ok(None, "logged out")


@bp.get("/me")
@document_response(Envelope[MeData])
async def me():
    """The authenticated user, with the permissions of its role."""
    principal = current_principal()
    data = serialize_user(principal.user)
    data["permissions"] = sorted(principal.permissions)
    return ok(data)
