"""User rules shared by the routes and the CLI (first admin, ``ipv6wgm admin create``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from ipv6wgm.api import conflict, iso
from ipv6wgm.security.passwords import check_policy, hash_password
from ipv6wgm.users.models import User

USER_COLUMNS = ("id", "username", "email", "full_name", "role", "is_active", "last_login", "created_at",
                "updated_at")


def render_user_row(user: Any, now: datetime) -> tuple[dict[str, Any], None]:
    """A ``USER_COLUMNS`` row in its API form, for ``ipv6wgm.paging.render_page`` (nothing in
    it depends on the time)."""
    return serialize_user(user), None


def serialize_user(user: Any, permissions: list[str] | None = None) -> dict[str, Any]:
    data = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "last_login": iso(user.last_login),
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }
    if permissions is not None:
        data["permissions"] = permissions
    return data


async def create_user(
    username: str, password: str, *, role: str = "user", email: str | None = None,
    full_name: str | None = None, is_active: bool = True,
) -> User:
    problem = check_policy(password)
    if problem:
        raise ValueError(problem)
    if await User.filter(username=username).exists():
        raise conflict(f"username {username!r} is taken", field="username")
    if email and await User.filter(email__iexact=email).exists():
        raise conflict("email is already in use", field="email")
    try:
        return await User.create(
            username=username, email=email, full_name=full_name, role=role, is_active=is_active,
            password_hash=await hash_password(password),
        )
    except IntegrityError:
        raise conflict("username or email is already in use") from None


async def set_password(user: User, new_password: str, *, keep_session: str | None, reason: str) -> int:
    """Store a new password and end the user's sessions, except ``keep_session`` (the caller's,
    when it changed its own password). Returns how many sessions were revoked. Raises
    ``ValueError`` when the password breaks the policy (nothing is changed then)."""
    from ipv6wgm.auth.service import revoke_user_sessions, user_changed

    problem = check_policy(new_password)
    if problem:
        raise ValueError(problem)
    user.password_hash = await hash_password(new_password)
    await user.save(update_fields=["password_hash", "updated_at"])
    revoked = await revoke_user_sessions(user.id, reason, keep=keep_session)
    await user_changed(user.id)
    return revoked


async def ensure_first_admin(username: str | None, password: str | None, email: str | None = None) -> User | None:
    """Create the admin from settings only while no admin exists: never a default password."""
    if not username or not password:
        return None
    if await User.filter(role="admin").exists():
        return None
    return await create_user(username, password, role="admin", email=email, full_name="Administrator")
