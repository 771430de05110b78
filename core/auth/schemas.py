"""Request and response models of /auth."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ipv6wgm.api import StrictBody
from ipv6wgm.users.schemas import PASSWORD, UserOut


class LoginRequest(StrictBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(None, max_length=32, description="the 6-digit code or a recovery code, "
                                                                    "for accounts with a second factor")


class TotpCode(StrictBody):
    code: str = Field(min_length=6, max_length=32)


class TotpDisable(StrictBody):
    password: str = Field(min_length=1, max_length=256)


class TotpSetup(BaseModel):
    secret: str
    otpauth_uri: str


class TotpEnabled(BaseModel):
    recovery_codes: list[str]


class RefreshRequest(StrictBody):
    refresh_token: str | None = Field(None, max_length=4096)


class PasswordChange(StrictBody):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=128, pattern=PASSWORD)


class TokenUser(BaseModel):
    id: int
    username: str
    email: str | None
    role: str
    permissions: list[str]


class LoginData(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    refresh_expires_in: int
    user: TokenUser


class RefreshData(BaseModel):
    """A refresh token gets a new pair; an access token gets a new access token only."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None


class MeData(UserOut):
    permissions: list[str]
