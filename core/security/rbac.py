"""Roles, permissions and the per-object ownership helper every plugin uses.

Default-deny: a route is reachable only by an authenticated principal unless marked
``@public``; a permission is held only if the role was granted it (admins hold ``*``). A
``user`` sees only the objects it owns; asking for someone else's object answers 404 so that
ids of other users' objects cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from quart import g

from ipv6wgm.api import INVALID_CREDENTIALS, ApiError, forbidden, not_found

ROLES = ("admin", "manager", "user")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Principal:
    user: Any
    session_id: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> int:
        return int(self.user.id)

    @property
    def role(self) -> str:
        return str(self.user.role)

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions


def role_permissions(permissions: Iterable[Any]) -> dict[str, frozenset[str]]:
    """Map each role to the permissions the registry grants it."""
    table: dict[str, set[str]] = {role: set() for role in ROLES}
    table["admin"].add("*")
    for spec in permissions:
        for role in spec.roles:
            if role in table:
                table[role].add(spec.name)
    return {role: frozenset(perms) for role, perms in table.items()}


def public(func: F) -> F:
    """Mark a route as reachable without a token (login, health, OpenAPI)."""
    func._ipv6wgm_public = True  # type: ignore[attr-defined]
    return func


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        raise ApiError(401, INVALID_CREDENTIALS, "authentication required")
    return principal


def require(*permissions: str) -> Callable[[F], F]:
    """Route decorator: every listed permission is needed, else 403."""

    def decorator(func: F) -> F:
        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            missing = [p for p in permissions if not principal.can(p)]
            if missing:
                raise forbidden(f"missing permission: {', '.join(missing)}")
            return await func(*args, **kwargs)

        wrapper._ipv6wgm_permissions = permissions  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def scope_owned(queryset: Any, principal: Principal, all_permission: str, owner_field: str = "owner_id") -> Any:
    """Narrow a queryset to the principal's own objects unless it may see everyone's."""
    if principal.can(all_permission):
        return queryset
    return queryset.filter(**{owner_field: principal.id})


def owned_conditions(principal: Principal, all_permission: str, owner_field: str = "owner_id") -> list[Any]:
    """``scope_owned`` for ``ipv6wgm.paging``: the conditions that narrow a page to the
    principal's own objects (none when it may see everyone's)."""
    from ipv6wgm.paging import Eq

    return [] if principal.can(all_permission) else [Eq(owner_field, principal.id)]


async def get_owned(
    queryset: Any, object_id: Any, principal: Principal, all_permission: str, what: str,
    owner_field: str = "owner_id",
) -> Any:
    """Fetch one object the principal may see, else 404 (never 403: no existence oracle)."""
    obj = await scope_owned(queryset, principal, all_permission, owner_field).filter(id=object_id).first()
    if obj is None:
        raise not_found(what)
    return obj
