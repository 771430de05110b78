"""Request and response models of /users. Requests forbid unknown fields (no mass assignment)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from ipv6wgm.api import PageQuery, Pagination

Role = Literal["admin", "manager", "user"]
USERNAME = r"^[A-Za-z0-9_.@-]{3,64}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME)
    email: EmailStr | None = None
    password: str = Field(min_length=8, max_length=128)
    full_name: str | None = Field(None, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")
    role: Role = "user"
    is_active: bool = True


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr | None = None
    full_name: str | None = Field(None, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")
    role: Role | None = None
    is_active: bool | None = None


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: str = Field(min_length=8, max_length=128)


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
