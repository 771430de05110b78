"""/auth: login (throttled), refresh, logout (revoking), change-password, me."""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import document_request, document_response, validate_request

from ipv6wgm.api import (
    INVALID_CREDENTIALS,
    RATE_LIMIT_EXCEEDED,
    ApiError,
    Envelope,
    MessageEnvelope,
    conflict,
    invalid,
    ok,
    utcnow,
)
from ipv6wgm.auth import service, totp
from ipv6wgm.auth.schemas import (
    LoginData,
    LoginRequest,
    MeData,
    PasswordChange,
    RefreshData,
    RefreshRequest,
    TotpCode,
    TotpDisable,
    TotpEnabled,
    TotpSetup,
)
from ipv6wgm.auth.throttle import source_of
from ipv6wgm.logs.service import audit
from ipv6wgm.openapi import optional_body
from ipv6wgm.runtime import current
from ipv6wgm.security.passwords import verify_password
from ipv6wgm.security.rbac import current_principal, public
from ipv6wgm.users.models import User
from ipv6wgm.users.service import serialize_user, set_password

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _client() -> tuple[str | None, str | None]:
    return request.remote_addr, request.headers.get("User-Agent")


async def _refuse_login(username: str, user: User | None, why: str, delay: int) -> ApiError:
    """Audit why a login failed (admins see it in the log); the caller gets the same answer for
    every reason, so it learns neither whether the account exists nor whether it is throttled."""
    name = user.username if user else username[:64]
    await audit(f"login failed for {name}: {why}", action="login_failed", level="WARNING", module="auth",
                user_id=user.id if user else None, username=name, status_code=401,
                details={"reason": why, **({"throttled_for_s": delay} if delay else {})})
    return ApiError(401, INVALID_CREDENTIALS, "invalid username or password")


@bp.post("/login")
@public
@validate_request(LoginRequest)
@document_response(Envelope[LoginData])
async def login(data: LoginRequest):
    """Log in with username and password; returns an access and a refresh token.

    Failures are throttled per account and source address (see README, "Security model"); a
    throttled, unknown, inactive or wrong-password login all answer the same 401.
    """
    rt = current()
    ip, agent = _client()
    allowed, retry = await rt.limiter.hit(f"login:{source_of(ip)}", rt.settings.login_rate_limit)
    if not allowed:
        raise ApiError(429, RATE_LIMIT_EXCEEDED, "too many login attempts", {"retry_after": retry},
                       {"Retry-After": str(retry)})
    throttle = service.throttle()
    user = await User.filter(username=data.username).first()
    blocked = await throttle.blocked(data.username, ip)
    # Always exactly one Argon2 verification (a dummy hash for unknown users), blocked or not.
    valid = await verify_password(user.password_hash if user else None, data.password)
    if not valid:
        delay = await throttle.failed(data.username, ip)
        why = "unknown user" if user is None else "throttled" if blocked else "wrong password"
        raise await _refuse_login(data.username, user, why, delay)
    if blocked:
        raise await _refuse_login(data.username, user, "throttled (right password)", 0)
    if not user.is_active:
        raise await _refuse_login(data.username, user, "inactive account", 0)
    if await totp.enabled(user.id):
        if not data.totp_code:
            raise ApiError(401, INVALID_CREDENTIALS, "second factor required",
                           {"field": "totp_code", "totp_required": True})
        if not await totp.verify(user.id, data.totp_code):
            delay = await throttle.failed(data.username, ip)
            await _refuse_login(data.username, user, "wrong second factor", delay)
            raise ApiError(401, INVALID_CREDENTIALS, "invalid second factor",
                           {"field": "totp_code", "totp_required": True})
    await throttle.succeeded(data.username, ip)
    await User.filter(id=user.id).update(last_login=utcnow())
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
    """Exchange a token for new ones.

    A refresh token (Bearer header or ``refresh_token`` in the body) rotates: the old one stops
    working, and presenting it again revokes the whole session. A live access token in the
    Bearer header (as the spec shows) gets a new access token; the presented one stops working,
    and this works only within the session's absolute lifetime (the refresh-token lifetime
    counted from the login).
    """
    token = service.bearer(request.headers.get("Authorization"))
    raw = await request.get_data()
    if raw.strip():
        try:
            parsed = RefreshRequest.model_validate(await request.get_json(force=True))
        except ValueError:
            raise ApiError(422, "VALIDATION_ERROR", "validation failed",
                           {"field": "refresh_token", "message": "invalid body"}) from None
        if parsed.refresh_token:
            return ok(await service.rotate(parsed.refresh_token), "token refreshed")
    if not token:
        raise ApiError(401, INVALID_CREDENTIALS, "refresh token required")
    return ok(await service.refresh(token), "token refreshed")


