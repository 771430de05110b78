"""/users: CRUD, search and role filters, password reset.

Rules beyond permissions: nobody changes their own role or activation (an admin cannot lock
themselves out, a user cannot promote or re-activate itself), nobody deletes themselves, and a
user without ``users.read`` sees only its own record (others answer 404).
"""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request

from ipv6wgm.accounts import AccountEvent, announce
from ipv6wgm.api import Envelope, MessageEnvelope, conflict, forbidden, invalid, not_found, ok
from ipv6wgm.auth.service import revoke_user_sessions, user_changed
from ipv6wgm.logs.service import audit
from ipv6wgm.paging import Condition, Eq, Search, render_page
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import current_principal, require
from ipv6wgm.users import service
from ipv6wgm.users.models import User
from ipv6wgm.users.schemas import (
    PasswordReset,
    UserCreate,
    UserDeleteQuery,
    UserList,
    UserOut,
    UserQuery,
    UserUpdate,
)

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")


def _perms(user: User) -> list[str]:
    return sorted(current().role_permissions.get(user.role, frozenset()))


async def _visible(user_id: int) -> User:
    principal = current_principal()
    if user_id != principal.id and not principal.can("users.read"):
        raise not_found("user")
    user = await User.filter(id=user_id).first()
    if user is None:
        raise not_found("user")
    return user


@bp.get("")
@require("users.read")
@validate_querystring(UserQuery)
@document_response(Envelope[UserList])
async def list_users(query_args: UserQuery):
    """List users, newest last, with search (username, email, name) and role filters."""
    where: list[Condition] = []
    if query_args.search:
        where.append(Search(("username", "email", "full_name"), query_args.search))
    if query_args.role:
        where.append(Eq("role", query_args.role))
    rows, page = await render_page(User, service.USER_COLUMNS, query_args, service.render_user_row, where=where)
    return ok({"users": rows, "pagination": page})


@bp.post("")
@require("users.write")
@validate_request(UserCreate)
@document_response(Envelope[UserOut], 201)
async def create_user(data: UserCreate):
    """Create a user."""
    principal = current_principal()
    if data.role == "admin" and principal.role != "admin":
        raise forbidden("only admins create admins")
    try:
        user = await service.create_user(
            data.username, data.password, role=data.role, email=data.email, full_name=data.full_name,
            is_active=data.is_active,
        )
    except ValueError as exc:
        raise invalid("password", str(exc)) from None
    return ok(service.serialize_user(user, _perms(user)), "user created", 201)


@bp.get("/<int:user_id>")
@document_response(Envelope[UserOut])
async def get_user(user_id: int):
    """One user; users without ``users.read`` may read only themselves."""
    user = await _visible(user_id)
    return ok(service.serialize_user(user, _perms(user)))


@bp.put("/<int:user_id>")
@validate_request(UserUpdate)
@document_response(Envelope[UserOut])
async def update_user(user_id: int, data: UserUpdate):
    """Update email, name, role or activation."""
    principal = current_principal()
    user = await _visible(user_id)
    # Only what differs is a change: sending a value it already has (e.g. your own email) is a
    # no-op; a null role or activation means "leave it".
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items()
               if v != getattr(user, k) and not (v is None and k in ("role", "is_active"))}
    own = user.id == principal.id
    if own and ("role" in changes or "is_active" in changes):
        raise forbidden("you cannot change your own role or activation")
    if not own and not principal.can("users.write"):
        raise forbidden("missing permission: users.write")
    if changes.get("role") == "admin" and principal.role != "admin":
        raise forbidden("only admins grant the admin role")
    if user.role == "admin" and not own and principal.role != "admin":
        raise forbidden("only admins change admins")
    if changes.get("email") and await User.filter(email__iexact=changes["email"]).exclude(id=user.id).exists():
        raise conflict("email is already in use", field="email")
    if not changes:
        return ok(service.serialize_user(user, _perms(user)), "user unchanged")
    was_active = user.is_active
    for key, value in changes.items():
        setattr(user, key, value)
    await user.save()
    if changes.get("is_active") is False or "role" in changes:
        await revoke_user_sessions(user.id, "account changed")
    await user_changed(user.id)
    if was_active != user.is_active:
        kind = "reactivated" if user.is_active else "deactivated"
        await announce(AccountEvent(user.id, kind, actor_id=principal.id))
    return ok(service.serialize_user(user, _perms(user)), "user updated")


@bp.delete("/<int:user_id>")
@require("users.write")
@validate_querystring(UserDeleteQuery)
@document_response(MessageEnvelope)
async def delete_user(user_id: int, query_args: UserDeleteQuery):
    """Delete a user, end its sessions and remove what it owns (clients, their peers, prefixes).

    ``keep_objects=true`` keeps the user's objects instead, disabled and without an owner.
    """
    principal = current_principal()
    user = await _visible(user_id)
    if user.id == principal.id:
        raise conflict("you cannot delete yourself")
    if user.role == "admin" and principal.role != "admin":
        raise forbidden("only admins delete admins")
    await revoke_user_sessions(user.id, "account deleted")
    await announce(AccountEvent(user.id, "deleted", keep_objects=query_args.keep_objects, actor_id=principal.id))
    await user.delete()
    await user_changed(user.id)
    return ok(None, "user deleted")


@bp.post("/<int:user_id>/reset-password")
@require("users.write")
@validate_request(PasswordReset)
@document_response(MessageEnvelope)
async def reset_password(user_id: int, data: PasswordReset):
    """Set a new password and end the user's sessions; resetting your own keeps only the
    session you are calling from."""
    principal = current_principal()
    user = await _visible(user_id)
    own = user.id == principal.id
    if user.role == "admin" and not own and principal.role != "admin":
        raise forbidden("only admins reset admin passwords")
    try:
        revoked = await service.set_password(user, data.new_password, reason="password reset",
                                             keep_session=principal.session_id if own else None)
    except ValueError as exc:
        raise invalid("new_password", str(exc)) from None
    await audit(f"password of {user.username} reset by {principal.user.username}", action="password_reset",
                module="users", user_id=principal.id, username=principal.user.username, status_code=200,
                details={"target_user_id": user.id, "target_username": user.username, "sessions_revoked": revoked})
    return ok(None, "password reset")
