"""Request and response models of /users. Requests forbid unknown fields (no mass assignment)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ipv6wgm.api import PageQuery, Pagination, StrictBody

Role = Literal["admin", "manager", "user"]
USERNAME = r"^[A-Za-z0-9_.@-]{3,64}$"
# Printable and not blank; the same rule as security.passwords.check_policy, stated in the schema.
# Deliberately simple: deliverability is the mail server's business, not ours.
EMAIL = r"^[^@ \x00-\x1f\x7f]{1,64}@[^@ \x00-\x1f\x7f]+\.[^@ \x00-\x1f\x7f.]+$"
# Stored lower-cased, so uniqueness is the same on SQLite (case-sensitive) and MariaDB (not).
Email = Annotated[str, Field(max_length=254, pattern=EMAIL), AfterValidator(str.lower)]
PASSWORD = r"^[^\x00-\x1f\x7f]*[^ \x00-\x1f\x7f][^\x00-\x1f\x7f]*$"  # noqa: S105 - a pattern, not a secret


class UserCreate(StrictBody):
    username: str = Field(pattern=USERNAME)
    email: Email | None = None
    password: str = Field(min_length=8, max_length=128, pattern=PASSWORD)
    full_name: str | None = Field(None, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")
    role: Role = "user"
    is_active: bool = True


class UserUpdate(StrictBody):
    email: Email | None = None
    full_name: str | None = Field(None, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")
    role: Role | None = None
    is_active: bool | None = None


class PasswordReset(StrictBody):
    new_password: str = Field(min_length=8, max_length=128, pattern=PASSWORD)


class UserDeleteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keep_objects: bool = Field(False, description="keep the user's objects, disabled and without an owner")


class UserQuery(PageQuery):
    search: str | None = Field(None, max_length=64)
    role: Role | None = None


class UserOut(BaseModel):
    id: int
    username: str
    email: str | None
    full_name: str | None
    role: str
    is_active: bool
    permissions: list[str] | None = None
    last_login: str | None
    created_at: str | None
    updated_at: str | None


class UserList(BaseModel):
    users: list[UserOut]
    pagination: Pagination