@bp.post("/logout")
@document_response(MessageEnvelope)
async def logout():
    """Revoke the current session: its access and refresh tokens stop working everywhere."""
    principal = current_principal()
    await service.revoke_sessions([principal.session_id], "logout")
    await audit(f"user {principal.user.username} logged out", action="logout", module="auth",
                user_id=principal.id, username=principal.user.username, status_code=200)
    return ok(None, "logged out")


@bp.post("/change-password")
@validate_request(PasswordChange)
@document_response(MessageEnvelope)
async def change_password(data: PasswordChange):
    """Change your own password. Every other session of yours ends; this one stays.

    A wrong ``current_password`` answers 422 and changes nothing; failures count towards the
    same per-address throttle as logins.
    """
    principal = current_principal()
    user = await User.filter(id=principal.id, is_active=True).first()  # the cached copy may hold an older hash
    if user is None:
        raise ApiError(401, INVALID_CREDENTIALS, "session is no longer valid")
    ip = request.remote_addr
    throttle = service.throttle()
    blocked = await throttle.blocked(user.username, ip)
    valid = await verify_password(user.password_hash, data.current_password)
    if blocked or not valid:
        delay = 0 if valid else await throttle.failed(user.username, ip)
        await audit(f"password change refused for {user.username}", action="password_change_failed",
                    level="WARNING", module="auth", user_id=user.id, username=user.username, status_code=422,
                    details={"reason": "throttled" if blocked else "wrong current password",
                             **({"throttled_for_s": delay} if delay else {})})
        raise invalid("current_password", "the current password was not accepted")
    try:
        revoked = await set_password(user, data.new_password, keep_session=principal.session_id,
                                     reason="password changed")
    except ValueError as exc:
        raise invalid("new_password", str(exc)) from None
    await audit(f"user {user.username} changed their password", action="password_changed", module="auth",
                user_id=user.id, username=user.username, status_code=200, details={"sessions_revoked": revoked})
    return ok({"sessions_revoked": revoked}, "password changed")


@bp.get("/me")
@document_response(Envelope[MeData])
async def me():
    """The authenticated user, with the permissions of its role."""
    principal = current_principal()
    data = serialize_user(principal.user)
    data["permissions"] = sorted(principal.permissions)
    return ok(data)


@bp.post("/totp/setup")
@document_response(Envelope[TotpSetup])
async def totp_setup():
    """Start enrolling a TOTP second factor: a new secret and its ``otpauth://`` URI (for a QR
    code). Nothing changes at login until ``/auth/totp/enable`` confirms a first code."""
    principal = current_principal()
    if await totp.enabled(principal.id):
        raise conflict("a second factor is already enabled; disable it first")
    return ok(await totp.begin(principal.user), "scan the code, then confirm one code")


@bp.post("/totp/enable")
@validate_request(TotpCode)
@document_response(Envelope[TotpEnabled])
async def totp_enable(data: TotpCode):
    """Confirm the pending secret with a current code: from now on ``/auth/login`` asks for a
    code. Answers the recovery codes, once (each works once, in place of a code)."""
    principal = current_principal()
    codes = await totp.enable(principal.id, data.code)
    if codes is None:
        raise invalid("code", "the code does not match the pending secret (or nothing is pending)")
    await audit(f"user {principal.user.username} enabled a second factor", action="totp_enabled", module="auth",
                user_id=principal.id, username=principal.user.username, status_code=200)
    return ok({"recovery_codes": codes}, "second factor enabled")


@bp.post("/totp/disable")
@validate_request(TotpDisable)
@document_response(MessageEnvelope)
async def totp_disable(data: TotpDisable):
    """Remove the second factor; needs the account's password."""
    principal = current_principal()
    user = await User.filter(id=principal.id, is_active=True).first()
    if user is None or not await verify_password(user.password_hash, data.password):
        raise invalid("password", "the password was not accepted")
    await totp.disable(principal.id)
    await audit(f"user {user.username} disabled the second factor", action="totp_disabled", level="WARNING",
                module="auth", user_id=user.id, username=user.username, status_code=200)
    return ok(None, "second factor disabled")
